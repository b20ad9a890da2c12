"""Compose gathered sections into one context within a token budget. Pure: no I/O.

``core.budget.allocate_budget`` decides what fits: shares, cross-section
deduplication (on each entry's bare ``content``, so a memory repeating a recent
turn stays only in the higher-priority section), redistribution of unused
room, and truncation of one entry per section where allowed. This module then
renders the chosen entries in reading order — sections in ``SECTION_NAMES``
order, entries in each section's display order (recent turns oldest first,
although they are budgeted newest first) — counts the text as a whole, and
drops the lowest-priority last entry while it is over the budget. The text's
token count therefore never exceeds ``max_tokens`` by the given counter.

Provenance: a memory every one of whose source turns is placed verbatim (as a
recent or a past turn) says nothing the context lacks; it is left out as that
turn's duplicate and the budget is packed again without it (it stays among the
section's ``found_records``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from mnemo.core.budget import (
    DEFAULT_SECTIONS,
    SECTION_SEPARATOR,
    BudgetResult,
    ContextItem,
    SectionSpec,
    allocate_budget,
)
from mnemo.core.tokens import TokenCounter
from mnemo.orchestrator.dedup import DedupKeys, dedup_key
from mnemo.orchestrator.request import SECTION_NAMES
from mnemo.orchestrator.result import (
    ContextEntry,
    ContextSection,
    DroppedEntry,
    DropReason,
    SectionStatus,
)

__all__ = ["Candidate", "Composition", "Gathered", "compose", "section_specs"]

#: Titles and packing rules per section; shares come from the request.
_LAYOUT: Mapping[str, dict[str, Any]] = MappingProxyType(
    {
        "instructions": {
            "title": "Instructions and settings",
            "contiguous": False,
            "allow_truncation": True,
        },
        "summary": {"title": "Summary of earlier conversation", "allow_truncation": True},
        "recent_conversation": {"title": "Recent conversation", "allow_truncation": True},
        "vector_search": {"title": "Relevant memories"},
        "past_turns": {"title": "Relevant past turns"},
        "entities": {"title": "Known entities"},
        "working_memory": {"title": "Working memory", "allow_truncation": True},
        "documents": {"title": "Reference documents", "allow_truncation": True},
    }
)


#: Sections whose entries often quote a turn or an instruction shown above them: their
#: entries also count as duplicates when contained in one (see ``dedup``).
QUOTING_SECTIONS = frozenset({"summary", "vector_search"})
#: Sections showing turns verbatim, and the section of memories extracted from turns.
TURN_SECTIONS = ("recent_conversation", "past_turns")
EXTRACTED_SECTION = "vector_search"


@dataclass(frozen=True, slots=True)
class Candidate:
    """An entry a source offers, at its rank; ``position`` orders the rendering
    (``None``: the rank order)."""

    entry: ContextEntry
    position: float | None = None


@dataclass(frozen=True, slots=True)
class Gathered:
    """What one section's source gave: its candidates best first, or its failure."""

    name: str
    candidates: tuple[Candidate, ...] = ()
    status: SectionStatus = "ok"
    error: str | None = None
    elapsed_ms: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    records: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Composition:
    """The rendered text, its token count, the sections and what was left out."""

    text: str
    tokens: int
    sections: tuple[ContextSection, ...]
    dropped: tuple[DroppedEntry, ...]


@dataclass(slots=True)
class _Placed:
    """A chosen entry with its rank (for trimming) and position (for rendering)."""

    rank: int
    position: float
    entry: ContextEntry


def section_specs(shares: Mapping[str, float]) -> dict[str, SectionSpec]:
    """Budget specs of every section: ``core.budget``'s priorities, these titles and
    packing rules, and the given shares."""
    return {
        name: replace(DEFAULT_SECTIONS[name], share=shares[name], **_LAYOUT[name])
        for name in SECTION_NAMES
    }


def compose(
    gathered: Sequence[Gathered],
    *,
    max_tokens: int,
    shares: Mapping[str, float],
    counter: TokenCounter,
) -> Composition:
    """Budget, render and verify the context of the ``gathered`` sections (see module)."""
    specs = section_specs(shares)
    by_name = {g.name: g for g in gathered}
    offered, keys = _offer(gathered, specs, counter)
    packed = allocate_budget(offered, max_tokens, counter, specs=specs)
    covered = _covered_by_turns(by_name, packed, keys)
    if covered:  # pack again without the memories whose turns are shown
        keys.update(covered)
        _withdraw(offered, covered)
        packed = allocate_budget(offered, max_tokens, counter, specs=specs)
    placed = {name: _placed(by_name[name], packed) for name in offered}
    text, tokens = _fit(placed, specs, max_tokens, counter)
    dropped = _dropped(gathered, placed, keys)
    duplicates = Counter(d.section for d in dropped if d.reason == "duplicate")
    sections = tuple(
        _section(
            by_name[name],
            specs[name],
            placed.get(name, []),
            packed,
            shares,
            counter,
            duplicates=duplicates[name],
        )
        for name in SECTION_NAMES
        if name in by_name
    )
    return Composition(text, tokens, sections, dropped)


def _offer(
    gathered: Sequence[Gathered], specs: Mapping[str, SectionSpec], counter: TokenCounter
) -> tuple[dict[str, list[ContextItem]], dict[tuple[str, int], str]]:
    """Budget items of the sections that have candidates, and each candidate's dedup
    key by (section, rank), assigned in priority order."""
    dedup = DedupKeys()
    offered: dict[str, list[ContextItem]] = {}
    keys: dict[tuple[str, int], str] = {}
    ready = [g for g in gathered if g.status == "ok" and g.candidates]
    for g in sorted(ready, key=lambda g: specs[g.name].priority):
        entries = [c.entry for c in g.candidates]
        texts = dedup.section(entries, containment=g.name in QUOTING_SECTIONS)
        offered[g.name] = [
            ContextItem(entry.text, counter.count(entry.text), str(rank), text)
            for rank, (entry, text) in enumerate(zip(entries, texts, strict=True))
        ]
        keys.update(
            {
                (g.name, rank): dedup_key(entry, text)
                for rank, (entry, text) in enumerate(zip(entries, texts, strict=True))
            }
        )
    return offered, keys


def _covered_by_turns(
    by_name: Mapping[str, Gathered], packed: BudgetResult, keys: Mapping[tuple[str, int], str]
) -> dict[tuple[str, int], str]:
    """Memories all of whose source turns are placed, each with the dedup key of one of
    those turns (so it is reported as that turn's duplicate)."""
    memories = by_name.get(EXTRACTED_SECTION)
    if memories is None:
        return {}
    shown: dict[str, str] = {}  # turn id -> its dedup key
    for name in TURN_SECTIONS:
        result = packed.section(name)
        if name not in by_name or result is None:
            continue
        for item in result.items:
            rank = int(item.ref or 0)
            ref = by_name[name].candidates[rank].entry.ref
            if ref is not None:
                shown.setdefault(ref, keys[(name, rank)])
    covered = {}
    for rank, candidate in enumerate(memories.candidates):
        sources = getattr(candidate.entry.record, "source_message_ids", None) or []
        if sources and all(str(source) in shown for source in sources):
            covered[(EXTRACTED_SECTION, rank)] = shown[str(sources[0])]
    return covered


def _withdraw(
    offered: dict[str, list[ContextItem]], covered: Mapping[tuple[str, int], str]
) -> None:
    """Take the covered entries out of what is offered (ranks stay their refs)."""
    for name in {name for name, _ in covered}:
        kept = [item for item in offered.get(name, []) if (name, int(item.ref or 0)) not in covered]
        if kept:
            offered[name] = kept
        else:
            offered.pop(name, None)


def _placed(gathered: Gathered, packed: BudgetResult) -> list[_Placed]:
    result = packed.section(gathered.name)
    chosen = result.items if result is not None else ()
    placed = []
    for item in chosen:
        rank = int(item.ref or 0)
        candidate = gathered.candidates[rank]
        entry = candidate.entry
        cut = item.text != entry.text
        entry = replace(entry, text=item.text, tokens=item.tokens or 0, truncated=cut)
        position = rank if candidate.position is None else candidate.position
        placed.append(_Placed(rank, position, entry))
    placed.sort(key=lambda p: (p.position, p.rank))
    return placed


def render(blocks: Sequence[tuple[SectionSpec, Sequence[ContextEntry]]]) -> str:
    """Sections with entries, each its ``## title`` line then one entry per line,
    separated by a blank line."""
    parts = []
    for spec, entries in blocks:
        if entries:
            header = [spec.header()] if spec.header() else []
            parts.append("\n".join([*header, *(entry.text for entry in entries)]))
    return SECTION_SEPARATOR.join(parts)


def _fit(
    placed: dict[str, list[_Placed]],
    specs: Mapping[str, SectionSpec],
    max_tokens: int,
    counter: TokenCounter,
) -> tuple[str, int]:
    """Render in reading order; while over budget, drop the lowest-priority section's
    lowest-ranked entry (the budget verified another order, which can merge tokens
    differently across lines)."""
    while True:
        blocks = [
            (specs[name], [p.entry for p in placed[name]])
            for name in SECTION_NAMES
            if name in placed
        ]
        text = render(blocks)
        tokens = counter.count(text)
        if tokens <= max_tokens:
            return text, tokens
        _drop_last(placed, specs)


def _drop_last(placed: dict[str, list[_Placed]], specs: Mapping[str, SectionSpec]) -> None:
    for name in sorted(placed, key=lambda n: specs[n].priority, reverse=True):
        if placed[name]:
            worst = max(placed[name], key=lambda p: p.rank)
            placed[name].remove(worst)
            return
    raise AssertionError("an empty context cannot exceed the budget")


def _section(
    gathered: Gathered,
    spec: SectionSpec,
    placed: list[_Placed],
    packed: BudgetResult,
    shares: Mapping[str, float],
    counter: TokenCounter,
    *,
    duplicates: int,
) -> ContextSection:
    entries = tuple(p.entry for p in placed)
    budgeted = packed.section(gathered.name)
    present = [s.name for s in packed.sections]
    total_share = sum(shares[name] for name in present)
    share = shares[gathered.name] / total_share if gathered.name in present and total_share else 0
    status: SectionStatus = gathered.status
    if status == "ok" and not gathered.candidates:
        status = "empty"
    return ContextSection(
        name=gathered.name,
        title=spec.title,
        status=status,
        entries=entries,
        tokens=counter.count(render([(spec, entries)])),
        share=share,
        quota=budgeted.quota if budgeted is not None else 0,
        found=len(gathered.candidates),
        dropped_for_budget=len(gathered.candidates) - len(entries) - duplicates,
        dropped_duplicates=duplicates,
        truncated=any(entry.truncated for entry in entries),
        elapsed_ms=gathered.elapsed_ms,
        error=gathered.error,
        info=gathered.info,
        found_records=gathered.records,
    )


def _dropped(
    gathered: Sequence[Gathered],
    placed: Mapping[str, list[_Placed]],
    keys: Mapping[tuple[str, int], str],
) -> tuple[DroppedEntry, ...]:
    """Every candidate not placed: a duplicate when what it says is placed elsewhere
    (or earlier in its own section), else left out for the budget."""
    holder: dict[str, str] = {}
    for name in SECTION_NAMES:
        for p in placed.get(name, []):
            holder.setdefault(keys[(name, p.rank)], name)
    out = []
    for g in gathered:
        chosen = {p.rank for p in placed.get(g.name, [])}
        for rank, candidate in enumerate(g.candidates):
            if rank in chosen:
                continue
            entry = candidate.entry
            kept_in = holder.get(keys.get((g.name, rank), ""))
            reason: DropReason = "duplicate" if kept_in is not None else "budget"
            out.append(
                DroppedEntry(g.name, entry.source, entry.ref, entry.content, reason, kept_in)
            )
    return tuple(out)
