"""Settings: the key-value namespace ``settings``, always versioned.

System prompts, voice speed, personality, ... per scope (a user, optionally
narrowed to an agent and/or a session). An application loads the active values
with ``active()``; an LLM changing its own settings through a tool calls ``set``
with an ``actor`` and a ``reason``; every change keeps the old and new value, who
made it, why and when (``history``), and any recorded version can be restored
(``rollback``).
"""

from __future__ import annotations

import builtins
from typing import Any

from mnemo.core.keyvalue import SETTINGS_NAMESPACE, KVChange, KVEntry
from mnemo.kinds.kv import MAX_LIST, KeyValueService


class SettingsService:
    """Versioned settings per scope: system prompts, voice speed, personality, ...

    The ``settings`` namespace of the key-value store; every change is recorded.
    """

    def __init__(self, kv: KeyValueService) -> None:
        self._kv = kv

    async def get(
        self,
        key: str,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        default: Any = None,
    ) -> Any:
        """The active value of one setting, or ``default``."""
        return await self._kv.get(
            SETTINGS_NAMESPACE,
            key,
            user_id=user_id,
            agent_id=agent_id,
            session_id=session_id,
            default=default,
        )

    async def entry(
        self,
        key: str,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> KVEntry | None:
        """One setting with its version (for ``expected_version``), or ``None``."""
        return await self._kv.entry(
            SETTINGS_NAMESPACE, key, user_id=user_id, agent_id=agent_id, session_id=session_id
        )

    async def set(
        self,
        key: str,
        value: Any,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        expected_version: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
        ttl_seconds: float | None = None,
    ) -> KVEntry:
        """Change a setting; the old and new value, ``actor`` and ``reason`` are recorded."""
        return await self._kv.set(
            SETTINGS_NAMESPACE,
            key,
            value,
            user_id=user_id,
            agent_id=agent_id,
            session_id=session_id,
            ttl_seconds=ttl_seconds,
            expected_version=expected_version,
            versioned=True,
            actor=actor,
            reason=reason,
        )

    async def delete(
        self,
        key: str,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        expected_version: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> bool:
        """Remove a setting (recorded in its history); ``False`` if it was not set."""
        return await self._kv.delete(
            SETTINGS_NAMESPACE,
            key,
            user_id=user_id,
            agent_id=agent_id,
            session_id=session_id,
            expected_version=expected_version,
            actor=actor,
            reason=reason,
        )

    async def active(
        self, *, user_id: str, agent_id: str | None = None, session_id: str | None = None
    ) -> dict[str, Any]:
        """Every active setting of the scope, by key."""
        return await self._kv.values(
            SETTINGS_NAMESPACE, user_id=user_id, agent_id=agent_id, session_id=session_id
        )

    async def list(
        self, *, user_id: str, agent_id: str | None = None, session_id: str | None = None
    ) -> builtins.list[KVEntry]:
        """Every active setting with its version and timestamps, in key order."""
        return await self._kv.list(
            SETTINGS_NAMESPACE,
            user_id=user_id,
            agent_id=agent_id,
            session_id=session_id,
            limit=MAX_LIST,
        )

    async def history(
        self,
        key: str | None = None,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        limit: int = 1_000,
    ) -> builtins.list[KVChange]:
        """Every change of ``key`` (of all settings when ``None``), oldest first."""
        return await self._kv.history(
            SETTINGS_NAMESPACE,
            key,
            user_id=user_id,
            agent_id=agent_id,
            session_id=session_id,
            limit=limit,
        )

    async def rollback(
        self,
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
        """Make a setting hold what version ``to_version`` set (a new version is recorded)."""
        return await self._kv.rollback(
            SETTINGS_NAMESPACE,
            key,
            to_version,
            user_id=user_id,
            agent_id=agent_id,
            session_id=session_id,
            expected_version=expected_version,
            actor=actor,
            reason=reason,
        )
