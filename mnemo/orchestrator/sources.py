"""Each context section's source: reads the engine's memory kinds, offers ranked entries.

Sources only read (cached where the kind caches); none writes or folds a
summary on the request path. Scopes: the conversation sections (summary,
recent turns) and working memory read the request's session; memories,
entities, documents and instruction memories are the user's across sessions
(narrowed to the agent when one is named) — long-term memory is not tied to
the session it was learnt in — and past turns are the user's other sessions'.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mnemo.core.document_records import ChunkHit
from mnemo.core.message_checks import search_text, turn_texts
from mnemo.core.messages import DEFAULT_SESSION, MessageHit, MessageRecord
from mnemo.core.records import MemoryRecord, Scope
from mnemo.core.working import ChainStep, WorkingItem, render_value
from mnemo.kinds.entity_context import entity_line, relation_line
from mnemo.orchestrator.compose import Candidate
from mnemo.orchestrator.result import ContextEntry

if TYPE_CHECKING:
    from mnemo.orchestrator.reader import MemoryReader

__all__ = ["SOURCES", "Found", "Plan", "Source"]

#: Instruction memories offered at most, and working-memory namespaces read at most.
MAX_INSTRUCTIONS = 20
MAX_NAMESPACES = 10
MAX_WORKING_ITEMS = 100
MAX_CHAIN_STEPS = 50


@dataclass(frozen=True, slots=True)
class Plan:
    """What every source needs: the request's scope, query and budget."""

    scope: Scope
    query: str
    max_tokens: int

    @property
    def user_scope(self) -> Scope:
        """The user (and agent) without the session: where long-term memory lives."""
        return replace(self.scope, session_id=None)

    def limit(self, tokens_per_item: int, low: int, high: int) -> int:
        """Entries worth fetching for this budget: ``max_tokens / tokens_per_item``
        within ``[low, high]``."""
        return max(low, min(high, self.max_tokens // tokens_per_item))


@dataclass(frozen=True, slots=True)
class Found:
    """A source's answer: candidates best first, facts about it, the raw records."""

    candidates: list[Candidate] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    records: tuple[Any, ...] = ()


Source = Callable[["MemoryReader", Plan], Awaitable[Found]]


def _day(moment: datetime | None) -> str | None:
    return moment.date().isoformat() if moment is not None else None


async def instructions(engine: MemoryReader, plan: Plan) -> Found:
    """Active settings (the more specific scope winning) then instruction memories."""
    user = plan.user_scope
    settings, memories = await asyncio.gather(
        _layered_settings(engine, plan.scope),
        engine.list(
            user_id=user.user_id,
            agent_id=user.agent_id,
            kinds=["instruction"],
            limit=MAX_INSTRUCTIONS,
        ),
    )
    candidates = []
    for key in sorted(settings):
        line = f"{key}: {render_value(settings[key])}"
        entry = ContextEntry(f"- {line}", "setting", line, key, {"key": key})
        candidates.append(Candidate(entry))
    candidates += [Candidate(_memory_entry(m, "instruction")) for m in memories]
    return Found(candidates, {"settings": len(settings)}, tuple(memories))


async def _layered_settings(engine: MemoryReader, scope: Scope) -> dict[str, Any]:
    """The user's settings, overridden by the agent's, the session's, then both's."""
    layers = [
        (None, None),
        (scope.agent_id, None),
        (None, scope.session_id),
        (scope.agent_id, scope.session_id),
    ]
    wanted = list(dict.fromkeys(layer for layer in layers if _within(layer, scope)))
    found = await asyncio.gather(
        *(
            engine.settings.active(user_id=scope.user_id, agent_id=a, session_id=s)
            for a, s in wanted
        )
    )
    merged: dict[str, Any] = {}
    for values in found:
        merged.update(values)
    return merged


def _within(layer: tuple[str | None, str | None], scope: Scope) -> bool:
    agent, session = layer
    return (agent is None or agent == scope.agent_id) and (
        session is None or session == scope.session_id
    )


async def summary(engine: MemoryReader, plan: Plan) -> Found:
    """The session's stored progressive summary, one entry per line (never folded here)."""
    summarizer = await engine.conversation_summary()
    stored = await summarizer.summary(plan.scope)
    if stored is None:
        return Found(info={"summarized_through_turn": 0})
    lines = [line for line in stored.content.splitlines() if line.strip()]
    candidates = [
        Candidate(ContextEntry(line, "summary", _said(line), f"{stored.session_id}:{n}"))
        for n, line in enumerate(lines, start=1)
    ]
    info = {
        "summarized_through_turn": stored.through_turn,
        "method": stored.method,
        "updated_at": stored.updated_at.isoformat() if stored.updated_at else None,
    }
    return Found(candidates, info, (stored,))


#: ``[date] speaker: `` before what an extractive summary line quotes.
_QUOTED = re.compile(r"^(?:\[[^\]\n]{1,40}\]\s*)?[^:\n]{1,60}:\s+(?=\S)")


def _said(line: str) -> str:
    """A summary line's words without its date and speaker, so a line quoting a turn
    that the context shows verbatim counts as that turn's duplicate."""
    return _QUOTED.sub("", line, count=1)


async def recent_conversation(engine: MemoryReader, plan: Plan) -> Found:
    """The newest turns of the session within the whole budget, offered newest first
    and rendered oldest first."""
    buffer = await engine.conversation_buffer(window_type="tokens", window_size=plan.max_tokens)
    window = await buffer.window(plan.scope)
    texts = dict(zip((t.id for t in window.messages), turn_texts(window.messages), strict=True))
    turns = list(reversed(window.messages))
    candidates = [Candidate(_turn_entry(t, texts[t.id]), position=t.turn_number) for t in turns]
    info = {"session_id": window.session_id, "expired": window.expired}
    return Found(candidates, info, tuple(turns))


def _turn_entry(turn: MessageRecord, content: str) -> ContextEntry:
    speaker = f"{turn.name} ({turn.role})" if turn.name else turn.role
    details = {
        "role": turn.role,
        "turn_number": turn.turn_number,
        "created_at": turn.created_at.isoformat(),
    }
    return ContextEntry(f"{speaker}: {content}", "message", content, turn.id, details, record=turn)


async def vector_search(engine: MemoryReader, plan: Plan) -> Found:
    """The user's memories most relevant to the query (hybrid search), best first."""
    user = plan.user_scope
    hits = await engine.search(
        plan.query, user_id=user.user_id, agent_id=user.agent_id, limit=plan.limit(40, 10, 50)
    )
    return Found([Candidate(_memory_entry(hit, "memory")) for hit in hits], {}, tuple(hits))


async def past_turns(engine: MemoryReader, plan: Plan) -> Found:
    """The turns of the user's other sessions most relevant to the query, best first:
    one hybrid search over the stored turns, the session shown as recent conversation
    left out by the query itself."""
    user = plan.user_scope
    hits = await engine.search_messages(
        plan.query,
        user_id=user.user_id,
        agent_id=user.agent_id,
        exclude_session_id=plan.scope.session_id or DEFAULT_SESSION,
        limit=plan.limit(60, 5, 20),
    )
    return Found([Candidate(_past_turn_entry(hit)) for hit in hits], {}, tuple(hits))


def _past_turn_entry(turn: MessageHit) -> ContextEntry:
    """``[date, session s] speaker: what was said``, verbatim."""
    entry = _turn_entry(turn, search_text(turn.content, turn.tool_calls, turn.tool_results))
    text = f"[{_day(turn.created_at)}, session {turn.session_id}] {entry.text}"
    details = {**entry.details, "session_id": turn.session_id, "score": turn.score}
    return replace(entry, text=text, source="past_turn", details=details)


def _memory_entry(memory: MemoryRecord, source: str) -> ContextEntry:
    day = _day(memory.valid_from or memory.created_at)
    details: dict[str, Any] = {
        "kind": memory.kind,
        "created_at": memory.created_at.isoformat(),
        "confidence": memory.confidence,
        "importance": memory.importance,
    }
    score = getattr(memory, "score", None)
    if score is not None:
        details["score"] = score
    text = f"- ({memory.kind}, {day}) {memory.content}"
    return ContextEntry(text, source, memory.content, memory.id, details, record=memory)


async def entities(engine: MemoryReader, plan: Plan) -> Found:
    """Entities the query names or matches, then the most important, and their relations."""
    user = plan.user_scope
    found = await engine.entities.get_context(
        plan.query, user_id=user.user_id, agent_id=user.agent_id, limit=plan.limit(150, 5, 20)
    )
    candidates = []
    for entity in found.entities:
        line = entity_line(entity)
        details = {"name": entity.name, "type": entity.type, "importance": entity.importance}
        candidates.append(
            Candidate(ContextEntry(line, "entity", line[2:], entity.id, details, record=entity))
        )
    for relation in found.relations:
        line = relation_line(relation)
        details = {
            "subject": relation.subject,
            "predicate": relation.predicate,
            "object": relation.object,
        }
        candidates.append(
            Candidate(
                ContextEntry(line, "relation", line[2:], relation.id, details, record=relation)
            )
        )
    records = (*found.entities, *found.relations)
    return Found(candidates, {"relations": len(found.relations)}, records)


async def working_memory(engine: MemoryReader, plan: Plan) -> Found:
    """Live items (most important first) and latest reasoning steps of the user's
    namespaces and, with a session, of the session's (its items win a shared key);
    items render before steps, steps in chain order."""
    layers = _working_layers(plan.scope)
    names = await _namespaces(engine, plan.scope)
    read = await asyncio.gather(*(_namespace(engine, s, n) for s in layers for n in names))
    items = {(i.namespace, i.key): i for found_items, _ in read for i in found_items}
    steps = [step for _, found_steps in read for step in found_steps[-MAX_CHAIN_STEPS:]]
    entries: list[WorkingItem | ChainStep] = [*items.values(), *steps]
    ranked = sorted(entries, key=_importance_then_recency)
    # Items render first (most important first), then every step in chain order.
    shown = [*(i for i in ranked if isinstance(i, WorkingItem)), *steps]
    position = {id(entry): n for n, entry in enumerate(shown)}
    candidates = [
        Candidate(_working_entry(entry, len(names) > 1), position=position[id(entry)])
        for entry in ranked
    ]
    return Found(candidates, {"namespaces": names}, tuple(ranked))


def _working_layers(scope: Scope) -> list[Scope]:
    """The user's own scope (no session), then the session's when one is named."""
    user = replace(scope, session_id=None)
    return [user] if scope.session_id is None else [user, scope]


async def _namespaces(engine: MemoryReader, scope: Scope) -> list[str]:
    """The session's namespaces first, then the user's others; newest first, capped."""
    stats = engine.working.namespace_stats
    sessions = [scope.session_id, None] if scope.session_id is not None else [None]
    found = await asyncio.gather(
        *(stats(user_id=scope.user_id, agent_id=scope.agent_id, session_id=s) for s in sessions)
    )
    ordered = [s.namespace for group in found for s in sorted(group, key=_newest_first)]
    return list(dict.fromkeys(ordered))[:MAX_NAMESPACES]


def _newest_first(stats: Any) -> float:
    return -stats.newest.timestamp() if stats.newest is not None else 0.0


async def _namespace(
    engine: MemoryReader, scope: Scope, name: str
) -> tuple[list[WorkingItem], list[ChainStep]]:
    where: Mapping[str, Any] = {
        "user_id": scope.user_id,
        "agent_id": scope.agent_id,
        "session_id": scope.session_id,
    }
    items, chain = await asyncio.gather(
        engine.working.list(name, limit=MAX_WORKING_ITEMS, **where),
        engine.working.get_chain(name, **where),
    )
    return items, chain


def _importance_then_recency(entry: WorkingItem | ChainStep) -> tuple[float, float]:
    moment = entry.last_accessed_at if isinstance(entry, WorkingItem) else entry.created_at
    return -entry.importance, -moment.timestamp()


def _working_entry(entry: WorkingItem | ChainStep, tagged: bool) -> ContextEntry:
    tag = f"[{entry.namespace}] " if tagged else ""
    if isinstance(entry, WorkingItem):
        content = f"{entry.key}: {render_value(entry.value)}"
        details = {"namespace": entry.namespace, "key": entry.key, "importance": entry.importance}
        return ContextEntry(
            f"- {tag}{content}",
            "working_item",
            content,
            f"{entry.namespace}/{entry.key}",
            details,
            record=entry,
        )
    content = (
        entry.step if entry.result is None else f"{entry.step} -> {render_value(entry.result)}"
    )
    details = {
        "namespace": entry.namespace,
        "position": entry.position,
        "importance": entry.importance,
    }
    return ContextEntry(
        f"{tag}step {entry.position}: {content}",
        "reasoning_step",
        content,
        f"{entry.namespace}#{entry.position}",
        details,
        record=entry,
    )


async def documents(engine: MemoryReader, plan: Plan) -> Found:
    """Reference passages relevant to the query (the user's and shared documents)."""
    user = plan.user_scope
    found = await engine.documents.get_context(
        plan.query, user_id=user.user_id, agent_id=user.agent_id, limit=plan.limit(300, 3, 10)
    )
    candidates = []
    for hit in found.chunks:
        text = _passage(hit)
        if text is None:
            continue
        details = {
            "document": hit.document_name,
            "title": hit.document_title,
            "heading": hit.heading_path,
            "score": hit.score,
            "shared": hit.shared,
        }
        entry = ContextEntry(text, "chunk", hit.content, hit.id, details, record=hit)
        candidates.append(Candidate(entry))
    return Found(candidates, {}, tuple(found.chunks))


_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s")


def _passage(hit: ChunkHit) -> str | None:
    """``[Title > heading > path]`` then the chunk's text, its own heading lines and
    blank lines left out (the context's headings stay the only ``##`` lines);
    ``None`` for a chunk with no text beyond headings."""
    label = hit.document_title or hit.document_name
    path = [label, *(h for h in hit.heading_path if h != label)]
    lines = hit.content.splitlines()
    if lines and hit.heading_path and lines[0].strip() == " > ".join(hit.heading_path):
        lines = lines[1:]
    body = [line for line in lines if line.strip() and not _MARKDOWN_HEADING.match(line)]
    return f"[{' > '.join(path)}]\n" + "\n".join(body) if body else None


#: Each section's source, and whether it needs the query's vector.
SOURCES: Mapping[str, tuple[Source, bool]] = {
    "instructions": (instructions, False),
    "summary": (summary, False),
    "recent_conversation": (recent_conversation, False),
    "vector_search": (vector_search, True),
    "past_turns": (past_turns, True),
    "entities": (entities, True),
    "working_memory": (working_memory, False),
    "documents": (documents, True),
}
