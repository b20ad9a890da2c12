"""Dependency checks — PostgreSQL, the cache, the embedder, the LLM — in one place.

``AsyncMemory.health()`` runs them; every memory kind's ``health_check()``, the
compatibility classes, the orchestrator and the REST readiness probe report
what it returns. Each check measures its own latency, is bounded by a timeout
and never raises for a failing dependency: it reports it.

Statuses: ``ok``; ``degraded`` (works, but not fully: e.g. Redis reachable
while this process still bypasses it); ``down``; ``disabled`` (not configured,
and nothing needs it: no LLM means the offline summariser and extractor);
``unchecked`` (configured, but probing costs money or time: an LLM is only
called when asked with ``probe_llm=True``).

With read replicas configured, ``read_replicas`` reports them as the last probe found
them (reads fall back to the primary, so a standby down only degrades).

Overall: ``unhealthy`` when PostgreSQL or the embedder is down (nothing can be
stored or searched), ``degraded`` when the cache, the LLM or the read replicas are not
``ok`` / ``disabled`` / ``unchecked`` (every call still works, slower or offline),
else ``healthy``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from mnemo.errors import MnemoError
from mnemo.providers.embedders.base import Embedder
from mnemo.providers.llms.base import LLM, ChatMessage
from mnemo.store.cache import Cache
from mnemo.store.postgres.database import Database
from mnemo.store.postgres.replicas import ReplicaSet

DependencyStatus = Literal["ok", "degraded", "down", "disabled", "unchecked"]
OverallStatus = Literal["healthy", "degraded", "unhealthy"]
DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class DependencyHealth:
    """One dependency's state, how long the probe took, and a human-readable detail."""

    status: DependencyStatus
    latency_ms: float | None
    detail: str

    def as_dict(self) -> dict[str, Any]:
        latency = round(self.latency_ms, 3) if self.latency_ms is not None else None
        return {"status": self.status, "latency_ms": latency, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class HealthReport:
    """Every dependency's health and the overall status they add up to."""

    status: OverallStatus
    checked_at: datetime
    dependencies: dict[str, DependencyHealth]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``status``, ``timestamp`` (ISO 8601) and ``dependencies``."""
        return {
            "status": self.status,
            "timestamp": self.checked_at.isoformat(),
            "dependencies": {name: dep.as_dict() for name, dep in self.dependencies.items()},
        }


async def check_dependencies(
    db: Database,
    cache: Cache,
    embedder: Embedder,
    llm: LLM | None,
    *,
    probe_llm: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
) -> HealthReport:
    """Probe all four dependencies concurrently and sum them up."""
    postgresql, cache_health, embedding, language = await asyncio.gather(
        check_postgres(db, timeout),
        check_cache(cache),
        check_embedder(embedder, timeout),
        check_llm(llm, probe=probe_llm, timeout=timeout),
    )
    dependencies = {
        "postgresql": postgresql,
        "cache": cache_health,
        "embedder": embedding,
        "llm": language,
    }
    if db.replicas is not None:
        dependencies["read_replicas"] = check_replicas(db.replicas)
    return HealthReport(overall_status(dependencies), datetime.now(UTC), dependencies)


def overall_status(dependencies: dict[str, DependencyHealth]) -> OverallStatus:
    """``unhealthy`` if PostgreSQL or the embedder is down; ``degraded`` if anything else
    is down or degraded; else ``healthy``."""
    statuses = {name: dep.status for name, dep in dependencies.items()}
    if "down" in (statuses.get("postgresql"), statuses.get("embedder")):
        return "unhealthy"
    if any(status in ("down", "degraded") for status in statuses.values()):
        return "degraded"
    return "healthy"


def check_replicas(replicas: ReplicaSet) -> DependencyHealth:
    """The read replicas as their last probe found them (no round trip): ``ok`` when all
    are in use, ``degraded`` when some, ``down`` when none (reads then use the primary)."""
    in_use = sum(s.usable for s in replicas.standbys)
    status: DependencyStatus = (
        "ok" if in_use == len(replicas.standbys) else "degraded" if in_use else "down"
    )
    detail = "; ".join(f"{s.name}: {s.reason}" for s in replicas.standbys)
    return DependencyHealth(status, None, f"{in_use} of {len(replicas.standbys)} in use: {detail}")


async def check_postgres(db: Database, timeout: float = DEFAULT_TIMEOUT) -> DependencyHealth:
    """``SELECT 1`` through the pool."""
    return await _timed(lambda: db.fetch("SELECT 1"), "PostgreSQL answered", timeout)


async def check_cache(cache: Cache) -> DependencyHealth:
    """The cache's own probe (Redis PING; the in-process cache is always ok)."""
    health = await cache.health()
    return DependencyHealth(health.status, health.latency_ms, health.detail)


async def check_embedder(embedder: Embedder, timeout: float = DEFAULT_TIMEOUT) -> DependencyHealth:
    """Embed one short query with the configured model."""
    detail = f"{embedder.model_id} embedded a probe"
    health = await _timed(lambda: embedder.embed_many(["health check"], "query"), detail, timeout)
    if health.status == "ok" and embedder.runtime:  # known once the probe loaded the model
        return replace(health, detail=f"{detail} on {embedder.runtime}")
    return health


async def check_llm(
    llm: LLM | None, *, probe: bool = False, timeout: float = DEFAULT_TIMEOUT
) -> DependencyHealth:
    """``disabled`` without an LLM; ``unchecked`` unless ``probe`` asks for a one-token call."""
    if llm is None:
        return DependencyHealth("disabled", None, "no LLM configured; offline summaries")
    if not probe:
        return DependencyHealth("unchecked", None, f"{llm.model_id} configured, not called")
    request = [ChatMessage.user("Reply with OK.")]
    return await _timed(
        lambda: llm.complete(request, max_tokens=1), f"{llm.model_id} answered", timeout
    )


async def _timed(
    probe: Callable[[], Awaitable[object]], detail: str, timeout: float
) -> DependencyHealth:
    start = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            await probe()
    except TimeoutError:
        return DependencyHealth("down", None, f"no answer within {timeout:g} s")
    except MnemoError as exc:
        return DependencyHealth("down", None, str(exc))
    return DependencyHealth("ok", (time.perf_counter() - start) * 1000, detail)
