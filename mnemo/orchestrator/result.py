"""What a context holds: its sections, their entries, what was left out and why, timings.

Pure data: ``ContextResult.text`` is the rendering for a prompt; everything else
is the same content as structured data (``as_dict()`` for JSON).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "ContextEntry",
    "ContextResult",
    "ContextSection",
    "DroppedEntry",
    "SectionStatus",
]

#: ``ok``: gathered (it may still hold nothing that fitted); ``empty``: nothing to say;
#: ``failed``: its source raised (see ``error``); ``timeout``: it did not answer in time.
SectionStatus = Literal["ok", "empty", "failed", "timeout"]
#: Why an entry is not in the context: no room left, or its content is already there.
DropReason = Literal["budget", "duplicate"]


@dataclass(frozen=True, slots=True)
class ContextEntry:
    """One line (or passage) of the context.

    ``text`` is how it renders; ``content`` the bare text it carries; ``source``
    what it is (``setting``, ``instruction``, ``summary``, ``message``, ``past_turn``, ``memory``,
    ``entity``, ``relation``, ``working_item``, ``reasoning_step``, ``chunk``);
    ``ref`` its id (a memory, turn, chunk or entity id, a key); ``details`` the
    JSON-ready fields behind it (role, turn, kind, date, score, ...); ``record``
    the object it came from (``SearchHit``, ``MessageRecord``, ...), not in
    ``as_dict``. ``tokens`` counts ``text``; ``truncated`` tells that ``text`` was cut
    to fit.
    """

    text: str
    source: str
    content: str
    ref: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    tokens: int = 0
    truncated: bool = False
    record: Any = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "source": self.source,
            "content": self.content,
            "ref": self.ref,
            "details": self.details,
            "tokens": self.tokens,
            "truncated": self.truncated,
        }


@dataclass(frozen=True, slots=True)
class DroppedEntry:
    """An entry a section found that is not in the context: ``budget`` (no room) or
    ``duplicate`` (the same content is in ``kept_in``, a higher-priority section)."""

    section: str
    source: str
    ref: str | None
    content: str
    reason: DropReason
    kept_in: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "source": self.source,
            "ref": self.ref,
            "content": self.content,
            "reason": self.reason,
            "kept_in": self.kept_in,
        }


@dataclass(frozen=True, slots=True)
class ContextSection:
    """One section: its entries in rendering order and how it fared.

    ``share`` is its fraction of the budget after renormalisation and ``quota``
    those tokens (redistribution may give it more); ``tokens`` counts its
    rendering, heading included; ``found`` is how many entries its source gave;
    ``elapsed_ms`` how long gathering it took; ``info`` facts about the source
    (e.g. ``summarized_through_turn``, the working-memory namespaces).
    """

    name: str
    title: str
    status: SectionStatus
    entries: tuple[ContextEntry, ...] = ()
    tokens: int = 0
    share: float = 0.0
    quota: int = 0
    found: int = 0
    dropped_for_budget: int = 0
    dropped_duplicates: int = 0
    truncated: bool = False
    elapsed_ms: float = 0.0
    error: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    #: Every record the source gave, best first, placed or not (``entries`` hold
    #: the placed ones).
    found_records: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "status": self.status,
            "entries": [entry.as_dict() for entry in self.entries],
            "tokens": self.tokens,
            "share": round(self.share, 6),
            "quota": self.quota,
            "found": self.found,
            "dropped_for_budget": self.dropped_for_budget,
            "dropped_duplicates": self.dropped_duplicates,
            "truncated": self.truncated,
            "elapsed_ms": round(self.elapsed_ms, 3),
            "error": self.error,
            "info": self.info,
        }


@dataclass(frozen=True, slots=True)
class ContextResult:
    """A composed context: ``text`` (at most ``max_tokens`` tokens by ``token_counter``,
    ``tokens`` long) and the same content as ``sections`` in rendering order.

    ``dropped`` lists what the sources found that is not in the text, and why;
    ``timings_ms`` holds each section's gathering time plus ``embed_query``,
    ``compose`` and ``total``. A section that failed or timed out is reported
    with its ``error`` and the context is composed from the others (``degraded``).
    """

    text: str
    tokens: int
    max_tokens: int
    sections: tuple[ContextSection, ...]
    dropped: tuple[DroppedEntry, ...]
    timings_ms: dict[str, float]
    query: str
    user_id: str
    session_id: str | None = None
    agent_id: str | None = None
    token_counter: str = ""

    def __str__(self) -> str:
        return self.text

    @property
    def degraded(self) -> bool:
        """True when a section failed or timed out."""
        return any(s.status in ("failed", "timeout") for s in self.sections)

    @property
    def errors(self) -> dict[str, str]:
        """The error of each section that failed or timed out, by section name."""
        return {s.name: s.error or s.status for s in self.sections if s.error is not None}

    def section(self, name: str) -> ContextSection | None:
        """The section called ``name``, or ``None`` if it was not gathered."""
        return next((s for s in self.sections if s.name == name), None)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the text, the counts, every section, what was dropped, timings."""
        return {
            "query": self.query,
            "user_id": self.user_id,
            "session_id": self.session_id,
            "agent_id": self.agent_id,
            "context": self.text,
            "tokens": self.tokens,
            "max_tokens": self.max_tokens,
            "token_counter": self.token_counter,
            "degraded": self.degraded,
            "errors": self.errors,
            "sections": [section.as_dict() for section in self.sections],
            "dropped": [entry.as_dict() for entry in self.dropped],
            "timings_ms": {name: round(ms, 3) for name, ms in self.timings_ms.items()},
        }
