"""Token budgeting: fill a context of ``max_tokens`` from ranked sections.

Each section (recent conversation, summary, entities, ...) has a *share* of
the budget and a place in the *priority order*. Packing runs in passes:

1. **Deduplicate.** Walking sections in priority order, an item whose
   normalised text (case, accents, punctuation and spacing ignored) was already
   seen is dropped, so it stays only in the higher-priority section.
2. **Shares.** Each section takes its ranked items while they fit its share
   (shares renormalised over the sections present), header included. Items are
   never split; a *contiguous* section (a conversation window) stops at the
   first item that does not fit, others skip it and try the next one.
3. **Redistribution.** What is left of the whole budget goes to sections that
   still have items, in priority order.
4. **Truncation.** Where the caller allows it, a section's best-ranked item
   that did not fit is cut at a token boundary into whatever remains (at most
   one cut item per section, rendered at its rank).
5. **Verification.** The rendered text is counted as a whole; while it is over
   ``max_tokens`` (tokens can merge differently across joins) the
   lowest-priority last item is removed. The result's total therefore never
   exceeds ``max_tokens`` by the given counter — separators and headers
   included. Per-item estimates over-count slightly (a line break often merges
   with the punctuation before it), so the measured slack is spent once more
   on passes 3-4 and verified again.

Default shares follow the "memory implementations for LLM context" design
(``recent_conversation 0.4, summary 0.2, entities 0.15, vector_search 0.15,
working_memory 0.1``), plus mnemo's ``instructions`` (first in priority),
``past_turns`` (0.15: turns of the user's other sessions) and ``documents`` (last).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from types import MappingProxyType

from mnemo.core.tokens import TokenCounter
from mnemo.errors import InvalidInput

__all__ = [
    "DEFAULT_SECTIONS",
    "BudgetResult",
    "ContextItem",
    "SectionResult",
    "SectionSpec",
    "allocate_budget",
    "normalise_for_dedup",
]

SECTION_SEPARATOR = "\n\n"
ITEM_SEPARATOR = "\n"
MIN_TRUNCATED_TOKENS = 8


@dataclass(frozen=True, slots=True)
class SectionSpec:
    """How one section is budgeted and rendered.

    ``share`` is its weight in the budget (renormalised over the sections
    present); ``priority`` orders sections (lower first) for redistribution,
    deduplication and rendering; ``contiguous`` stops packing at the first item
    that does not fit instead of skipping it; ``title`` renders as a
    ``## title`` header (no header when empty).
    """

    name: str
    share: float
    priority: int
    title: str = ""
    contiguous: bool = False
    allow_truncation: bool = False

    def __post_init__(self) -> None:
        if not self.share >= 0 or self.share == float("inf"):
            raise InvalidInput(f"section {self.name!r}: share must be finite and >= 0")

    def header(self) -> str:
        return f"## {self.title}" if self.title else ""


DEFAULT_SECTIONS: Mapping[str, SectionSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            SectionSpec("instructions", 0.10, 0, "Instructions and settings", contiguous=True),
            SectionSpec("recent_conversation", 0.40, 1, "Recent conversation", contiguous=True),
            SectionSpec("summary", 0.20, 2, "Summary of earlier conversation", contiguous=True),
            SectionSpec("entities", 0.15, 3, "Entities"),
            # Before the memories: a memory extracted from a turn shown verbatim repeats it.
            SectionSpec("past_turns", 0.15, 4, "Relevant past turns"),
            SectionSpec("vector_search", 0.15, 5, "Relevant memories"),
            SectionSpec("working_memory", 0.10, 6, "Working memory"),
            SectionSpec("documents", 0.10, 7, "Reference documents"),
        )
    }
)


@dataclass(frozen=True, slots=True)
class ContextItem:
    """One ranked piece of text; ``tokens`` is counted when not given.

    ``ref`` is the caller's handle (a memory or chunk id) carried through.
    ``dedup`` is what deduplication compares (normalised) instead of ``text``:
    the bare content when ``text`` adds a label, a date or a speaker.
    """

    text: str
    tokens: int | None = None
    ref: str | None = None
    dedup: str | None = None


@dataclass(frozen=True, slots=True)
class SectionResult:
    """What one section got: chosen items (in rank order) and what was dropped."""

    spec: SectionSpec
    items: tuple[ContextItem, ...]
    quota: int
    tokens: int
    dropped_for_budget: int
    dropped_duplicates: int
    truncated: bool

    @property
    def name(self) -> str:
        return self.spec.name

    def render(self) -> str:
        """The section's text: header line then one item per line; ``""`` if empty."""
        if not self.items:
            return ""
        lines = [self.spec.header()] if self.spec.header() else []
        return ITEM_SEPARATOR.join([*lines, *(item.text for item in self.items)])


@dataclass(frozen=True, slots=True)
class BudgetResult:
    """The packed context. ``total_tokens`` counts ``render()`` as a whole."""

    max_tokens: int
    total_tokens: int
    sections: tuple[SectionResult, ...] = field(default_factory=tuple)

    def render(self) -> str:
        """Non-empty sections in priority order, separated by a blank line."""
        return render_sections(self.sections)

    def section(self, name: str) -> SectionResult | None:
        return next((s for s in self.sections if s.name == name), None)


def render_sections(sections: Iterable[SectionResult]) -> str:
    return SECTION_SEPARATOR.join(text for s in sections if (text := s.render()))


_PUNCT_OR_SPACE = re.compile(r"[\W_]+")


@lru_cache(maxsize=65536)
def normalise_for_dedup(text: str) -> str:
    """The key under which two texts count as the same: case-folded, accents
    stripped (NFKD), punctuation and runs of spacing collapsed to one space."""
    folded = text.casefold()
    if not folded.isascii():
        folded = unicodedata.normalize("NFKD", folded)
        folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _PUNCT_OR_SPACE.sub(" ", folded).strip()


@dataclass(slots=True)
class _Packing:
    """Mutable working state of one section while packing."""

    spec: SectionSpec
    candidates: list[ContextItem]
    keys: list[str]
    header_tokens: int
    repeats: int = 0
    quota: int = 0
    chosen: list[int] = field(default_factory=list)
    used: int = 0
    blocked: bool = False
    truncated: tuple[int, ContextItem] | None = None

    def is_present(self) -> bool:
        return bool(self.chosen) or self.truncated is not None

    def overhead(self) -> int:
        """Tokens for one more item besides its own: its line break, and the
        section header plus the section separator on the first item."""
        return 1 if self.is_present() else self.header_tokens + 1 + 2

    def pending(self) -> list[int]:
        taken = set(self.chosen)
        if self.truncated is not None:
            taken.add(self.truncated[0])
        return [i for i in range(len(self.candidates)) if i not in taken]


def allocate_budget(
    sections: Mapping[str, Sequence[ContextItem | str]],
    max_tokens: int,
    counter: TokenCounter,
    *,
    specs: Mapping[str, SectionSpec] = DEFAULT_SECTIONS,
    allow_truncation: bool = False,
) -> BudgetResult:
    """Pack ranked items into at most ``max_tokens`` tokens (see module docstring).

    ``sections`` maps a section name (a key of ``specs``) to its items, best
    first. ``allow_truncation`` lets one item per section (the best-ranked one
    that did not fit) be cut at a token boundary; a spec's own
    ``allow_truncation`` enables it per section. Deterministic: the same inputs
    give the same result.
    """
    if max_tokens < 0:
        raise InvalidInput("max_tokens must be >= 0")
    unknown = sorted(set(sections) - set(specs))
    if unknown:
        raise InvalidInput(f"unknown context sections: {unknown}")
    packings = _prepare(sections, specs, counter)
    _assign_quotas(packings, max_tokens)
    taken: set[str] = set()
    for packing in packings:
        _fill(packing, packing.quota, taken)
    _redistribute(packings, max_tokens, taken)
    result = _verify(packings, max_tokens, counter)
    # Estimates over-count (punctuation and line breaks often merge into one
    # token), so spend the measured slack, then verify again.
    slack = result.max_tokens - result.total_tokens
    if slack > 0 and any(p.pending() for p in packings):
        budget = _estimated_total(packings) + slack
        _redistribute(packings, budget, taken)
        _truncate_pending(packings, budget, counter, taken, allow_truncation)
        result = _verify(packings, max_tokens, counter)
    return result


def _prepare(
    sections: Mapping[str, Sequence[ContextItem | str]],
    specs: Mapping[str, SectionSpec],
    counter: TokenCounter,
) -> list[_Packing]:
    """Sections in priority order with counted items, repeats within a section removed."""
    ordered = sorted(sections, key=lambda name: (specs[name].priority, name))
    packings = []
    for name in ordered:
        spec = specs[name]
        header = counter.count(spec.header()) + 1 if spec.header() else 0
        packing = _Packing(spec, [], [], header)
        seen: set[str] = set()
        for raw in sections[name]:
            item = ContextItem(raw) if isinstance(raw, str) else raw
            key = normalise_for_dedup(item.text if item.dedup is None else item.dedup)
            if not key or key in seen:
                packing.repeats += 1
                continue
            seen.add(key)
            packing.keys.append(key)
            packing.candidates.append(_counted(item, counter))
        packings.append(packing)
    return packings


def _counted(item: ContextItem, counter: TokenCounter) -> ContextItem:
    if item.tokens is not None and item.tokens >= 0:
        return item
    return replace(item, tokens=counter.count(item.text))


def _tokens(item: ContextItem) -> int:
    return item.tokens or 0


def _assign_quotas(packings: list[_Packing], max_tokens: int) -> None:
    """Split the budget by share over the sections that have items (floors)."""
    present = [p for p in packings if p.candidates]
    total_share = sum(p.spec.share for p in present)
    for packing in present:
        fraction = packing.spec.share / total_share if total_share > 0 else 1 / len(present)
        packing.quota = int(max_tokens * fraction)


def _fill(packing: _Packing, allowance: int, taken: set[str]) -> None:
    """Add pending items in rank order within ``allowance`` tokens.

    Items whose text another section already holds are passed over; a
    contiguous section stops at the first item that does not fit.
    """
    added = 0
    for index in packing.pending():
        if packing.keys[index] in taken:
            continue
        cost = packing.overhead() + _tokens(packing.candidates[index])
        if added + cost > allowance:
            if packing.spec.contiguous:
                break
            continue
        packing.chosen.append(index)
        taken.add(packing.keys[index])
        added += cost
    packing.chosen.sort()
    packing.used += added


def _redistribute(packings: list[_Packing], max_tokens: int, taken: set[str]) -> None:
    """Give the unused budget to sections with items left, in priority order."""
    for packing in packings:
        left = max_tokens - _estimated_total(packings)
        if left > 0 and packing.pending():
            _fill(packing, left, taken)


def _truncate_pending(
    packings: list[_Packing],
    max_tokens: int,
    counter: TokenCounter,
    taken: set[str],
    allow_all: bool,
) -> None:
    """Cut each allowed section's best unplaced item into what remains."""
    for packing in packings:
        if not (allow_all or packing.spec.allow_truncation):
            continue
        pending = [i for i in packing.pending() if packing.keys[i] not in taken]
        room = max_tokens - _estimated_total(packings) - packing.overhead()
        if not pending or room < MIN_TRUNCATED_TOKENS:
            continue
        item = packing.candidates[pending[0]]
        text = counter.truncate(item.text, room).rstrip()
        if normalise_for_dedup(text):
            cut = replace(item, text=text, tokens=counter.count(text))
            packing.used += packing.overhead() + _tokens(cut)
            packing.truncated = (pending[0], cut)
            taken.add(packing.keys[pending[0]])


def _estimated_total(packings: list[_Packing]) -> int:
    """Upper estimate of the rendering's tokens: per-section costs summed."""
    return sum(p.used for p in packings)


def _results(packings: list[_Packing], counter: TokenCounter) -> tuple[SectionResult, ...]:
    out = []
    for p in packings:
        placed = {i: p.candidates[i] for i in p.chosen}
        if p.truncated is not None:
            placed[p.truncated[0]] = p.truncated[1]
        held_elsewhere = _held_elsewhere(p, packings)
        result = SectionResult(
            spec=p.spec,
            items=tuple(placed[i] for i in sorted(placed)),
            quota=p.quota,
            tokens=0,
            dropped_for_budget=len(p.candidates) - len(placed) - held_elsewhere,
            dropped_duplicates=p.repeats + held_elsewhere,
            truncated=p.truncated is not None,
        )
        out.append(replace(result, tokens=counter.count(result.render())))
    return tuple(out)


def _held_elsewhere(packing: _Packing, packings: list[_Packing]) -> int:
    """How many of this section's unplaced items another section placed."""
    others = {
        other.keys[i]
        for other in packings
        if other is not packing
        for i in [*other.chosen, *([other.truncated[0]] if other.truncated else [])]
    }
    return sum(1 for i in packing.pending() if packing.keys[i] in others)


def _verify(packings: list[_Packing], max_tokens: int, counter: TokenCounter) -> BudgetResult:
    """Count the real rendering; drop lowest-priority last items until it fits."""
    while True:
        sections = _results(packings, counter)
        total = counter.count(render_sections(sections))
        if total <= max_tokens:
            return BudgetResult(max_tokens, total, sections)
        _drop_one(packings)


def _drop_one(packings: list[_Packing]) -> None:
    for packing in reversed(packings):
        if packing.truncated is not None:
            packing.truncated = None
            return
        if packing.chosen:
            packing.chosen.pop()
            return
    raise AssertionError("an empty rendering cannot exceed the budget")
