"""Reconciliation: what to do with a candidate memory, given the user's nearest memories.

Every candidate an extractor proposes is compared with the most similar
memories the user already has, and one decision is taken:

    add        new information: store it
    update     it refines one memory (same fact, more detail): rewrite that memory
    supersede  it replaces memories that stopped being true: they get ``valid_to``
               and ``superseded_by`` and stay queryable as history
    ignore     a memory already says it: keep that one (its provenance grows)

:class:`RulesReconciler` decides offline from cosine similarity and the word and
slot checks of :mod:`mnemo.lifecycle.statements`; :class:`LLMReconciler` asks a
model (prompts ``reconcile.md`` / ``reconcile_input.md``) and falls back to the
rules when its reply is unusable. Neither writes anything: the extraction
pipeline applies the :class:`Decision` and records it in ``memory_events``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from string import Template
from typing import Any, Literal, Protocol

from mnemo.core.records import MemoryRecord
from mnemo.lifecycle.extraction.candidates import CandidateMemory
from mnemo.lifecycle.extraction.llm import load_prompt
from mnemo.lifecycle.statements import (
    SimilarityRules,
    Statement,
    analyse,
    conflicts,
    refines,
    same_statement,
)
from mnemo.providers.llms.base import LLM, ChatMessage

__all__ = [
    "ACTIONS",
    "RECONCILE_SCHEMA",
    "Action",
    "Decision",
    "LLMReconciler",
    "Neighbour",
    "Reconciler",
    "RulesReconciler",
]

Action = Literal["add", "update", "supersede", "ignore"]
ACTIONS: tuple[Action, ...] = ("add", "update", "supersede", "ignore")

RECONCILE_SCHEMA: dict[str, Any] = {
    "title": "reconciliation",
    "type": "object",
    "properties": {
        "decision": {"type": "string", "enum": list(ACTIONS)},
        "memory_ids": {"type": "array", "items": {"type": "string"}},
        "content": {"type": "string"},
        "reason": {"type": "string"},
    },
    "required": ["decision", "memory_ids", "content", "reason"],
    "additionalProperties": False,
}


@dataclass(frozen=True, slots=True)
class Neighbour:
    """An existing memory near a candidate, with their cosine similarity."""

    record: MemoryRecord
    similarity: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """What to do with one candidate; ``targets`` are the existing memories acted on."""

    action: Action
    content: str
    reason: str
    targets: tuple[str, ...] = ()
    decided_by: str = "rules"


class Reconciler(Protocol):
    """Decides what a candidate means for the memories that resemble it."""

    name: str

    async def decide(
        self, candidate: CandidateMemory, neighbours: Sequence[Neighbour], *, learned_at: datetime
    ) -> Decision:
        """The decision for ``candidate`` (learned at ``learned_at``) given ``neighbours``."""
        ...


class RulesReconciler:
    """Decides offline: duplicates first, then slot conflicts, then refinements, else add."""

    name = "rules"

    def __init__(self, rules: SimilarityRules | None = None) -> None:
        self.rules = rules or SimilarityRules()

    async def decide(
        self, candidate: CandidateMemory, neighbours: Sequence[Neighbour], *, learned_at: datetime
    ) -> Decision:
        """See :meth:`decide_sync`; ``learned_at`` does not change a rules decision."""
        return self.decide_sync(candidate, neighbours)

    def decide_sync(self, candidate: CandidateMemory, neighbours: Sequence[Neighbour]) -> Decision:
        """The decision for ``candidate``, most similar neighbours weighing first.

        Past events are never superseded (they stay true); refinements only apply
        within one kind.
        """
        new = analyse(candidate.content)
        ranked = [(n, analyse(n.record.content)) for n in _by_similarity(neighbours)]
        return (
            self._duplicate(ranked, new)
            or self._conflict(ranked, new, candidate)
            or self._refinement(ranked, new, candidate)
            or _add(candidate, ranked)
        )

    def _duplicate(self, ranked: _Ranked, new: Statement) -> Decision | None:
        for n, old in ranked:
            if same_statement(new, old, n.similarity, self.rules):
                return Decision(
                    action="ignore",
                    content=n.record.content,
                    targets=(n.record.id,),
                    reason=f"already known as {n.record.id} (cosine {n.similarity:.3f})",
                )
        return None

    def _conflict(
        self, ranked: _Ranked, new: Statement, candidate: CandidateMemory
    ) -> Decision | None:
        replaced = [
            n.record
            for n, old in ranked
            if n.record.kind != "event" and conflicts(new, old, n.similarity, self.rules)
        ]
        if not replaced:
            return None
        quoted = "; ".join(repr(r.content) for r in replaced)
        return Decision(
            action="supersede",
            content=candidate.content,
            targets=tuple(r.id for r in replaced),
            reason=f"a new value for the same attribute replaces {quoted}",
        )

    def _refinement(
        self, ranked: _Ranked, new: Statement, candidate: CandidateMemory
    ) -> Decision | None:
        for n, old in ranked:
            if n.record.kind == candidate.kind and refines(new, old, n.similarity, self.rules):
                return Decision(
                    action="update",
                    content=candidate.content,
                    targets=(n.record.id,),
                    reason=f"adds detail to {n.record.content!r} (cosine {n.similarity:.3f})",
                )
        return None


_Ranked = list[tuple[Neighbour, Statement]]


def _by_similarity(neighbours: Sequence[Neighbour]) -> list[Neighbour]:
    return sorted(neighbours, key=lambda n: (-n.similarity, n.record.id))


def _add(candidate: CandidateMemory, ranked: _Ranked) -> Decision:
    if not ranked:
        reason = "no similar memory"
    else:
        nearest = ranked[0][0]
        reason = f"new information; nearest memory {nearest.record.id} at cosine "
        reason += f"{nearest.similarity:.3f}"
    return Decision(action="add", content=candidate.content, reason=reason)


class LLMReconciler:
    """Asks an LLM to decide when a candidate has close neighbours; else adds it.

    Neighbours below ``min_similarity`` are not shown (a plain add costs no call).
    A reply that names unknown memories, or an update without exactly one target,
    is not trusted: the rules decide instead, and the reason says so. A model
    that gives no valid JSON at all raises :class:`~mnemo.errors.LLMError`, so
    the job retries.
    """

    def __init__(
        self,
        llm: LLM,
        *,
        rules: SimilarityRules | None = None,
        min_similarity: float = 0.80,
        attempts: int | None = None,
    ) -> None:
        self.llm = llm
        self.fallback = RulesReconciler(rules)
        self.min_similarity = min_similarity
        self.attempts = attempts
        self.name = f"llm:{llm.model_id}"

    async def decide(
        self, candidate: CandidateMemory, neighbours: Sequence[Neighbour], *, learned_at: datetime
    ) -> Decision:
        """The model's decision over the close neighbours (see the class docstring)."""
        shown = [n for n in _by_similarity(neighbours) if n.similarity >= self.min_similarity]
        if not shown:
            return Decision(
                action="add", content=candidate.content, reason="no similar memory",
                decided_by=self.name,
            )  # fmt: skip
        labels = {f"m{index}": n for index, n in enumerate(shown, start=1)}
        completion = await self.llm.complete_json(
            build_messages(candidate, labels, learned_at),
            RECONCILE_SCHEMA,
            temperature=0.0,
            max_tokens=600,
            attempts=self.attempts,
        )
        decision, problem = decision_from_reply(completion.parsed, candidate, labels)
        if decision is not None:
            return Decision(
                action=decision.action, content=decision.content, targets=decision.targets,
                reason=decision.reason, decided_by=self.name,
            )  # fmt: skip
        fallback = self.fallback.decide_sync(candidate, shown)
        reason = f"LLM reply unusable ({problem}); rules: {fallback.reason}"
        return Decision(
            action=fallback.action, content=fallback.content, targets=fallback.targets,
            reason=reason, decided_by=f"{self.name}+rules",
        )  # fmt: skip


def build_messages(
    candidate: CandidateMemory, labels: dict[str, Neighbour], learned_at: datetime
) -> list[ChatMessage]:
    """The system and user messages asking for a decision about ``candidate``."""
    lines = "\n".join(
        f"[{label}] {n.record.kind}, since {_day(n.record.valid_from or n.record.created_at)}: "
        f"{' '.join(n.record.content.split())}"
        for label, n in labels.items()
    )
    user = Template(load_prompt("reconcile_input")).substitute(
        kind=candidate.kind, when=_day(learned_at), statement=candidate.content, memories=lines
    )
    return [ChatMessage.system(load_prompt("reconcile").strip()), ChatMessage.user(user.strip())]


def decision_from_reply(
    reply: Any, candidate: CandidateMemory, labels: dict[str, Neighbour]
) -> tuple[Decision | None, str]:
    """The decision a (schema-valid) reply describes, or ``None`` and what is wrong with it."""
    action = reply.get("decision") if isinstance(reply, dict) else None
    if action not in ACTIONS:
        return None, f"unknown decision {action!r}"
    by_id = {n.record.id: n for n in labels.values()}
    named = [str(i).strip().strip("[]") for i in reply.get("memory_ids") or []]
    unknown = [i for i in named if i not in labels and i not in by_id]
    targets = tuple(
        dict.fromkeys((labels.get(i) or by_id[i]).record.id for i in named if i not in unknown)
    )
    if unknown:
        return None, f"unknown memory ids {unknown}"
    if action in ("update", "ignore") and len(targets) != 1:
        return None, f"{action} needs exactly one memory id, got {len(targets)}"
    if action == "supersede" and not targets:
        return None, "supersede names no memory"
    content = " ".join(str(reply.get("content") or "").split())
    if action == "ignore":
        content = next(n.record.content for n in by_id.values() if n.record.id == targets[0])
    elif action != "update" or not content:
        content = candidate.content
    reason = " ".join(str(reply.get("reason") or "").split())[:500] or f"LLM decided {action}"
    return Decision(action=action, content=content, targets=targets, reason=reason), ""


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")
