"""``mnemo keys create | list | revoke``: the REST service's API keys, one tenant each.

A key made with ``--user`` is bound to that user: on ``/mcp`` it acts for that user
only, and the REST routes (which take a user in each request) refuse it.

These commands connect as mnemo's own database user (the owner of the tables),
not through the service's row-level-security role, since they manage every
tenant. The key's text is printed once, by ``create``; only its hash is stored
(HMAC-SHA256 under ``MNEMO_API_KEY_PEPPER``, which the service must share).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from mnemo.cli._common import add_store_options, print_rows
from mnemo.service.auth import issue_key
from mnemo.service.settings import ServiceSettings
from mnemo.store.postgres.api_keys import ApiKeyStore
from mnemo.store.postgres.database import Database
from mnemo.store.postgres.migrate import migrate
from mnemo.store.postgres.pool import open_pool
from mnemo.store.postgres.server import embedded_database_url

T = TypeVar("T")
KEY_COLUMNS = [
    "prefix", "tenant_id", "bound_user_id", "name", "created_at", "last_used_at", "revoked_at",
]  # fmt: skip


def register(subparsers: Any) -> None:
    keys = subparsers.add_parser("keys", help="API keys of the REST service")
    actions = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a key for a tenant (printed once)")
    create.add_argument("--tenant", required=True, help="tenant id (created if new)")
    create.add_argument("--name", help="what the key is for")
    create.add_argument(
        "--user", help="bind the key to this user: it acts for no one else (MCP at /mcp only)"
    )
    create.set_defaults(handler=_create)
    listing = actions.add_parser("list", help="list keys (prefix, tenant, use, revocation)")
    listing.add_argument("--tenant", help="only this tenant's keys")
    listing.set_defaults(handler=_list)
    revoke = actions.add_parser("revoke", help="revoke a key by its prefix or id")
    revoke.add_argument("key", help="the key's prefix (as listed) or id")
    revoke.set_defaults(handler=_revoke)
    for parser in (create, listing, revoke):
        add_store_options(parser)


def _create(args: argparse.Namespace) -> int:
    settings = ServiceSettings()

    async def create(store: ApiKeyStore) -> None:
        new, record = await issue_key(
            store, args.tenant, name=args.name, pepper=settings.api_key_pepper, user_id=args.user
        )
        print(new.key)
        bound = f", user {record.bound_user_id}" if record.bound_user_id else ""
        print(
            f"# tenant {record.tenant_id}{bound}, prefix {record.prefix}: "
            "keep it now, it is shown once"
        )

    _run(args, create)
    return 0


def _list(args: argparse.Namespace) -> int:
    async def listing(store: ApiKeyStore) -> None:
        keys = await store.list_keys(args.tenant)
        print_rows(keys, KEY_COLUMNS)

    _run(args, listing)
    return 0


def _revoke(args: argparse.Namespace) -> int:
    async def revoke(store: ApiKeyStore) -> None:
        record = await store.revoke(args.key)
        print(f"revoked {record.prefix} of tenant {record.tenant_id}")

    _run(args, revoke)
    return 0


def _run(args: argparse.Namespace, action: Callable[[ApiKeyStore], Awaitable[T]]) -> T:
    settings = ServiceSettings()
    url = args.database_url or settings.resolved_database_url()
    if url is None:
        url = embedded_database_url(_data_dir(args, settings))
    migrate(url)

    async def run() -> T:
        pool = await open_pool(url, min_size=1, max_size=1)
        try:
            return await action(ApiKeyStore(Database(pool)))
        finally:
            await pool.close()

    return asyncio.run(run())


def _data_dir(args: argparse.Namespace, settings: ServiceSettings) -> Path | None:
    return Path(args.data_dir) if args.data_dir else settings.data_dir
