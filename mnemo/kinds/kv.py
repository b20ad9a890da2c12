"""The key-value store: JSON values per scope and namespace.

``KeyValueService`` (``m.kv``) stores any JSON value under (namespace, key) in a
scope (user, optionally narrowed to an agent and/or a session; reads match the
scope exactly). Values are compressed when large, may expire, and carry a
version for optimistic concurrency (``expected_version``). A change is recorded
in the history when the call asks for it (``versioned=True``), when the key was
versioned before, and always in the ``settings`` namespace.

``SettingsService`` (``m.settings``, in ``mnemo.kinds.settings``) is that
``settings`` namespace.

Reads go through the engine's cache; writes go to PostgreSQL first, then
invalidate the cached namespace.
"""

from __future__ import annotations

import builtins
from typing import Any

from mnemo.config import KeyValueConfig
from mnemo.core.keyvalue import SETTINGS_NAMESPACE, KVChange, KVEntry, KVNamespaceStats
from mnemo.core.records import Scope
from mnemo.core.validation import require_limit
from mnemo.core.values import (
    EncodedValue,
    encode_value,
    require_key,
    require_name,
    require_ttl,
    require_version,
)
from mnemo.errors import InvalidInput
from mnemo.kinds._cached import (
    RecordCache,
    from_json,
    is_expired,
    make_scope,
    optional_text,
    scope_namespace,
    to_json,
)
from mnemo.store.cache import Cache, CacheKey, CacheNamespace
from mnemo.store.postgres.kv import KeyRef, KeyValueStore, WriteOptions

MAX_LIST = 10_000
_CACHE_KIND = "kv"


class KeyValueService:
    """JSON values per scope and namespace (see the module docstring)."""

    def __init__(
        self, store: KeyValueStore, cache: Cache, config: KeyValueConfig, tenant_id: str
    ) -> None:
        self._store = store
        self._cache = RecordCache(
            cache, shared_ttl=config.cache_ttl_seconds, local_ttl=config.local_cache_ttl_seconds
        )
        self._config = config
        self._tenant_id = tenant_id

    async def get(
        self,
        namespace: str,
        key: str,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        default: Any = None,
    ) -> Any:
        """The key's value, or ``default`` when it is absent or expired."""
        entry = await self.entry(
            namespace, key, user_id=user_id, agent_id=agent_id, session_id=session_id
        )
        return default if entry is None else entry.value

    async def entry(
        self,
        namespace: str,
        key: str,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> KVEntry | None:
        """The key's value with its version and timestamps, or ``None``."""
        ref = self._ref(namespace, key, user_id, agent_id, session_id)
        data = await self._cache.read(_entry_key(ref), lambda: self._load_entry(ref))
        entry = None if data is None else from_json(KVEntry, data)
        return None if entry is None or is_expired(entry.expires_at) else entry

    async def set(
        self,
        namespace: str,
        key: str,
        value: Any,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        ttl_seconds: float | None = None,
        expected_version: int | None = None,
        versioned: bool = False,
        actor: str | None = None,
        reason: str | None = None,
    ) -> KVEntry:
        """Store ``value`` (any JSON) and return the entry with its new version.

        ``ttl_seconds`` makes it expire (``None``: never). ``expected_version``
        makes the write conditional (``0``: only if the key does not exist);
        ``Conflict`` if the key's version differs. ``actor`` and ``reason`` go to
        the history of versioned keys.
        """
        ref = self._ref(namespace, key, user_id, agent_id, session_id)
        encoded = self._encode(value)
        versioned = versioned or ref.namespace == SETTINGS_NAMESPACE
        options = self._options(expected_version, versioned, actor, reason, ttl_seconds)
        entry = await self._store.set(ref, encoded, options)
        await self._cache.invalidate(_cache_namespace(ref))
        return entry

    async def delete(
        self,
        namespace: str,
        key: str,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        expected_version: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> bool:
        """Remove the key; ``False`` if it was absent or expired. Versioned keys
        record the deletion (their history is kept)."""
        ref = self._ref(namespace, key, user_id, agent_id, session_id)
        options = self._options(expected_version, False, actor, reason, None)
        removed = await self._store.delete(ref, options)
        await self._cache.invalidate(_cache_namespace(ref))
        return removed

    async def list(
        self,
        namespace: str,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        limit: int = 1_000,
    ) -> builtins.list[KVEntry]:
        """The namespace's live entries in key order, at most ``limit``."""
        scope = make_scope(self._tenant_id, user_id, agent_id, session_id)
        namespace, limit = require_name(namespace), require_limit(limit, maximum=MAX_LIST)
        key = scope_namespace(scope, _CACHE_KIND, namespace).key(f"list.{limit}")
        data = await self._cache.read(key, lambda: self._load_list(scope, namespace, limit))
        entries = [from_json(KVEntry, item) for item in data]
        return [entry for entry in entries if not is_expired(entry.expires_at)]

    async def values(
        self,
        namespace: str,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> dict[str, Any]:
        """The namespace's live values by key."""
        entries = await self.list(
            namespace, user_id=user_id, agent_id=agent_id, session_id=session_id, limit=MAX_LIST
        )
        return {entry.key: entry.value for entry in entries}

    async def history(
        self,
        namespace: str,
        key: str | None = None,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        limit: int = 1_000,
    ) -> builtins.list[KVChange]:
        """Recorded changes of ``key`` (of every key when ``None``), oldest first."""
        scope = make_scope(self._tenant_id, user_id, agent_id, session_id)
        checked_key = None if key is None else require_key(key)
        limit = require_limit(limit, maximum=MAX_LIST)
        return await self._store.history(scope, require_name(namespace), checked_key, limit=limit)

    async def rollback(
        self,
        namespace: str,
        key: str,
        to_version: int,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        expected_version: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> KVEntry | None:
        """Make the key hold the value version ``to_version`` set, as a new version.

        Returns the new entry, or ``None`` when that version was a deletion (the
        key is deleted again). ``NotFound`` if the history has no such version.
        """
        ref = self._ref(namespace, key, user_id, agent_id, session_id)
        if isinstance(to_version, bool) or not isinstance(to_version, int) or to_version < 1:
            raise InvalidInput(f"to_version must be an integer >= 1, got {to_version!r:.40}")
        reason = optional_text(reason, "reason") or f"rollback to version {to_version}"
        options = self._options(expected_version, True, actor, reason, None)
        entry = await self._store.rollback(ref, to_version, options, self._encode)
        await self._cache.invalidate(_cache_namespace(ref))
        return entry

    async def namespace_stats(
        self,
        *,
        user_id: str,
        namespace: str | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> builtins.list[KVNamespaceStats]:
        """Per namespace of the user: keys, sizes, compressed and expiring keys,
        recorded changes, oldest and newest. ``agent_id`` / ``session_id`` narrow
        the count; ``None`` counts every agent and session of the user."""
        scope = make_scope(self._tenant_id, user_id, agent_id, session_id)
        checked = None if namespace is None else require_name(namespace)
        return await self._store.namespace_stats(scope, checked)

    async def cleanup_expired(self) -> dict[str, int]:
        """Delete this tenant's expired entries (already invisible); the count."""
        return {"kv_entries": await self._store.cleanup_expired(self._tenant_id)}

    def _ref(
        self, namespace: object, key: object, user_id: object, agent_id: object, session_id: object
    ) -> KeyRef:
        scope = make_scope(self._tenant_id, user_id, agent_id, session_id)
        return KeyRef(scope, require_name(namespace), require_key(key))

    def _encode(self, value: Any) -> EncodedValue:
        config = self._config
        return encode_value(
            value, max_bytes=config.max_value_bytes, compress_min_bytes=config.compress_min_bytes
        )

    def _options(
        self,
        expected_version: object,
        versioned: object,
        actor: object,
        reason: object,
        ttl_seconds: object,
    ) -> WriteOptions:
        if not isinstance(versioned, bool):
            raise InvalidInput(f"versioned must be True or False, got {versioned!r:.40}")
        return WriteOptions(
            expected_version=require_version(expected_version),
            versioned=versioned,
            actor=optional_text(actor, "actor", max_chars=255),
            reason=optional_text(reason, "reason"),
            ttl=require_ttl(ttl_seconds),
        )

    async def _load_entry(self, ref: KeyRef) -> dict[str, Any] | None:
        entry = await self._store.get(ref)
        return None if entry is None else to_json(entry)

    async def _load_list(
        self, scope: Scope, namespace: str, limit: int
    ) -> builtins.list[dict[str, Any]]:
        entries = await self._store.list_entries(scope, namespace, limit=limit)
        return [to_json(entry) for entry in entries]


def _cache_namespace(ref: KeyRef) -> CacheNamespace:
    return scope_namespace(ref.scope, _CACHE_KIND, ref.namespace)


def _entry_key(ref: KeyRef) -> CacheKey:
    return _cache_namespace(ref).key(f"e.{ref.key}")
