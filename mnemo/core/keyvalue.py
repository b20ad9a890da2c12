"""Records of the key-value store and settings: entries, their changes, statistics.

Settings are the key-value namespace ``settings``, which is always versioned:
every change keeps the old and new value, who made it, why and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

#: The namespace holding settings (system prompts, voice, personality, ...).
SETTINGS_NAMESPACE = "settings"

ChangeKind = Literal["set", "delete", "rollback"]


@dataclass(frozen=True, slots=True, kw_only=True)
class KVEntry:
    """The current value of one key in one scope and namespace.

    ``version`` counts the key's changes (1 for the first); pass it back as
    ``expected_version`` to change the key only if nobody changed it meanwhile.
    """

    namespace: str
    key: str
    value: Any
    version: int
    user_id: str
    agent_id: str | None
    session_id: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    updated_by: str | None
    #: Bytes of the value as JSON (before compression).
    size_bytes: int
    compressed: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class KVChange:
    """One change of a versioned key: ``old`` and ``new`` are ``None`` where absent."""

    namespace: str
    key: str
    version: int
    change: ChangeKind
    old: Any
    new: Any
    actor: str | None
    reason: str | None
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class KVNamespaceStats:
    """What one namespace holds for a user (live keys only, expired ones excluded)."""

    namespace: str
    keys: int
    #: JSON bytes of the values, before compression.
    value_bytes: int
    #: Bytes the values occupy in PostgreSQL (after compression).
    stored_bytes: int
    compressed: int
    expiring: int
    #: Changes kept in the history (versioned namespaces).
    changes: int
    oldest: datetime | None
    newest: datetime | None


__all__ = ["SETTINGS_NAMESPACE", "ChangeKind", "KVChange", "KVEntry", "KVNamespaceStats"]
