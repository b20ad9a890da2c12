"""Working memory: namespaced scratch memory for a running task.

Items are JSON values under a key, with an importance in [0, 1] and a lifetime;
a namespace holds at most ``capacity`` items, and a write that goes beyond it
evicts — in the same transaction — by policy: ``importance`` (least important
first, then least recently used), ``lru`` or ``fifo``. The item being written is
never the one evicted. Each namespace also keeps a reasoning chain: ordered steps
with their intermediate results, read back in order.

Scope is a user, optionally narrowed to an agent and/or a session; reads match it
exactly, so another user, agent or session never sees an item. Reads go through
the engine's cache; each write commits to PostgreSQL and then invalidates the
namespace's cached reads. Reads of items are counted in this process and written
with the next write (or ``flush``), which is when LRU order matters.
"""

from __future__ import annotations

import builtins
import enum
from typing import Any, cast

from mnemo.config import WorkingMemoryConfig
from mnemo.core.records import Scope
from mnemo.core.tokens import TokenCounter, default_token_counter
from mnemo.core.validation import require_content, require_limit, require_metadata, require_unit
from mnemo.core.values import (
    EncodedValue,
    encode_value,
    require_key,
    require_name,
    require_ttl,
    require_utf8,
)
from mnemo.core.working import (
    EVICTION_POLICIES,
    ChainStep,
    EvictionPolicy,
    PutResult,
    WorkingContext,
    WorkingItem,
    WorkingNamespaceStats,
    pack_working_context,
)
from mnemo.errors import InvalidInput
from mnemo.kinds._cached import (
    RecordCache,
    from_json,
    is_expired,
    make_scope,
    scope_namespace,
    to_json,
)
from mnemo.kinds.working_reads import AccessLog, flush_reads, flush_reads_on_close
from mnemo.store.cache import Cache, CacheNamespace
from mnemo.store.postgres.working import NewItem, NewStep, WorkingStore

MAX_CAPACITY = 100_000
MAX_LIST = 10_000
MAX_CONTEXT_TOKENS = 1_000_000
_CACHE_KIND = "working"
_MAX_METADATA_BYTES = 64_000


class _Default(enum.Enum):
    TTL = "default"


#: ``ttl_seconds`` left out: the configured ``WorkingMemoryConfig.ttl_seconds``.
DEFAULT_TTL = _Default.TTL


class WorkingMemoryService:
    """Scratch items with capacity eviction, and reasoning chains (see the module docstring)."""

    def __init__(
        self,
        store: WorkingStore,
        cache: Cache,
        config: WorkingMemoryConfig,
        tenant_id: str,
        access: AccessLog,
    ) -> None:
        self._store = store
        self._cache = RecordCache(
            cache, shared_ttl=config.cache_ttl_seconds, local_ttl=config.local_cache_ttl_seconds
        )
        self._config = config
        self._tenant_id = tenant_id
        self._access = access

    async def put(
        self,
        namespace: str,
        key: str,
        value: Any,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        importance: float = 0.5,
        ttl_seconds: float | _Default | None = DEFAULT_TTL,
        capacity: int | None = None,
        policy: str | None = None,
    ) -> PutResult:
        """Store (or overwrite) an item, then evict beyond ``capacity`` by ``policy``.

        ``ttl_seconds``: ``None`` never expires; left out, the configured default.
        ``capacity`` / ``policy`` default to the configuration. Returns the item
        and the keys evicted.
        """
        scope = make_scope(self._tenant_id, user_id, agent_id, session_id)
        namespace, item = (
            require_name(namespace),
            self._new_item(key, value, importance, ttl_seconds),
        )
        checked_capacity, checked_policy = self._capacity(capacity), self._policy(policy)
        touches = self._access.drain(self._tenant_id)
        try:
            stored, evicted = await self._store.put(
                scope,
                namespace,
                item,
                capacity=checked_capacity,
                policy=checked_policy,
                touches=touches,
            )
        except BaseException:
            self._access.restore(touches)
            raise
        await self._cache.invalidate(_cache_namespace(scope, namespace))
        return PutResult(stored, tuple(evicted))

    async def get(
        self,
        namespace: str,
        key: str,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> WorkingItem | None:
        """The item, or ``None`` if absent or expired. Counts as a use (LRU)."""
        scope = make_scope(self._tenant_id, user_id, agent_id, session_id)
        namespace, key = require_name(namespace), require_key(key)
        cache_key = _cache_namespace(scope, namespace).key(f"i.{key}")
        data = await self._cache.read(cache_key, lambda: self._load_item(scope, namespace, key))
        item = None if data is None else from_json(WorkingItem, data)
        if item is None or is_expired(item.expires_at):
            return None
        self._access.record(scope, namespace, key)
        return item

    async def list(
        self,
        namespace: str,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        limit: int = 1_000,
    ) -> builtins.list[WorkingItem]:
        """Live items, most important first (then most recently used)."""
        scope = make_scope(self._tenant_id, user_id, agent_id, session_id)
        namespace, limit = require_name(namespace), require_limit(limit, maximum=MAX_LIST)
        cache_key = _cache_namespace(scope, namespace).key(f"items.{limit}")
        data = await self._cache.read(cache_key, lambda: self._load_items(scope, namespace, limit))
        items = [from_json(WorkingItem, entry) for entry in data]
        return [item for item in items if not is_expired(item.expires_at)]

    async def remove(
        self,
        namespace: str,
        key: str,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> bool:
        """Delete an item; ``False`` if it was absent or expired."""
        scope = make_scope(self._tenant_id, user_id, agent_id, session_id)
        namespace, key = require_name(namespace), require_key(key)
        removed = await self._store.remove(scope, namespace, key)
        await self._cache.invalidate(_cache_namespace(scope, namespace))
        return removed

    async def append_step(
        self,
        namespace: str,
        step: str,
        result: Any = None,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        importance: float = 0.5,
        metadata: dict[str, Any] | None = None,
        ttl_seconds: float | _Default | None = DEFAULT_TTL,
    ) -> ChainStep:
        """Append a step (what was done or thought) and its intermediate ``result``
        (any JSON) to the namespace's reasoning chain; positions count from 1."""
        scope = make_scope(self._tenant_id, user_id, agent_id, session_id)
        namespace = require_name(namespace)
        new_step = NewStep(
            step=require_utf8(
                require_content(step, max_chars=self._config.max_value_bytes, name="step"), "step"
            ),
            result=self._encode(result, "result"),
            metadata=self._encode(
                require_metadata(metadata, max_bytes=_MAX_METADATA_BYTES), "metadata"
            ),
            importance=require_unit(importance, "importance"),
            ttl=self._ttl(ttl_seconds),
        )
        max_steps = self._config.max_chain_steps
        stored = await self._store.append_step(scope, namespace, new_step, max_steps=max_steps)
        await self._cache.invalidate(_cache_namespace(scope, namespace))
        return stored

    async def get_chain(
        self,
        namespace: str,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> builtins.list[ChainStep]:
        """The reasoning chain's live steps, in order."""
        scope = make_scope(self._tenant_id, user_id, agent_id, session_id)
        namespace = require_name(namespace)
        cache_key = _cache_namespace(scope, namespace).key("chain")
        data = await self._cache.read(cache_key, lambda: self._load_chain(scope, namespace))
        steps = [from_json(ChainStep, entry) for entry in data]
        return [step for step in steps if not is_expired(step.expires_at)]

    async def clear_chain(
        self,
        namespace: str,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> int:
        """Delete the reasoning chain (items stay); the number of steps removed."""
        counts = await self._clear(namespace, "step", user_id, agent_id, session_id)
        return counts["steps"]

    async def clear(
        self,
        namespace: str,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> dict[str, int]:
        """Delete the namespace's items and chain; ``{"items": n, "steps": m}``."""
        return await self._clear(namespace, None, user_id, agent_id, session_id)

    async def context(
        self,
        namespace: str,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        max_tokens: int = 1_000,
        include_chain: bool = True,
        counter: TokenCounter | None = None,
    ) -> WorkingContext:
        """The most important items and the latest chain steps within ``max_tokens``,
        rendered for a prompt (token counts by ``counter``, default OpenAI's o200k)."""
        max_tokens = require_limit(max_tokens, "max_tokens", maximum=MAX_CONTEXT_TOKENS)
        items = await self.list(
            namespace, user_id=user_id, agent_id=agent_id, session_id=session_id, limit=MAX_LIST
        )
        chain = []
        if include_chain:
            chain = await self.get_chain(
                namespace, user_id=user_id, agent_id=agent_id, session_id=session_id
            )
        return pack_working_context(items, chain, max_tokens, counter or default_token_counter())

    async def namespace_stats(
        self,
        *,
        user_id: str,
        namespace: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> builtins.list[WorkingNamespaceStats]:
        """Per namespace of the user: items, steps, bytes, mean importance, oldest,
        newest, next expiry. ``None`` agent / session counts all of the user's."""
        scope = make_scope(self._tenant_id, user_id, agent_id, session_id)
        checked = None if namespace is None else require_name(namespace)
        return await self._store.namespace_stats(scope, checked)

    async def cleanup_expired(self) -> dict[str, int]:
        """Delete this tenant's expired items and steps (already invisible); the count."""
        return {"working_items": await self._store.cleanup_expired(self._tenant_id)}

    async def flush(self) -> None:
        """Write the reads recorded in this process (access counts and times) now."""
        await flush_reads(self._store, self._access)

    # -- helpers ---------------------------------------------------------------------

    def _new_item(self, key: object, value: object, importance: object, ttl: object) -> NewItem:
        return NewItem(
            key=require_key(key),
            value=self._encode(value, "value"),
            importance=require_unit(importance, "importance"),
            ttl=self._ttl(ttl),
        )

    def _encode(self, value: object, what: str) -> EncodedValue:
        max_bytes = self._config.max_value_bytes
        return encode_value(value, max_bytes=max_bytes, compress_min_bytes=None, what=what)

    def _ttl(self, value: object) -> float | None:
        if value is DEFAULT_TTL:
            return self._config.ttl_seconds
        return require_ttl(value)

    def _capacity(self, value: object) -> int:
        if value is None:
            return self._config.capacity_limit
        return require_limit(value, "capacity", maximum=MAX_CAPACITY)

    def _policy(self, value: object) -> EvictionPolicy:
        chosen = self._config.eviction_policy if value is None else value
        if chosen not in EVICTION_POLICIES:
            raise InvalidInput(
                f"policy must be one of {list(EVICTION_POLICIES)}, got {chosen!r:.40}"
            )
        return cast(EvictionPolicy, chosen)

    async def _clear(
        self,
        namespace: object,
        kind: str | None,
        user_id: object,
        agent_id: object,
        session_id: object,
    ) -> dict[str, int]:
        scope = make_scope(self._tenant_id, user_id, agent_id, session_id)
        checked = require_name(namespace)
        counts = await self._store.clear(scope, checked, kind)
        await self._cache.invalidate(_cache_namespace(scope, checked))
        return counts

    async def _load_item(self, scope: Scope, namespace: str, key: str) -> dict[str, Any] | None:
        item = await self._store.get(scope, namespace, key)
        return None if item is None else to_json(item)

    async def _load_items(
        self, scope: Scope, namespace: str, limit: int
    ) -> builtins.list[dict[str, Any]]:
        return [to_json(i) for i in await self._store.list_items(scope, namespace, limit=limit)]

    async def _load_chain(self, scope: Scope, namespace: str) -> builtins.list[dict[str, Any]]:
        return [to_json(step) for step in await self._store.chain(scope, namespace)]


def _cache_namespace(scope: Scope, namespace: str) -> CacheNamespace:
    return scope_namespace(scope, _CACHE_KIND, namespace)


__all__ = [
    "DEFAULT_TTL",
    "AccessLog",
    "WorkingMemoryService",
    "flush_reads",
    "flush_reads_on_close",
]
