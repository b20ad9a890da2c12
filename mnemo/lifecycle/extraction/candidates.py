"""What extraction takes (conversation :class:`Turn` s) and gives (:class:`CandidateMemory` s).

Both extractors — the offline rules and the LLM — satisfy the :class:`Extractor`
protocol, so reconciliation and the job queue never care which one ran.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, Protocol, runtime_checkable

from mnemo.errors import InvalidInput

__all__ = [
    "CANDIDATE_KINDS",
    "CandidateKind",
    "CandidateMemory",
    "Extraction",
    "Extractor",
    "Turn",
    "clamp_unit",
]

CandidateKind = Literal["fact", "preference", "commitment", "instruction", "entity", "event"]
CANDIDATE_KINDS: tuple[CandidateKind, ...] = (
    "fact",
    "preference",
    "commitment",
    "instruction",
    "entity",
    "event",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Turn:
    """One conversation turn handed to an extractor.

    ``speaker`` is the display name of whoever spoke (``"Alice"``), or ``None``
    when unknown; extractors then say "the user" / "the assistant" after ``role``.
    ``created_at`` anchors relative dates ("yesterday") and should be aware.
    """

    id: str
    role: str
    content: str
    created_at: datetime
    speaker: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CandidateMemory:
    """A memory an extractor proposes; reconciliation decides whether to keep it.

    ``content`` is a standalone third-person statement ("Alice prefers dark roast
    coffee"): no "I", no "yesterday". ``event_date`` is the (first) day the
    memory refers to, when it names one. ``confidence`` and ``importance`` are in
    [0, 1]; ``source_turn_ids`` name the turns it came from.
    """

    kind: CandidateKind
    content: str
    confidence: float = 0.5
    importance: float = 0.5
    source_turn_ids: tuple[str, ...] = ()
    event_date: date | None = None

    def __post_init__(self) -> None:
        if self.kind not in CANDIDATE_KINDS:
            raise InvalidInput(
                f"unknown candidate kind {self.kind!r}; expected one of {CANDIDATE_KINDS}"
            )
        if not self.content.strip():
            raise InvalidInput("a candidate memory needs content")
        for name in ("confidence", "importance"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise InvalidInput(f"{name} must be in [0, 1], got {value}")


@dataclass(frozen=True, slots=True)
class Extraction:
    """What an extractor found in some turns."""

    candidates: list[CandidateMemory]
    #: The model's reply was cut off by its token limit (and repaired): what followed
    #: the cut is lost, so candidates may be missing.
    truncated: bool = False


@runtime_checkable
class Extractor(Protocol):
    """Proposes candidate memories from conversation turns."""

    async def extract(
        self, turns: Sequence[Turn], *, context: list[str] | None = None
    ) -> Extraction:
        """The candidates found in ``turns``.

        ``context`` holds short texts the extractor may use to avoid repeating
        what is already known (the user's existing memories, a session summary);
        extractors that cannot use it ignore it.
        """
        ...


def clamp_unit(value: object, default: float) -> float:
    """``value`` as a float clamped to [0, 1]; ``default`` when it is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return default
    return min(1.0, max(0.0, float(value)))
