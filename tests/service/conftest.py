"""The service against the real PostgreSQL (a fresh database per test) and the real Redis.

``service`` runs the app's lifespan and hands out clients over httpx's ASGI
transport; ``keys`` are created as the admin command does. Redis is used under
database 11 with this suite's own key prefix.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mnemo import MnemoConfig
from mnemo.cli.main import main as cli
from mnemo.providers.embedders.base import Embedder
from mnemo.service.app import create_app
from mnemo.service.auth import issue_key
from mnemo.service.settings import ServiceSettings
from mnemo.store.postgres.api_keys import ApiKeyStore
from mnemo.store.postgres.database import Database
from mnemo.store.postgres.pool import open_pool

REDIS_URL = "redis://127.0.0.1:6379/11"
PREFIX = "mnemo-svc-test"
PEPPER = "test-pepper"


@dataclass
class Service:
    """A running app and a way to make clients for it."""

    app: FastAPI
    database_url: str

    def client(self, key: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        transport = httpx.ASGITransport(app=self.app)
        return httpx.AsyncClient(transport=transport, base_url="http://mnemo", headers=headers)

    async def key(
        self, tenant_id: str, name: str | None = None, *, user_id: str | None = None
    ) -> str:
        """A new API key of ``tenant_id`` (bound to ``user_id`` if given), made as
        ``mnemo keys create`` makes it."""
        pool = await open_pool(self.database_url, min_size=1, max_size=1)
        try:
            new, _ = await issue_key(
                ApiKeyStore(Database(pool)), tenant_id, name=name, pepper=PEPPER, user_id=user_id
            )
        finally:
            await pool.close()
        return new.key


def service_settings(database_url: str, **changes: Any) -> ServiceSettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "auth": "keys",
        "api_key_pepper": PEPPER,
        "auth_cache_seconds": 0.0,
        "rate_limit_rps": 0.0,
        **changes,
    }
    return ServiceSettings(**values)


def service_config(database_url: str, embedder: Embedder, **changes: Any) -> MnemoConfig:
    values: dict[str, Any] = {
        "database_url": database_url,
        "embedder": embedder,
        "redis_url": REDIS_URL,
        "cache_options": {"key_prefix": PREFIX},
        "background_flush_seconds": 0.05,
        **changes,
    }
    return MnemoConfig(**values)


@asynccontextmanager
async def attack_service(
    url: str, embedder: Embedder
) -> AsyncIterator[tuple[Service, dict[str, str]]]:
    """The app on ``url`` for the attack suites, and their keys: ``victim`` (tenant
    beta), ``attacker`` (tenant alpha), ``revoked`` (alpha's, revoked by ``mnemo keys
    revoke``) and ``forged`` (the attacker's prefix with another secret)."""
    app = create_app(service_settings(url), config=service_config(url, embedder))
    async with app.router.lifespan_context(app):
        service = Service(app, url)
        keys = {"victim": await service.key("beta"), "attacker": await service.key("alpha")}
        keys["revoked"] = await service.key("alpha", name="to revoke")
        revoke = ["keys", "revoke", keys["revoked"].split("_")[1], "--database-url", url]
        await asyncio.to_thread(cli, revoke)
        keys["forged"] = keys["attacker"][:16] + "A" * 43
        yield service, keys


@pytest.fixture
def start_service(database_url: str, embedder: Embedder) -> Callable[..., Any]:
    """``async with start_service(**settings) as service:`` runs an app with those settings."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def start(config: MnemoConfig | None = None, **settings: Any) -> AsyncIterator[Service]:
        app = create_app(
            service_settings(database_url, **settings),
            config=config or service_config(database_url, embedder),
        )
        async with app.router.lifespan_context(app):
            yield Service(app, database_url)

    return start


@pytest.fixture
async def service(start_service: Callable[..., Any]) -> AsyncIterator[Service]:
    async with start_service() as running:
        yield running
