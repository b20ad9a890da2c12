"""What every cache offers: scoped keys, the ``Cache`` protocol, and value codecs.

Key scheme
----------
Every key lives in a **namespace** that starts with the tenant and the user::

    cache_namespace("acme", "u42", "buffer", "s7")      # tenant, user, then any parts
    cache_key("acme", "u42", "buffer", "s7", "recent")  # its parent is the namespace above

A namespace is the unit of two operations:

* ``invalidate(ns)`` makes every key *directly* in ``ns`` a miss — in Redis with
  one command, however many keys it holds. Writers call it after committing to
  PostgreSQL. Keys of child namespaces are not affected: give data that changes
  together one namespace (``cache_key``'s rule — a key's namespace is its parent —
  makes that the natural choice).
* ``delete_prefix(ns)`` physically removes ``ns`` and everything below it. With
  ``cache_namespace(tenant, user)`` it erases one user (GDPR deletion).

Why namespaces with generations rather than a per-user set of keys: a set must be
maintained on every write (one more command, one more structure that can drift
from the keys it lists, and that grows while keys expire), whereas a generation
is one small value per namespace that is read in the same round trip as the entry
and replaced on invalidation. It also closes the classic cache-aside race — a
reader that loaded the old row before a writer's commit cannot store it after the
writer's invalidation — because ``get_or_load`` stores its value only if the
namespace is unchanged since the miss. Physical erasure, which is rare, walks the
keys under the user's prefix instead (Redis ``SCAN``), so it needs no index either.
Each component is percent-encoded, so ids containing ``:`` or glob characters can
neither collide with other keys nor widen a prefix match.

Every entry expires: ``ttl`` defaults to the cache's ``default_ttl`` and is capped
at its ``max_ttl``. The cap bounds how long anything can outlive a lost
invalidation (see ``mnemo.store.cache.redis``).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import quote

import numpy as np
import numpy.typing as npt

from mnemo.errors import DimensionMismatch, InvalidInput

#: An async function returning the value to cache (or ``None``: nothing to cache).
Loader = Callable[[], Awaitable[bytes | None]]

HealthStatus = Literal["ok", "degraded", "down"]


def _encode_part(part: str | int) -> str:
    text = str(part)
    if not text:
        raise InvalidInput("cache key parts must not be empty")
    return quote(text, safe="")


@dataclass(frozen=True, slots=True)
class CacheNamespace:
    """A group of cache keys: ``(tenant_id, user_id, *parts)``, compared by value."""

    parts: tuple[str, ...]
    #: The parts percent-encoded and joined by ``:`` — unique per namespace.
    path: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.parts) < 2:
            raise InvalidInput("a cache namespace needs at least a tenant and a user")
        object.__setattr__(self, "path", ":".join(_encode_part(p) for p in self.parts))

    @property
    def tenant_id(self) -> str:
        return self.parts[0]

    @property
    def user_id(self) -> str:
        return self.parts[1]

    def child(self, *parts: str | int) -> CacheNamespace:
        """The namespace ``parts`` below this one."""
        return CacheNamespace((*self.parts, *(str(p) for p in parts)))

    def key(self, name: str | int) -> CacheKey:
        """The key ``name`` directly in this namespace."""
        return CacheKey(self, str(name))

    def contains(self, other: CacheNamespace) -> bool:
        """Whether ``other`` is this namespace or one below it."""
        return other.parts[: len(self.parts)] == self.parts


@dataclass(frozen=True, slots=True)
class CacheKey:
    """One cache entry's name within its namespace."""

    namespace: CacheNamespace
    name: str
    #: The namespace path, ``:``, and the encoded name — unique per key.
    path: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", f"{self.namespace.path}:{_encode_part(self.name)}")


def cache_namespace(tenant_id: str, user_id: str, *parts: str | int) -> CacheNamespace:
    """The namespace of one user's keys, optionally narrowed by ``parts``."""
    return CacheNamespace((tenant_id, user_id, *(str(p) for p in parts)))


def cache_key(tenant_id: str, user_id: str, *parts: str | int) -> CacheKey:
    """A key of one user; its namespace is everything but the last part.

    ``cache_key("t", "u", "settings", "active")`` lives in
    ``cache_namespace("t", "u", "settings")``; at least one part is required.
    """
    if not parts:
        raise InvalidInput("a cache key needs at least one part after the user")
    return cache_namespace(tenant_id, user_id, *parts[:-1]).key(parts[-1])


@dataclass(frozen=True, slots=True)
class CacheHealth:
    """The cache's state for readiness checks. ``degraded`` still serves every call."""

    status: HealthStatus
    latency_ms: float | None
    detail: str


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counters since the cache was opened, for metrics. Hits and misses count keys."""

    hits: int = 0
    misses: int = 0
    #: Backend calls that failed (each turned into a miss or a no-op).
    errors: int = 0
    #: Calls answered without trying the backend because its circuit was open.
    short_circuits: int = 0
    #: Entries dropped to respect a size bound (in-process cache only).
    evictions: int = 0
    #: Invalidations and deletions waiting to be applied once the backend is back.
    pending_invalidations: int = 0
    #: ``closed`` (backend in use), ``open`` (bypassed), or ``recovering``.
    circuit: str = "closed"


@dataclass(frozen=True, slots=True)
class TtlPolicy:
    """How long entries live: a default, and a cap that no entry may exceed."""

    default: float = 3600.0
    maximum: float = 86400.0

    def __post_init__(self) -> None:
        if not 0 < self.default <= self.maximum:
            raise InvalidInput("TTLs must satisfy 0 < default_ttl <= max_ttl")

    def resolve(self, ttl: float | None) -> float:
        """Seconds to keep an entry: ``ttl`` (or the default), capped at the maximum."""
        if ttl is None:
            return self.default
        if ttl <= 0:
            raise InvalidInput("ttl must be positive")
        return min(ttl, self.maximum)


class Cache(Protocol):
    """A best-effort cache in front of PostgreSQL.

    Contract shared by every implementation: no method raises because the backend
    is unavailable (reads become misses, writes no-ops); invalidations and
    deletions are never silently lost (an implementation that cannot apply one
    now stops serving entries until it has); every entry expires.
    """

    async def get(self, key: CacheKey) -> bytes | None:
        """The cached value, or ``None`` on a miss."""
        ...

    async def get_many(self, keys: Iterable[CacheKey]) -> dict[CacheKey, bytes]:
        """The cached values among ``keys``; misses are absent from the result."""
        ...

    async def get_or_load(
        self, key: CacheKey, load: Loader, ttl: float | None = None
    ) -> bytes | None:
        """The cached value, else ``await load()``, cached unless ``key``'s namespace
        was invalidated (or deleted) while loading. Exceptions from ``load`` propagate."""
        ...

    async def set(self, key: CacheKey, value: bytes, ttl: float | None = None) -> None:
        """Store ``value`` unconditionally (last writer wins).

        Safe for values that never change under a key (content-addressed data
        such as query embeddings). For data a writer may change concurrently,
        use ``get_or_load`` to fill and ``invalidate`` after writing.
        """
        ...

    async def set_many(self, items: Mapping[CacheKey, bytes], ttl: float | None = None) -> None:
        """``set`` for several keys with one TTL."""
        ...

    async def delete(self, *keys: CacheKey) -> None:
        """Remove entries. A fill already loading may store its value again
        afterwards; to invalidate after a write, use ``invalidate``."""
        ...

    async def invalidate(self, *namespaces: CacheNamespace) -> None:
        """Make every key directly in each namespace a miss, including values of
        fills already loading. Call after committing the write to PostgreSQL."""
        ...

    async def delete_prefix(self, prefix: CacheNamespace) -> int:
        """Remove ``prefix`` and every namespace below it; the number of entries
        removed now (work the backend could not do yet is done before it is used
        again)."""
        ...

    async def health(self) -> CacheHealth:
        """Probe the backend; never raises."""
        ...

    def stats(self) -> CacheStats:
        """A snapshot of the counters."""
        ...

    async def aclose(self) -> None:
        """Release connections and background tasks. Idempotent."""
        ...


_JSON_PLAIN = b"J"
_JSON_ZLIB = b"Z"


def encode_json(value: Any, *, compress_min_bytes: int = 1024) -> bytes:
    """``value`` as compact UTF-8 JSON behind a one-byte header, zlib-compressed
    when the JSON is at least ``compress_min_bytes`` long."""
    data = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    if len(data) >= compress_min_bytes:
        return _JSON_ZLIB + zlib.compress(data, 1)
    return _JSON_PLAIN + data


def decode_json(data: bytes) -> Any:
    """The value ``encode_json`` encoded; ``InvalidInput`` for anything else."""
    header, body = data[:1], data[1:]
    if header not in (_JSON_PLAIN, _JSON_ZLIB):
        raise InvalidInput("not an encoded JSON cache value")
    try:
        return json.loads(zlib.decompress(body) if header == _JSON_ZLIB else body)
    except (zlib.error, ValueError) as exc:
        raise InvalidInput(f"corrupt JSON cache value: {exc}") from exc


def encode_vector(vector: npt.ArrayLike) -> bytes:
    """A 1-D vector as raw little-endian float32 (4 bytes per dimension)."""
    array = np.asarray(vector, dtype="<f4")
    if array.ndim != 1:
        raise InvalidInput("a cached vector must be one-dimensional")
    return array.tobytes()


def decode_vector(data: bytes, dim: int | None = None) -> npt.NDArray[np.float32]:
    """The (writable) float32 vector ``encode_vector`` encoded; checks ``dim`` if given."""
    if len(data) % 4:
        raise InvalidInput("a cached vector's length must be a multiple of 4 bytes")
    vector = np.frombuffer(data, dtype="<f4").astype(np.float32)
    if dim is not None and vector.shape[0] != dim:
        raise DimensionMismatch(f"cached vector has {vector.shape[0]} dimensions, expected {dim}")
    return vector


__all__ = [
    "Cache",
    "CacheHealth",
    "CacheKey",
    "CacheNamespace",
    "CacheStats",
    "HealthStatus",
    "Loader",
    "TtlPolicy",
    "cache_key",
    "cache_namespace",
    "decode_json",
    "decode_vector",
    "encode_json",
    "encode_vector",
]
