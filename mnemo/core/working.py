"""Working memory: scratch items of a running task and its reasoning chain.

Records, eviction policies, and packing both into a token budget for a prompt.
Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from mnemo.core.budget import ContextItem, SectionSpec, allocate_budget
from mnemo.core.tokens import TokenCounter

EvictionPolicy = Literal["importance", "lru", "fifo"]
#: Which item a full namespace drops first: the least important (then least
#: recently used), the least recently used, or the oldest.
EVICTION_POLICIES: tuple[str, ...] = ("importance", "lru", "fifo")


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkingItem:
    """One scratch item, addressed by ``key`` within its scope and namespace."""

    namespace: str
    key: str
    value: Any
    importance: float
    user_id: str
    agent_id: str | None
    session_id: str | None
    created_at: datetime
    updated_at: datetime
    #: As of the last write of this namespace (reads are recorded in batches).
    last_accessed_at: datetime
    expires_at: datetime | None
    size_bytes: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainStep:
    """One step of a reasoning chain; ``position`` orders the chain (1, 2, ...)."""

    namespace: str
    position: int
    step: str
    result: Any
    importance: float
    metadata: dict[str, Any]
    created_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class PutResult:
    """What ``put`` stored, and the keys it evicted to stay within capacity."""

    item: WorkingItem
    evicted: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkingNamespaceStats:
    """What one working-memory namespace holds (live rows only)."""

    namespace: str
    items: int
    steps: int
    #: JSON bytes of item values and step results.
    value_bytes: int
    mean_importance: float | None
    oldest: datetime | None
    newest: datetime | None
    next_expiry: datetime | None


@dataclass(frozen=True, slots=True)
class WorkingContext:
    """Working memory packed for a prompt: the items kept (most important first),
    the chain steps kept (in order), the rendered ``text`` and its ``tokens``."""

    items: tuple[WorkingItem, ...]
    chain: tuple[ChainStep, ...]
    text: str
    tokens: int
    dropped_items: int = 0
    dropped_steps: int = 0
    sections: tuple[str, ...] = field(default=())


ITEMS_SECTION = SectionSpec("working_items", 0.5, 0, "Working memory", allow_truncation=True)
CHAIN_SECTION = SectionSpec("reasoning_chain", 0.5, 1, "Reasoning chain", contiguous=True)


def render_value(value: Any) -> str:
    """A value as prompt text: strings as they are, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def item_line(item: WorkingItem) -> str:
    return f"- {item.key}: {render_value(item.value)}"


def step_line(step: ChainStep) -> str:
    if step.result is None:
        return f"{step.position}. {step.step}"
    return f"{step.position}. {step.step} -> {render_value(step.result)}"


def pack_working_context(
    items: Sequence[WorkingItem],
    chain: Sequence[ChainStep],
    max_tokens: int,
    counter: TokenCounter,
) -> WorkingContext:
    """The most important items and the latest chain steps that fit ``max_tokens``.

    Items are ranked by importance (then most recently used); the chain keeps a
    contiguous run of its latest steps and is rendered oldest first. The whole
    text, headers included, never exceeds ``max_tokens`` by ``counter``.
    """
    ranked = sorted(items, key=lambda i: (-i.importance, -i.last_accessed_at.timestamp(), i.key))
    newest_first = sorted(chain, key=lambda s: -s.position)
    sections = {
        ITEMS_SECTION.name: [ContextItem(item_line(i), ref=i.key) for i in ranked],
        CHAIN_SECTION.name: [ContextItem(step_line(s), ref=str(s.position)) for s in newest_first],
    }
    specs = {ITEMS_SECTION.name: ITEMS_SECTION, CHAIN_SECTION.name: CHAIN_SECTION}
    packed = allocate_budget(sections, max_tokens, counter, specs=specs)
    kept_items = _kept(packed.section(ITEMS_SECTION.name))
    kept_steps = _kept(packed.section(CHAIN_SECTION.name))
    chosen_items = [i for i in ranked if i.key in kept_items]
    chosen_steps = sorted((s for s in chain if str(s.position) in kept_steps), key=_position)
    text, lines = _fit(chosen_items, chosen_steps, kept_items, max_tokens, counter)
    return WorkingContext(
        items=tuple(chosen_items),
        chain=tuple(chosen_steps),
        text=text,
        tokens=counter.count(text),
        dropped_items=len(items) - len(chosen_items),
        dropped_steps=len(chain) - len(chosen_steps),
        sections=lines,
    )


def _kept(section: Any) -> dict[str, str]:
    """ref -> rendered text of the items a budget section kept (possibly cut)."""
    if section is None:
        return {}
    return {item.ref: item.text for item in section.items if item.ref is not None}


def _position(step: ChainStep) -> int:
    return step.position


def _render(
    items: Sequence[WorkingItem], steps: Sequence[ChainStep], texts: dict[str, str]
) -> tuple[str, tuple[str, ...]]:
    blocks: list[str] = []
    names: list[str] = []
    if items:
        lines = [ITEMS_SECTION.header(), *(texts.get(i.key, item_line(i)) for i in items)]
        blocks.append("\n".join(lines))
        names.append(ITEMS_SECTION.name)
    if steps:
        blocks.append("\n".join([CHAIN_SECTION.header(), *(step_line(s) for s in steps)]))
        names.append(CHAIN_SECTION.name)
    return "\n\n".join(blocks), tuple(names)


def _fit(
    items: list[WorkingItem],
    steps: list[ChainStep],
    texts: dict[str, str],
    max_tokens: int,
    counter: TokenCounter,
) -> tuple[str, tuple[str, ...]]:
    """Render chronologically; drop the oldest step or least important item until it fits.

    The budget verified a rendering in rank order; lines in chain order can
    merge into tokens differently, so the final text is counted again.
    """
    while True:
        text, names = _render(items, steps, texts)
        if counter.count(text) <= max_tokens:
            return text, names
        if steps and (len(steps) >= len(items)):
            steps.pop(0)
        else:
            items.pop()


__all__ = [
    "EVICTION_POLICIES",
    "ChainStep",
    "EvictionPolicy",
    "PutResult",
    "WorkingContext",
    "WorkingItem",
    "WorkingNamespaceStats",
    "item_line",
    "pack_working_context",
    "render_value",
    "step_line",
]
