"""What a context is asked for: ``ContextRequest``, the section names and ``MemoryType``.

A context has up to eight sections, rendered in this order:

=====================  ==========================================================
``instructions``       active settings (user, then agent, then session, the more
                       specific winning) and the user's ``instruction`` memories
``summary``            the session's progressive summary, as stored
``recent_conversation`` the newest turns of the session, oldest first
``vector_search``      the memories most relevant to the query
``past_turns``         the turns of the user's other sessions most relevant to the
                       query, verbatim with their date and session
``entities``           people, organisations, places, concepts (and relations)
``working_memory``     the scratch items and reasoning steps of the scope's tasks
``documents``          reference passages relevant to the query
=====================  ==========================================================

``priorities`` are the sections' shares of the budget (renormalised over the
sections that have something to say). The defaults are those of the "memory
implementations" design — recent conversation 0.4, summary 0.2, entities 0.15,
vector search 0.15, working memory 0.1 — plus 0.1 each for instructions and
documents and 0.15 for past turns. A partial mapping changes only the shares it
names.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from mnemo.core.budget import DEFAULT_SECTIONS
from mnemo.core.validation import require_scope_id
from mnemo.errors import InvalidInput

__all__ = [
    "DEFAULT_PRIORITIES",
    "MAX_CONTEXT_TOKENS",
    "SECTION_NAMES",
    "ContextRequest",
    "MemoryType",
    "parse_priorities",
    "parse_sections",
]

#: Every section, in the order the context renders them.
SECTION_NAMES: tuple[str, ...] = (
    "instructions",
    "summary",
    "recent_conversation",
    "vector_search",
    "past_turns",
    "entities",
    "working_memory",
    "documents",
)
#: The largest budget a context may be asked for.
MAX_CONTEXT_TOKENS = 1_000_000
#: Each section's default share of the budget.
DEFAULT_PRIORITIES: Mapping[str, float] = MappingProxyType(
    {name: DEFAULT_SECTIONS[name].share for name in SECTION_NAMES}
)


class MemoryType(enum.StrEnum):
    """The memory kinds of the "memory implementations" design (plus reference
    documents), each standing for the context sections it feeds."""

    CONVERSATION_BUFFER = "conversation_buffer"
    CONVERSATION_SUMMARY = "conversation_summary"
    VECTOR_DATABASE = "vector_database"
    ENTITY_MEMORY = "entity_memory"
    WORKING_MEMORY = "working_memory"
    KEY_VALUE_STORE = "key_value_store"
    DOCUMENTS = "documents"

    @property
    def sections(self) -> tuple[str, ...]:
        """The context sections this kind fills."""
        return _SECTIONS_OF[self]


_SECTIONS_OF: Mapping[MemoryType, tuple[str, ...]] = MappingProxyType(
    {
        MemoryType.CONVERSATION_BUFFER: ("recent_conversation",),
        MemoryType.CONVERSATION_SUMMARY: ("summary", "recent_conversation"),
        MemoryType.VECTOR_DATABASE: ("vector_search",),
        MemoryType.ENTITY_MEMORY: ("entities",),
        MemoryType.WORKING_MEMORY: ("working_memory",),
        MemoryType.KEY_VALUE_STORE: ("instructions",),
        MemoryType.DOCUMENTS: ("documents",),
    }
)

_MEMORY_TYPE_VALUES = frozenset(t.value for t in MemoryType)


@dataclass(frozen=True, slots=True)
class ContextRequest:
    """One request for a token-budgeted context, checked when it is made.

    ``query`` is what the model is about to answer (the user's message);
    ``max_total_tokens`` bounds the whole rendered context (headers included);
    ``priorities`` maps section names to shares (those not named keep their
    default); ``sections`` names the sections (or ``MemoryType`` kinds) to
    gather, all of them when ``None``. Bad values raise ``InvalidInput``;
    afterwards ``sections`` is a tuple of section names (or ``None``) and
    ``priorities`` a read-only mapping of the shares given (or ``None``).
    """

    query: str
    user_id: str
    session_id: str | None = None
    max_total_tokens: int = 2000
    priorities: Mapping[str, float] | None = None
    agent_id: str | None = None
    sections: Iterable[str] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.query, str) or not self.query.strip():
            raise InvalidInput("query must be a non-empty string")
        require_scope_id(self.user_id, "user_id")
        require_scope_id(self.session_id, "session_id", required=False)
        require_scope_id(self.agent_id, "agent_id", required=False)
        tokens = self.max_total_tokens
        if isinstance(tokens, bool) or not isinstance(tokens, int):
            raise InvalidInput(f"max_tokens must be an integer, got {tokens!r:.40}")
        if not 1 <= tokens <= MAX_CONTEXT_TOKENS:
            raise InvalidInput(f"max_tokens must be from 1 to {MAX_CONTEXT_TOKENS}, got {tokens}")
        if self.priorities is not None:
            given = MappingProxyType(parse_priorities(self.priorities))
            object.__setattr__(self, "priorities", given)
        if self.sections is not None:
            object.__setattr__(self, "sections", parse_sections(self.sections))

    @property
    def shares(self) -> dict[str, float]:
        """Every section's share: the defaults with ``priorities`` laid over them."""
        return {**DEFAULT_PRIORITIES, **(self.priorities or {})}

    @property
    def section_names(self) -> tuple[str, ...]:
        """The sections to gather, in rendering order."""
        return parse_sections(self.sections)


def parse_sections(sections: Iterable[str] | str | None) -> tuple[str, ...]:
    """Section names (or ``MemoryType`` kinds, expanded) in rendering order; every
    section for ``None``. ``InvalidInput`` for unknown names or an empty list."""
    if sections is None:
        return SECTION_NAMES
    if isinstance(sections, str):
        sections = [sections]
    if not isinstance(sections, Iterable):
        raise InvalidInput(f"sections must be a list of names, got {type(sections).__name__}")
    chosen: set[str] = set()
    for name in sections:
        chosen.update(_section_names(name))
    if not chosen:
        raise InvalidInput(f"sections must name at least one of {list(SECTION_NAMES)}")
    return tuple(name for name in SECTION_NAMES if name in chosen)


def _section_names(name: object) -> tuple[str, ...]:
    if isinstance(name, MemoryType):
        return name.sections
    if isinstance(name, str) and name in SECTION_NAMES:
        return (name,)
    if isinstance(name, str) and name in _MEMORY_TYPE_VALUES:
        return MemoryType(name).sections
    raise InvalidInput(
        f"unknown context section {name!r:.60}; known: {list(SECTION_NAMES)} "
        f"or memory types {[t.value for t in MemoryType]}"
    )


def parse_priorities(priorities: Mapping[str, Any] | None) -> dict[str, float]:
    """The shares given, checked: each must be a finite number >= 0 for a known
    section, else ``InvalidInput`` (``{}`` for ``None``)."""
    if priorities is None:
        return {}
    if not isinstance(priorities, Mapping):
        raise InvalidInput(
            f"priorities must map section names to shares, got {type(priorities).__name__}"
        )
    shares = {}
    for name, share in priorities.items():
        if name not in SECTION_NAMES:
            raise InvalidInput(
                f"priorities name an unknown section {name!r:.60}; known: {list(SECTION_NAMES)}"
            )
        if isinstance(share, bool) or not isinstance(share, (int, float)):
            raise InvalidInput(f"priority of {name!r} must be a number, got {share!r:.40}")
        if not math.isfinite(share) or share < 0:
            raise InvalidInput(f"priority of {name!r} must be finite and >= 0, got {share}")
        shares[name] = float(share)
    return shares
