"""Scopes and read-through caching for the kinds whose rows change in place
(the key-value store, settings, working memory).

Each (scope, kind, namespace) is one cache namespace: every write commits to
PostgreSQL, then invalidates that cache namespace, so the next read reloads. The
cached payload is the loaded records as JSON, misses included (``null``). Expiry
is checked again on every cached read, so a row whose ``expires_at`` passed is
never served, whatever the cache's TTL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any, TypeVar

from mnemo.core.records import Scope
from mnemo.core.validation import require_scope_id
from mnemo.errors import InvalidInput
from mnemo.store.cache import (
    Cache,
    CacheKey,
    CacheNamespace,
    MemoryCache,
    cache_namespace,
    decode_json,
    encode_json,
)

T = TypeVar("T")

#: Record fields holding datetimes (ISO 8601 strings in the cache).
_TIME_FIELDS = frozenset(
    {"created_at", "updated_at", "expires_at", "last_accessed_at", "at", "oldest", "newest"}
)


def make_scope(tenant_id: str, user_id: object, agent_id: object, session_id: object) -> Scope:
    """A checked scope: ``user_id`` required; agent and session optional."""
    return Scope(
        tenant_id=tenant_id,
        user_id=require_scope_id(user_id, "user_id") or "",
        agent_id=require_scope_id(agent_id, "agent_id", required=False),
        session_id=require_scope_id(session_id, "session_id", required=False),
    )


def scope_namespace(scope: Scope, kind: str, namespace: str) -> CacheNamespace:
    """The cache namespace of one (scope, kind, namespace). ``a`` / ``s`` mark an
    absent agent / session; a present one is ``a=<id>``, so the two never collide."""
    agent = "a" if scope.agent_id is None else f"a={scope.agent_id}"
    session = "s" if scope.session_id is None else f"s={scope.session_id}"
    return cache_namespace(scope.tenant_id, scope.user_id, kind, agent, session, namespace)


def optional_text(value: object, name: str, *, max_chars: int = 1_000) -> str | None:
    """An optional short text (actor, reason): ``None`` or a string without NUL."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_chars or "\x00" in value:
        raise InvalidInput(f"{name} must be a string of at most {max_chars} characters")
    return value


def is_expired(expires_at: datetime | None) -> bool:
    return expires_at is not None and expires_at <= datetime.now(UTC)


class RecordCache:
    """JSON payloads read through the engine's cache, with a TTL suited to it.

    With Redis every process sees every invalidation, so entries may live long;
    the in-process cache cannot hear other processes' writes, so its entries live
    only ``local_ttl`` seconds.
    """

    def __init__(self, cache: Cache, *, shared_ttl: float, local_ttl: float) -> None:
        self._cache = cache
        self._ttl = local_ttl if isinstance(cache, MemoryCache) else shared_ttl

    async def read(self, key: CacheKey, load: Callable[[], Awaitable[Any]]) -> Any:
        """The cached payload of ``key``, else ``await load()`` (cached unless a write
        invalidated the namespace meanwhile)."""

        async def fill() -> bytes:
            return encode_json(await load())

        data = await self._cache.get_or_load(key, fill, self._ttl)
        return None if data is None else decode_json(data)

    async def invalidate(self, namespace: CacheNamespace) -> None:
        """Call after committing a write of ``namespace`` to PostgreSQL."""
        await self._cache.invalidate(namespace)


def to_json(record: Any) -> dict[str, Any]:
    """A record dataclass as a JSON object (datetimes as ISO 8601)."""
    out: dict[str, Any] = {}
    for item in fields(record):
        value = getattr(record, item.name)
        out[item.name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def from_json(cls: Callable[..., T], data: dict[str, Any]) -> T:
    """The record ``to_json`` encoded."""
    values = {
        name: datetime.fromisoformat(value) if name in _TIME_FIELDS and value else value
        for name, value in data.items()
    }
    return cls(**values)


__all__ = [
    "RecordCache",
    "from_json",
    "is_expired",
    "make_scope",
    "optional_text",
    "scope_namespace",
    "to_json",
]
