"""Conversation messages: the records mnemo stores and hands back.

A message is one turn of a session, stored verbatim and never rewritten: a role
(``user``, ``assistant``, ``tool``, ``system``), its text, the tools it called
or the results it carries, a turn number within its session, and metadata.
``message_checks`` validates what callers hand over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

ROLES: tuple[str, ...] = ("user", "assistant", "tool", "system")
#: The providers' message formats a turn may come in (see ``mnemo.core.formats``).
PROVIDER_FORMATS: tuple[str, ...] = ("openai", "anthropic", "responses")
#: The session of messages added without one: a conversation that never named its
#: session is one long session, so turn numbers and buffers still have a home.
DEFAULT_SESSION = "default"


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageRecord:
    """One stored turn of a conversation."""

    id: str
    user_id: str
    session_id: str
    turn_number: int
    role: str
    content: str
    created_at: datetime
    agent_id: str | None = None
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_results: list[dict[str, Any]] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    token_count: int = 0
    idempotency_key: str | None = None
    embedding_model: str | None = None
    #: The provider's form of the turn (``mnemo.core.formats``): what the fields above
    #: do not hold, so the message comes back as it came. ``None`` for mnemo's own turns.
    source: dict[str, Any] | None = None

    def for_prompt(self) -> dict[str, Any]:
        """The turn as a JSON-ready dict for a prompt: role and content, the tools it
        used, plus ``id``, ``turn_number``, ``created_at`` (ISO 8601) and ``tokens``."""
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        optional = {
            "name": self.name,
            "tool_calls": self.tool_calls,
            "tool_results": self.tool_results,
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        out.update(
            id=self.id,
            turn_number=self.turn_number,
            created_at=self.created_at.isoformat(),
            tokens=self.token_count,
        )
        return out


def record_to_json(record: MessageRecord) -> dict[str, Any]:
    """A ``MessageRecord`` as a JSON-ready dict (for caches); ``record_from_json`` reverses it."""
    values = {f.name: getattr(record, f.name) for f in fields(MessageRecord)}
    values["created_at"] = record.created_at.isoformat()
    return values


def record_from_json(values: Mapping[str, Any]) -> MessageRecord:
    """The ``MessageRecord`` that ``record_to_json`` encoded."""
    return MessageRecord(**{**values, "created_at": datetime.fromisoformat(values["created_at"])})


def summary_to_json(summary: SessionSummary) -> dict[str, Any]:
    """A ``SessionSummary`` as a JSON-ready dict; ``summary_from_json`` reverses it."""
    values = {f.name: getattr(summary, f.name) for f in fields(SessionSummary)}
    for key in ("created_at", "updated_at"):
        values[key] = values[key].isoformat() if values[key] is not None else None
    return values


def summary_from_json(values: Mapping[str, Any]) -> SessionSummary:
    """The ``SessionSummary`` that ``summary_to_json`` encoded."""
    times = {
        key: datetime.fromisoformat(values[key]) if values[key] else None
        for key in ("created_at", "updated_at")
    }
    return SessionSummary(**{**values, **times})


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageHit(MessageRecord):
    """A message returned by search, with its final ``score`` and the ``scores`` behind it."""

    score: float
    scores: dict[str, float]


@dataclass(frozen=True, slots=True, kw_only=True)
class NewMessage:
    """A validated message about to be stored (turn number and embedding may be pending)."""

    id: str
    role: str
    content: str
    #: What search indexes and embeds: the content plus the tools used.
    search_text: str
    token_count: int
    turn_number: int | None = None
    agent_id: str | None = None
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_results: list[dict[str, Any]] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    idempotency_key: str | None = None
    source: dict[str, Any] | None = None
    embedding: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionSummary:
    """The progressive summary of a session: turns 1 to ``through_turn`` folded into text."""

    session_id: str
    content: str
    through_turn: int
    turns_folded: int
    token_count: int
    #: ``"extractive"`` (offline) or ``"llm:<model id>"``.
    method: str
    agent_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MessagePage:
    """One page of a listing and the cursor of the next (``None`` at the end)."""

    messages: list[MessageRecord]
    next_cursor: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationStats:
    """Counts and sizes of a session's (or a user's) stored turns."""

    user_id: str
    session_id: str | None
    sessions: int
    messages: int
    by_role: dict[str, int]
    tokens: int
    content_chars: int
    tool_calls: int
    tool_results: int
    first_turn: int | None
    last_turn: int | None
    oldest: datetime | None
    newest: datetime | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: timestamps as ISO 8601 strings."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        for key in ("oldest", "newest"):
            values[key] = values[key].isoformat() if values[key] is not None else None
        return values
