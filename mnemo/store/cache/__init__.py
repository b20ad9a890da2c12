"""The cache in front of PostgreSQL: Redis when configured, else in-process.

PostgreSQL stays the source of truth: callers fill with ``get_or_load`` and call
``invalidate`` after committing a write. No cache method raises because its
backend is down; see ``base`` for the key scheme and ``redis`` for the
invalidation design. The Redis client library is imported only when a Redis
cache is asked for, so it stays an optional dependency.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from mnemo.errors import ConfigurationError
from mnemo.store.cache.base import (
    Cache,
    CacheHealth,
    CacheKey,
    CacheNamespace,
    CacheStats,
    Loader,
    cache_key,
    cache_namespace,
    decode_json,
    decode_vector,
    encode_json,
    encode_vector,
)
from mnemo.store.cache.memory import MemoryCache, MemoryCacheOptions

if TYPE_CHECKING:
    from mnemo.store.cache.redis import RedisCache, RedisCacheOptions

Options = TypeVar("Options")


def open_cache(redis_url: str | None, **options: Any) -> Cache:
    """A Redis cache for ``redis_url``, or an in-process one when it is ``None`` or empty.

    ``options`` are the fields of ``RedisCacheOptions`` or ``MemoryCacheOptions``;
    an unknown or invalid option raises ``ConfigurationError``. Nothing connects
    until the first call.
    """
    if not redis_url:
        return MemoryCache(_build(MemoryCacheOptions, options))
    try:
        from mnemo.store.cache.redis import RedisCache, RedisCacheOptions
    except ImportError as exc:
        raise ConfigurationError("a Redis cache needs the 'redis' package") from exc
    return RedisCache(redis_url, _build(RedisCacheOptions, options))


def _build(options_class: type[Options], options: dict[str, Any]) -> Options:
    try:
        return options_class(**options)
    except TypeError as exc:
        raise ConfigurationError(f"invalid cache option: {exc}") from exc


def __getattr__(name: str) -> Any:
    """``RedisCache`` and ``RedisCacheOptions``, imported on first use."""
    if name in ("RedisCache", "RedisCacheOptions"):
        from mnemo.store.cache import redis

        return getattr(redis, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Cache",
    "CacheHealth",
    "CacheKey",
    "CacheNamespace",
    "CacheStats",
    "Loader",
    "MemoryCache",
    "MemoryCacheOptions",
    "RedisCache",
    "RedisCacheOptions",
    "cache_key",
    "cache_namespace",
    "decode_json",
    "decode_vector",
    "encode_json",
    "encode_vector",
    "open_cache",
]
