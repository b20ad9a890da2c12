"""``mnemo db upgrade | current | distribute | index-scopes``: the schema, by Alembic
revision, on Citus, and the vector indexes of large scopes."""

from __future__ import annotations

import argparse
from typing import Any

import psycopg

from mnemo.cli._common import add_store_options, config_from, print_rows
from mnemo.store.postgres.distribute import distribute
from mnemo.store.postgres.migrate import current_revision, migrate
from mnemo.store.postgres.server import embedded_database_url


def register(subparsers: Any) -> None:
    db = subparsers.add_parser("db", help="database schema")
    actions = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = actions.add_parser("upgrade", help="apply migrations (also done on every open)")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(handler=_upgrade)
    current = actions.add_parser("current", help="print the database's revision")
    current.set_defaults(handler=_current)
    spread = actions.add_parser(
        "distribute",
        help="distribute the schema over a Citus cluster (run on the coordinator; idempotent)",
    )
    spread.add_argument(
        "--shard-count",
        type=int,
        default=None,
        help="shards of the user-scoped tables when first distributed (default: citus.shard_count)",
    )
    spread.set_defaults(handler=_distribute)
    scopes = actions.add_parser(
        "index-scopes",
        help="build now the vector index of every scope holding at least --min-rows rows "
        "(searches ask a worker for it on their own; this is for a store just filled in bulk)",
    )
    scopes.add_argument(
        "--min-rows",
        type=int,
        default=None,
        help="rows of memories or turns a scope needs (default: SearchConfig.indexed_scope_rows)",
    )
    scopes.set_defaults(handler=_index_scopes)
    for parser in (upgrade, current, spread, scopes):
        add_store_options(parser)


def _database_url(args: argparse.Namespace) -> str:
    config = config_from(args)
    return config.database_url or embedded_database_url(config.data_dir)


def _upgrade(args: argparse.Namespace) -> int:
    print(f"at revision {migrate(_database_url(args), args.revision)}")
    return 0


def _current(args: argparse.Namespace) -> int:
    with psycopg.connect(_database_url(args)) as conn:
        print(current_revision(conn) or "none (empty database)")
    return 0


def _distribute(args: argparse.Namespace) -> int:
    url = _database_url(args)
    migrate(url)
    report = distribute(url, shard_count=args.shard_count)
    print(f"citus {report.citus_version}, {report.workers} worker(s), {report.shard_count} shards")
    for label, tables in (
        ("reference tables made", report.reference),
        ("tables distributed by user_id", report.distributed),
        ("already in place", report.already),
        ("kept on the coordinator", report.local),
    ):
        if tables:
            print(f"{label}: {', '.join(tables)}")
    return 0


def _index_scopes(args: argparse.Namespace) -> int:
    from mnemo.memory import Memory

    with Memory(config_from(args)) as memory:
        built = memory.index_large_scopes(args.min_rows)
    print(f"built {len(built)} scope index(es)")
    print_rows(built, ["tenant_id", "user_id", "table", "rows"])
    return 0
