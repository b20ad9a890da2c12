"""What one service process holds: the engine, the authenticator, limits, metrics.

``ServiceState.start`` opens everything in order and ``stop`` releases it; the
app's lifespan calls both. One engine serves every tenant: each request works
on ``engine.for_tenant(principal.tenant_id)``, a view sharing the engine's
pool, embedder and cache, over connections that ``SET ROLE mnemo_service`` and
bind the tenant, so PostgreSQL's row-level security backs every query's own
``tenant_id`` condition.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from typing import Any

import psycopg

from mnemo.config import MnemoConfig
from mnemo.engine import AsyncMemory
from mnemo.errors import ConfigurationError, RateLimited, StoreUnavailable, Unauthenticated
from mnemo.providers.embedders.base import Embedder
from mnemo.providers.llms.base import LLM
from mnemo.service.auth import Authenticator, Principal
from mnemo.service.metrics import InstrumentedEmbedder, InstrumentedLLM, ServiceMetrics
from mnemo.service.ratelimit import LocalLimiter, NoLimit, RateLimiter, RedisLimiter
from mnemo.service.settings import SERVICE_ROLE, AuthMode, ServiceSettings
from mnemo.store.postgres.api_keys import ApiKeyStore
from mnemo.store.postgres.errors import describe_dsn
from mnemo.store.postgres.migrate import migrate
from mnemo.store.postgres.server import embedded_database_url

logger = logging.getLogger("mnemo.service")


@dataclass
class ServiceState:
    """The service's long-lived objects."""

    settings: ServiceSettings
    auth_mode: AuthMode
    engine: AsyncMemory
    metrics: ServiceMetrics
    limiter: RateLimiter
    authenticator: Authenticator | None
    owned: list[Any]

    @classmethod
    async def start(
        cls, settings: ServiceSettings, config: MnemoConfig | None, metrics: ServiceMetrics
    ) -> ServiceState:
        """Migrate, check the service role, open the engine; say how requests are checked."""
        auth_mode = settings.auth_mode()
        config, owned = _instrumented(with_worker_default(config or settings.to_config()), metrics)
        database_url = config.database_url
        if database_url is None:
            database_url = await asyncio.to_thread(embedded_database_url, config.data_dir)
        await asyncio.to_thread(migrate, database_url)
        await asyncio.to_thread(check_service_role, database_url)
        engine = AsyncMemory(replace(config, database_url=database_url, database_role=SERVICE_ROLE))
        await engine.open()
        metrics.subscribe(engine.observers)
        metrics.watch_cache(engine.cache.stats)
        authenticator = None
        if auth_mode == "keys":
            store = ApiKeyStore(engine.db)
            authenticator = Authenticator(
                store, pepper=settings.api_key_pepper, cache_seconds=settings.auth_cache_seconds
            )
        state = cls(
            settings, auth_mode, engine, metrics, _limiter(settings, config), authenticator, owned
        )
        state.announce()
        await state.announce_worker()
        return state

    def announce(self) -> None:
        """Log how this instance checks requests; loudly when it does not."""
        if self.auth_mode == "none":
            logger.warning(
                "UNAUTHENTICATED mode: no API key is asked for and every request acts as tenant "
                "%r. This mode exists only for the embedded local default on loopback; set "
                "MNEMO_AUTH=keys and create keys with `mnemo keys create` for anything else.",
                self.engine.config.tenant_id,
            )
            return
        logger.info("API keys required; tenants isolated by row-level security (%s)", SERVICE_ROLE)
        if not self.settings.api_key_pepper:
            logger.warning("MNEMO_API_KEY_PEPPER is not set: API key hashes are unpeppered")

    async def announce_worker(self) -> None:
        """Log who runs extraction: this process, other workers, or nobody yet."""
        stats = await self.engine.job_stats()
        if stats["in_process_worker"]:
            logger.info(
                "extraction: a worker runs inside this process (the embedded default, as in "
                "the library); it stops with the service. MNEMO_IN_PROCESS_WORKER=false leaves "
                "the jobs to `mnemo worker` instead"
            )
        elif stats["live_workers"]:
            logger.info("extraction: %d live worker(s) on this database", stats["live_workers"])
        else:
            logger.warning(
                "extraction: no live worker on this database, so turns stay queued until "
                "`mnemo worker` runs against it (with the same MNEMO_DATABASE_URL); "
                "MNEMO_IN_PROCESS_WORKER=true runs one inside this process instead"
            )

    async def principal(self, key: str | None) -> Principal:
        """Who sends a request carrying ``key`` (any key is ignored when unauthenticated)."""
        if self.authenticator is None:
            return Principal(tenant_id=self.engine.config.tenant_id, key_id=None)
        try:
            return await self.authenticator.authenticate(key)
        except Unauthenticated:
            self.metrics.auth_failures.inc()
            raise

    async def admit(self, key: str | None) -> Principal:
        """The caller presenting ``key``, within its key's rate limit (``RateLimited``)."""
        caller = await self.principal(key)
        try:
            await self.limiter.check(caller.key_id or f"tenant:{caller.tenant_id}")
        except RateLimited:
            self.metrics.rate_limited.inc()
            raise
        return caller

    async def stop(self) -> None:
        """Flush and release everything, the engine last but one, providers last."""
        if isinstance(self.limiter, RedisLimiter):
            await self.limiter.aclose()
        worker = bool(self.engine.config.lifecycle.in_process_worker)
        if worker:
            logger.info("stopping the in-process extraction worker (running jobs may finish)")
        await self.engine.close()
        if worker:
            logger.info("the in-process extraction worker stopped")
        for provider in self.owned:
            await provider.aclose()


def with_worker_default(config: MnemoConfig) -> MnemoConfig:
    """``config`` with its extraction worker decided: on the embedded default (no
    ``database_url``) a worker runs inside the service, as it does in the library; with
    an external PostgreSQL the default stays ``mnemo worker`` beside the service."""
    if config.lifecycle.in_process_worker is not None:
        return config
    inside = config.database_url is None
    return replace(config, lifecycle=replace(config.lifecycle, in_process_worker=inside))


def check_service_role(database_url: str) -> None:
    """Fail clearly when the service cannot switch its connections to ``mnemo_service``."""
    try:
        with psycopg.connect(database_url, connect_timeout=10) as conn:
            row = conn.execute(
                "SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = %(role)s)"
                " AND pg_has_role(current_user, %(role)s, 'MEMBER')",
                {"role": SERVICE_ROLE},
            ).fetchone()
    except psycopg.Error as exc:
        raise StoreUnavailable(
            f"cannot reach PostgreSQL at {describe_dsn(database_url)}: {exc}"
        ) from exc
    if not row or not row[0]:
        raise ConfigurationError(
            f"the service needs the role {SERVICE_ROLE} (created by mnemo's migrations when "
            "allowed to) and membership in it. As an administrator run: "
            f"CREATE ROLE {SERVICE_ROLE} NOLOGIN; GRANT {SERVICE_ROLE} TO <mnemo's user>; "
            "then start the service again"
        )


def _instrumented(config: MnemoConfig, metrics: ServiceMetrics) -> tuple[MnemoConfig, list[Any]]:
    """The config with its embedder and LLM wrapped for metrics; the providers we loaded."""
    owned: list[Any] = []
    embedder = config.embedder
    if not isinstance(embedder, Embedder):
        from mnemo.providers.embedders.registry import load_embedder

        embedder = load_embedder(embedder, **config.embedder_options)
        owned.append(embedder)
    llm = config.llm
    if isinstance(llm, str):
        from mnemo.providers.llms.registry import load_llm

        llm = load_llm(llm, **config.llm_options)
        owned.append(llm)
    wrapped_llm: LLM | None = InstrumentedLLM(llm, metrics) if llm is not None else None
    return replace(config, embedder=InstrumentedEmbedder(embedder, metrics), llm=wrapped_llm), owned


def _limiter(settings: ServiceSettings, config: MnemoConfig) -> RateLimiter:
    if settings.rate_limit_rps <= 0:
        return NoLimit()
    if config.redis_url:
        return RedisLimiter(config.redis_url, settings.rate_limit_rps, settings.rate_limit_burst)
    return LocalLimiter(settings.rate_limit_rps, settings.rate_limit_burst)
