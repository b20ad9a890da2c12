"""The records mnemo hands back to callers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

MemoryKind = Literal["note", "fact", "preference", "commitment", "instruction", "entity", "event"]
MEMORY_KINDS: tuple[str, ...] = (
    "note",
    "fact",
    "preference",
    "commitment",
    "instruction",
    "entity",
    "event",
)
MemoryStatus = Literal["active", "superseded"]
#: What a listing of memories can ask for: current, replaced (kept as history), or
#: removed (deleted or merged away: only their history remembers them).
LISTED_STATUSES: tuple[str, ...] = ("active", "superseded", "deleted")


@dataclass(frozen=True, slots=True)
class Scope:
    """Who a row belongs to. ``user_id`` is required; agent and session narrow it."""

    tenant_id: str
    user_id: str
    agent_id: str | None = None
    session_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MemoryRecord:
    """One stored memory."""

    id: str
    user_id: str
    content: str
    kind: str
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    agent_id: str | None = None
    session_id: str | None = None
    confidence: float = 1.0
    importance: float = 0.5
    access_count: int = 0
    last_accessed_at: datetime | None = None
    status: str = "active"
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    superseded_by: str | None = None
    source_message_ids: list[str] = field(default_factory=list)
    embedding_model: str | None = None
    pinned: bool = False
    #: 1 when fresh, falling with the half-life while the memory goes unread.
    decay_score: float = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchHit(MemoryRecord):
    """A memory returned by search, with its final ``score`` and the ``scores`` behind it."""

    score: float
    scores: dict[str, float]


@dataclass(frozen=True, slots=True, kw_only=True)
class MemoryEvent:
    """One change in a memory's history."""

    id: str
    memory_id: str
    event: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    actor: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AddResult:
    """What ``add`` stored: the new memories' ids, in input order.

    With ``infer=True`` the ids are those of the stored conversation turns and
    ``extraction`` maps each to ``pending``, ``done`` or ``failed``; after
    ``wait=True`` ``memories`` holds the memories extraction added or changed.
    """

    ids: list[str]
    memories: list[MemoryRecord]
    extraction: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The id of the first (usually only) memory stored."""
        return self.ids[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class NewMemory:
    """A memory about to be inserted (validated, embedded, not yet stored)."""

    id: str
    content: str
    kind: str = "note"
    embedding: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    agent_id: str | None = None
    session_id: str | None = None
    confidence: float = 1.0
    importance: float = 0.5
    source_message_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class MemoryChanges:
    """Fields to change in a stored memory; ``None`` leaves a field as it is."""

    content: str | None = None
    embedding: Any = None
    kind: str | None = None
    metadata: dict[str, Any] | None = None
    confidence: float | None = None
    importance: float | None = None
    pinned: bool | None = None
