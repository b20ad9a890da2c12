"""The in-process cache, used when no Redis is configured.

A bounded LRU (by entry count and by total value bytes) with a TTL per entry.
Every method does its work without awaiting, under a ``threading.Lock``, so it is
safe from any number of tasks and from several event loops in different threads.
Expired entries are dropped when read or when the LRU evicts them.

Invalidation is immediate here (there is no backend to lose it): ``invalidate``
deletes the namespace's entries through an index by namespace, and voids the
tickets of fills loading in that namespace so that ``get_or_load`` does not store
a value read before the write it raced with. Tickets exist only while a load is in
flight, so nothing grows with the number of namespaces ever invalidated.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from mnemo.errors import ConfigurationError
from mnemo.store.cache.base import (
    CacheHealth,
    CacheKey,
    CacheNamespace,
    CacheStats,
    Loader,
    TtlPolicy,
)


@dataclass(frozen=True, slots=True)
class MemoryCacheOptions:
    """Bounds of the in-process cache."""

    max_entries: int = 10_000
    max_bytes: int = 64 * 1024 * 1024
    default_ttl: float = 3600.0
    max_ttl: float = 86400.0

    def __post_init__(self) -> None:
        if self.max_entries < 1 or self.max_bytes < 1:
            raise ConfigurationError("max_entries and max_bytes must be positive")
        if not 0 < self.default_ttl <= self.max_ttl:
            raise ConfigurationError("TTLs must satisfy 0 < default_ttl <= max_ttl")


@dataclass(slots=True)
class _Entry:
    value: bytes
    expires_at: float


class MemoryCache:
    """An in-process ``Cache``: a bounded LRU with per-entry TTLs."""

    def __init__(
        self,
        options: MemoryCacheOptions | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._options = options or MemoryCacheOptions()
        self._ttl = TtlPolicy(self._options.default_ttl, self._options.max_ttl)
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[CacheKey, _Entry] = OrderedDict()
        self._by_namespace: dict[CacheNamespace, set[CacheKey]] = {}
        self._loading: dict[CacheNamespace, set[object]] = {}
        self._bytes = 0
        self._hits = 0
        self._misses = 0
        self._evictions = 0

    async def get(self, key: CacheKey) -> bytes | None:
        with self._lock:
            return self._lookup(key, self._clock())

    async def get_many(self, keys: Iterable[CacheKey]) -> dict[CacheKey, bytes]:
        found: dict[CacheKey, bytes] = {}
        with self._lock:
            now = self._clock()
            for key in dict.fromkeys(keys):
                value = self._lookup(key, now)
                if value is not None:
                    found[key] = value
        return found

    async def get_or_load(
        self, key: CacheKey, load: Loader, ttl: float | None = None
    ) -> bytes | None:
        seconds = self._ttl.resolve(ttl)
        with self._lock:
            cached = self._lookup(key, self._clock())
            if cached is not None:
                return cached
            ticket = object()
            self._loading.setdefault(key.namespace, set()).add(ticket)
        try:
            value = await load()
        except BaseException:
            with self._lock:
                self._end_load(key.namespace, ticket)
            raise
        with self._lock:
            if self._end_load(key.namespace, ticket) and value is not None:
                self._store(key, value, self._clock() + seconds)
        return value

    async def set(self, key: CacheKey, value: bytes, ttl: float | None = None) -> None:
        await self.set_many({key: value}, ttl)

    async def set_many(self, items: Mapping[CacheKey, bytes], ttl: float | None = None) -> None:
        expires_at = self._clock() + self._ttl.resolve(ttl)
        with self._lock:
            for key, value in items.items():
                self._store(key, value, expires_at)

    async def delete(self, *keys: CacheKey) -> None:
        with self._lock:
            for key in keys:
                self._remove(key)

    async def invalidate(self, *namespaces: CacheNamespace) -> None:
        with self._lock:
            for namespace in namespaces:
                self._drop_namespace(namespace)

    async def delete_prefix(self, prefix: CacheNamespace) -> int:
        with self._lock:
            under = {ns for ns in (*self._by_namespace, *self._loading) if prefix.contains(ns)}
            return sum(self._drop_namespace(ns) for ns in under)

    async def health(self) -> CacheHealth:
        with self._lock:
            detail = f"in-process cache: {len(self._entries)} entries, {self._bytes} bytes"
        return CacheHealth("ok", 0.0, detail)

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(hits=self._hits, misses=self._misses, evictions=self._evictions)

    async def aclose(self) -> None:
        with self._lock:
            self._entries.clear()
            self._by_namespace.clear()
            self._loading.clear()
            self._bytes = 0

    def __len__(self) -> int:
        """Entries held, including expired ones not yet dropped."""
        return len(self._entries)

    # The helpers below run with the lock held.

    def _lookup(self, key: CacheKey, now: float) -> bytes | None:
        entry = self._entries.get(key)
        if entry is not None and entry.expires_at <= now:
            self._remove(key)
            entry = None
        if entry is None:
            self._misses += 1
            return None
        self._entries.move_to_end(key)
        self._hits += 1
        return entry.value

    def _store(self, key: CacheKey, value: bytes, expires_at: float) -> None:
        self._remove(key)
        if len(value) > self._options.max_bytes:
            return  # Larger than the whole cache: storing it would only evict everything.
        self._entries[key] = _Entry(bytes(value), expires_at)
        self._by_namespace.setdefault(key.namespace, set()).add(key)
        self._bytes += len(value)
        while self._over_bounds():
            self._remove(next(iter(self._entries)))
            self._evictions += 1

    def _over_bounds(self) -> bool:
        options = self._options
        return len(self._entries) > options.max_entries or self._bytes > options.max_bytes

    def _remove(self, key: CacheKey) -> bool:
        entry = self._entries.pop(key, None)
        if entry is None:
            return False
        self._bytes -= len(entry.value)
        siblings = self._by_namespace.get(key.namespace)
        if siblings is not None:
            siblings.discard(key)
            if not siblings:
                del self._by_namespace[key.namespace]
        return True

    def _drop_namespace(self, namespace: CacheNamespace) -> int:
        """Delete the namespace's entries and void its loads; the entries deleted."""
        self._loading.pop(namespace, None)
        keys = self._by_namespace.pop(namespace, set())
        return sum(self._remove(key) for key in keys)

    def _end_load(self, namespace: CacheNamespace, ticket: object) -> bool:
        """Forget a load's ticket; whether it was still valid (not invalidated)."""
        tickets = self._loading.get(namespace)
        if tickets is None or ticket not in tickets:
            return False
        tickets.discard(ticket)
        if not tickets:
            del self._loading[namespace]
        return True


__all__ = ["MemoryCache", "MemoryCacheOptions"]
