"""``KeyValueStoreMemory`` of the "memory implementations for LLM context" design, on mnemo.

    memory = KeyValueStoreMemory({"database_url": ..., "redis_url": ...,
                                  "namespace": "user_context", "serialize_json": True})
    await memory.initialize()
    await memory.store({"user_id": "u1", "key": "preferences", "value": {"tone": "warm"}})
    context = await memory.get_context({"user_id": "u1"})

Values live in PostgreSQL (``kv_entries``, compressed when large); Redis, when
configured, caches reads. Config keys besides the shared ones
(``mnemo.compat.base``): ``namespace`` (``"default"``; ``"settings"`` holds
versioned settings), ``serialize_json`` (``True``: any JSON value; ``False``:
values must be strings), ``ttl_seconds`` (default expiry, ``None``: never),
``versioned`` (record every change, always on for ``settings``) and
``max_context_tokens`` (1000).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mnemo.compat.base import CompatMemory
from mnemo.core.budget import DEFAULT_SECTIONS, ContextItem, allocate_budget
from mnemo.core.keyvalue import SETTINGS_NAMESPACE, KVChange, KVEntry
from mnemo.core.records import Scope
from mnemo.core.tokens import default_token_counter
from mnemo.core.values import require_name, require_ttl
from mnemo.core.working import render_value
from mnemo.engine import AsyncMemory
from mnemo.errors import ConfigurationError, InvalidInput, MnemoError
from mnemo.kinds.kv import KeyValueService

__all__ = ["KeyValueStoreMemory"]

_SECTION = "instructions"  # the orchestrator's "Instructions and settings" section


class KeyValueStoreMemory(CompatMemory):
    """JSON values per user / agent / session in one namespace, with optional expiry,
    compression of large values, and (optionally) a versioned history."""

    memory_type = "key_value_store"

    def __init__(
        self, config: Mapping[str, Any] | None = None, *, memory: AsyncMemory | None = None
    ) -> None:
        super().__init__(config, memory=memory)
        try:
            self.namespace = require_name(self.config.get("namespace", "default"))
            self.ttl_seconds = require_ttl(self.config.get("ttl_seconds"))
        except MnemoError as exc:
            raise ConfigurationError(f"invalid KeyValueStoreMemory config: {exc}") from exc
        self.serialize_json = _flag(self.config, "serialize_json", True)
        self.versioned = _flag(self.config, "versioned", self.namespace == SETTINGS_NAMESPACE)
        self.max_context_tokens = self.config.get("max_context_tokens", 1_000)

    @property
    def kv(self) -> KeyValueService:
        """The engine's key-value store (``AsyncMemory.kv``)."""
        return self.engine.kv

    async def store(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Store ``data["value"]`` under ``data["key"]`` (scope keys, ``namespace``,
        ``ttl_seconds``, ``expected_version``, ``actor``, ``reason`` optional);
        ``{"stored": True, "key", "namespace", "version", ...}``."""
        scope = await self._scope(data)
        if "key" not in data or "value" not in data:
            raise InvalidInput("store needs 'key' and 'value'")
        entry = await self.kv.set(
            data.get("namespace", self.namespace),
            data["key"],
            self._checked(data["value"]),
            ttl_seconds=data.get("ttl_seconds", self.ttl_seconds),
            expected_version=data.get("expected_version"),
            versioned=self.versioned,
            actor=data.get("actor"),
            reason=data.get("reason"),
            **_scope_args(scope),
        )
        return {"stored": True, **_entry_dict(entry)}

    async def retrieve(
        self, key: str, default: Any = None, *, namespace: str | None = None, **scope: Any
    ) -> Any:
        """The value of ``key``, or ``default`` (scope keys as keyword arguments)."""
        checked = await self._scope(scope)
        return await self.kv.get(
            namespace or self.namespace, key, default=default, **_scope_args(checked)
        )

    get = retrieve

    async def delete(self, key: str, *, namespace: str | None = None, **scope: Any) -> bool:
        """Remove ``key``; ``False`` if it was not there."""
        checked = await self._scope(scope)
        return await self.kv.delete(namespace or self.namespace, key, **_scope_args(checked))

    async def list_keys(self, *, namespace: str | None = None, **scope: Any) -> list[str]:
        """The namespace's keys, sorted."""
        checked = await self._scope(scope)
        entries = await self.kv.list(namespace or self.namespace, **_scope_args(checked))
        return [entry.key for entry in entries]

    async def get_history(
        self, key: str | None = None, *, namespace: str | None = None, **scope: Any
    ) -> list[dict[str, Any]]:
        """Recorded changes (versioned namespaces), oldest first: version, change, old,
        new, actor, reason, at."""
        checked = await self._scope(scope)
        changes = await self.kv.history(namespace or self.namespace, key, **_scope_args(checked))
        return [_change_dict(change) for change in changes]

    async def rollback(
        self, key: str, to_version: int, *, namespace: str | None = None, **scope: Any
    ) -> dict[str, Any] | None:
        """Restore the value ``to_version`` set, as a new version; ``None`` if that
        version was a deletion."""
        checked = await self._scope(scope)
        entry = await self.kv.rollback(
            namespace or self.namespace, key, to_version, **_scope_args(checked)
        )
        return None if entry is None else _entry_dict(entry)

    async def get_context(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """The namespace's values ready for a prompt, within ``max_tokens``.

        ``{"namespace", "values", "formatted", "tokens", "dropped", "memory_type"}``;
        for the ``settings`` namespace, ``settings`` repeats the active values.
        """
        scope = await self._scope(request)
        namespace = request.get("namespace", self.namespace)
        values = await self.kv.values(namespace, **_scope_args(scope))
        lines = [
            ContextItem(f"{key}: {render_value(value)}", ref=key) for key, value in values.items()
        ]
        budget = request.get("max_tokens", self.max_context_tokens)
        packed = allocate_budget(
            {_SECTION: lines}, budget, default_token_counter(), specs=DEFAULT_SECTIONS
        )
        section = packed.section(_SECTION)
        kept = [item.ref for item in section.items] if section else []
        context = {
            "memory_type": self.memory_type,
            "namespace": namespace,
            "values": {key: values[key] for key in kept if key is not None},
            "formatted": packed.render(),
            "tokens": packed.total_tokens,
            "dropped": len(values) - len(kept),
        }
        if namespace == SETTINGS_NAMESPACE:
            context["settings"] = context["values"]
        return context

    async def get_namespace_stats(
        self, namespace: str | None = None, **scope: Any
    ) -> dict[str, Any]:
        """Keys, sizes, compressed and expiring keys, changes, oldest/newest of a namespace."""
        checked = await self._scope(scope)
        name = namespace or self.namespace
        found = await self.kv.namespace_stats(namespace=name, **_scope_args(checked))
        if not found:
            return {
                "namespace": name,
                "keys": 0,
                "value_bytes": 0,
                "stored_bytes": 0,
                "compressed": 0,
                "expiring": 0,
                "changes": 0,
                "oldest": None,
                "newest": None,
            }
        stats = found[0]
        return {
            "namespace": name,
            "keys": stats.keys,
            "value_bytes": stats.value_bytes,
            "stored_bytes": stats.stored_bytes,
            "compressed": stats.compressed,
            "expiring": stats.expiring,
            "changes": stats.changes,
            "oldest": stats.oldest.isoformat() if stats.oldest else None,
            "newest": stats.newest.isoformat() if stats.newest else None,
        }

    def _checked(self, value: Any) -> Any:
        if not self.serialize_json and not isinstance(value, str):
            raise InvalidInput(
                f"with serialize_json=False values must be strings, got {type(value).__name__}"
            )
        return value

    async def _scope(self, request: Mapping[str, Any]) -> Scope:
        """The request's scope; a user is required (request, config, or session owner)."""
        scope = await self.request_scope(request, write=True)
        assert scope is not None  # with write=True a scope resolves or InvalidInput is raised
        return scope


def _flag(config: Mapping[str, Any], name: str, default: bool) -> bool:
    value = config.get(name, default)
    if not isinstance(value, bool):
        raise ConfigurationError(f"{name} must be True or False, got {value!r:.40}")
    return value


def _scope_args(scope: Scope) -> dict[str, Any]:
    return {"user_id": scope.user_id, "agent_id": scope.agent_id, "session_id": scope.session_id}


def _entry_dict(entry: KVEntry) -> dict[str, Any]:
    return {
        "namespace": entry.namespace,
        "key": entry.key,
        "value": entry.value,
        "version": entry.version,
        "compressed": entry.compressed,
        "size_bytes": entry.size_bytes,
        "updated_at": entry.updated_at.isoformat(),
        "expires_at": entry.expires_at.isoformat() if entry.expires_at else None,
    }


def _change_dict(change: KVChange) -> dict[str, Any]:
    return {
        "key": change.key,
        "version": change.version,
        "change": change.change,
        "old": change.old,
        "new": change.new,
        "actor": change.actor,
        "reason": change.reason,
        "at": change.at.isoformat(),
    }
