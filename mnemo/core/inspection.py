"""What browsing a tenant's store hands back: users, sessions, queued turns, provenance.

These are read views for people (the inspector at ``/ui``, an operator's script):
they summarise rows the other records describe one by one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from mnemo.core.messages import MessageRecord
from mnemo.core.records import MemoryRecord

#: Where a turn can stand in the extraction ledger.
EXTRACTION_STATUSES: tuple[str, ...] = ("pending", "done", "failed")


@dataclass(frozen=True, slots=True, kw_only=True)
class UserOverview:
    """One user of a tenant: current memories per kind, history, turns, last activity."""

    user_id: str
    memories: int
    kinds: dict[str, int]
    superseded: int
    messages: int
    last_activity: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionOverview:
    """One conversation session of a user and where extraction of its turns stands."""

    session_id: str
    turns: int
    first_turn: int
    last_turn: int
    started_at: datetime
    last_at: datetime
    tool_calls: int
    extraction: dict[str, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class QueuedTurn:
    """A turn in the extraction ledger with its state and, if it still exists, its text."""

    user_id: str
    message_id: str
    status: str
    attempts: int
    last_error: str | None
    memory_ids: list[str]
    updated_at: datetime
    session_id: str | None = None
    turn_number: int | None = None
    role: str | None = None
    content: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Provenance:
    """Where a memory came from and what it turned into.

    ``memory`` is the stored record, or the last one its history holds when it
    was deleted or merged away (``status`` is then ``"deleted"``). ``sources``
    are its source turns still stored, with each one's extraction state by id;
    ``superseded_by`` the memory that replaced it, ``supersedes`` those it replaced.
    """

    memory: MemoryRecord
    sources: list[MessageRecord]
    extraction: dict[str, str] = field(default_factory=dict)
    superseded_by: MemoryRecord | None = None
    supersedes: list[MemoryRecord] = field(default_factory=list)
