"""Writes that must not slow a search: access statistics and embedding-cache fills.

They are buffered in memory and flushed in batches by one task on the engine's
event loop, every ``interval`` seconds and on close. Losing a buffer (the
process dies) loses only statistics and cache entries, never user data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, defaultdict
from datetime import UTC, datetime

from mnemo.core.records import Scope
from mnemo.errors import MnemoError
from mnemo.store.postgres.embedding_cache import CachedEmbedding, EmbeddingCacheStore
from mnemo.store.postgres.memories import AccessHit, MemoryStore

logger = logging.getLogger(__name__)


class BackgroundWriter:
    """Buffers access hits and cache entries; flushes them off the hot path."""

    def __init__(
        self, memories: MemoryStore, cache: EmbeddingCacheStore, *, interval: float
    ) -> None:
        self._memories = memories
        self._cache = cache
        self._interval = interval
        self._hits: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
        self._last_hit: dict[tuple[str, str, str], datetime] = {}
        self._cache_items: dict[tuple[str, str], list[CachedEmbedding]] = defaultdict(list)
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="mnemo-background-writer")

    def record_access(self, tenant_id: str, user_id: str, memory_ids: list[str]) -> None:
        now = datetime.now(UTC)
        for memory_id in memory_ids:
            self._hits[tenant_id][(user_id, memory_id)] += 1
            self._last_hit[(tenant_id, user_id, memory_id)] = now

    def record_hits(self, scope: Scope, memory_ids: list[str]) -> None:
        """``record_access`` for the memories a search in ``scope`` returned."""
        self.record_access(scope.tenant_id, scope.user_id, memory_ids)

    def cache_embedding(self, tenant_id: str, model: str, item: CachedEmbedding) -> None:
        self._cache_items[(tenant_id, model)].append(item)

    def forget_user(self, tenant_id: str, user_id: str) -> None:
        """Drop buffered writes of a user who is being deleted."""
        for key in [k for k in self._hits[tenant_id] if k[0] == user_id]:
            del self._hits[tenant_id][key]
        for items in self._cache_items.values():
            items[:] = [i for i in items if i.user_id != user_id]

    async def flush(self) -> None:
        """Write everything buffered so far."""
        async with self._lock:
            hits, self._hits = self._hits, defaultdict(Counter)
            last_hit, self._last_hit = self._last_hit, {}
            cache_items, self._cache_items = self._cache_items, defaultdict(list)
            for tenant_id, counter in hits.items():
                if counter:
                    await self._memories.record_access(
                        tenant_id, _access_hits(tenant_id, counter, last_hit)
                    )
            for (tenant_id, model), items in cache_items.items():
                if items:
                    await self._cache.put_many(tenant_id, model, items)

    async def aclose(self) -> None:
        if self._task is not None:
            # Stopped by a flag, not by cancelling: a flush under way finishes, and
            # Python 3.11's asyncio.wait_for (inside the connection pool) cannot
            # swallow a cancellation and leave the loop running.
            self._stopping.set()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self._flush_logging_failures()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._stopping.wait()
            if not self._stopping.is_set():
                await self._flush_logging_failures()

    async def _flush_logging_failures(self) -> None:
        try:
            await self.flush()
        except MnemoError as exc:  # statistics only: the next flush starts afresh
            logger.warning("could not write access statistics / embedding cache: %s", exc)


def _access_hits(
    tenant_id: str,
    counter: Counter[tuple[str, str]],
    last_hit: dict[tuple[str, str, str], datetime],
) -> list[AccessHit]:
    return [
        AccessHit(user_id, memory_id, hits, last_hit[(tenant_id, user_id, memory_id)])
        for (user_id, memory_id), hits in sorted(counter.items())
    ]
