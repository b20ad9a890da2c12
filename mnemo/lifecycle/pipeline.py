"""What an extraction job does: pending turns → candidates → reconciled memories, once.

:meth:`ExtractionPipeline.drain` takes a user's pending turns oldest first, a
batch at a time. For each batch it reads the turns (and the turn before each,
so "you" can be resolved), asks the extractor for candidates, embeds them, and
then, in **one transaction**, locks the turns' ledger rows, reconciles every
candidate against the user's nearest memories, writes the decisions with their
history, and marks the turns done. A worker killed anywhere in between leaves
the transaction uncommitted, so the retried job finds the same turns pending and
nothing half-written: every turn is extracted exactly once.

A batch that fails counts an attempt against each of its turns; a turn that
keeps failing goes to the ``failed`` (dead-letter) state and the error is kept.
A turn extracted from a model reply cut off by its token limit is ``done`` but
marked ``truncated`` in the ledger, and counted in the report.
Retries use batches of one turn, so one poisonous turn cannot sink its batch.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mnemo.config import LifecycleConfig
from mnemo.core.ids import new_id
from mnemo.lifecycle.cancellation import raise_if_cancelling
from mnemo.lifecycle.extraction.candidates import CandidateMemory, Extractor, Turn
from mnemo.lifecycle.reconcile import Decision, Neighbour, Reconciler
from mnemo.providers.embedders.base import Embedder
from mnemo.store.postgres.database import Connection
from mnemo.store.postgres.extractions import ExtractionStore, PendingTurn, StoredTurn
from mnemo.store.postgres.lifecycle import ExtractedMemory, LifecycleStore, Refinement

__all__ = ["DrainReport", "ExtractionPipeline"]


@dataclass(slots=True)
class DrainReport:
    """What draining a user's pending turns did."""

    turns: int = 0
    failed: int = 0
    candidates: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    #: Turns extracted from a model reply cut off by its token limit.
    truncated: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "turns": self.turns, "failed": self.failed, "candidates": self.candidates,
            "decisions": dict(self.decisions), "truncated": self.truncated,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Found:
    """A candidate with its vector, the time it was said and the turn it came from."""

    candidate: CandidateMemory
    vector: Any
    learned_at: datetime
    turn: StoredTurn


class ExtractionPipeline:
    """Extracts and reconciles the pending turns of one user at a time."""

    def __init__(
        self,
        *,
        extractions: ExtractionStore,
        memories: LifecycleStore,
        embedder: Embedder,
        extractor: Extractor,
        extractor_name: str,
        reconciler: Reconciler,
        config: LifecycleConfig,
    ) -> None:
        self._extractions = extractions
        self.memories = memories
        self.embedder = embedder
        self._extractor = extractor
        self.extractor_name = extractor_name
        self._reconciler = reconciler
        self._config = config

    async def drain(self, tenant_id: str, user_id: str, *, batch: int | None = None) -> DrainReport:
        """Extract every pending turn of the user, ``batch`` turns per transaction.

        Raises what a failing batch raised, after counting the attempt (the job
        then retries with back-off); earlier batches stay committed.
        """
        report = DrainReport()
        size = batch or self._config.extraction_batch
        while pending := await self._extractions.pending(tenant_id, user_id, limit=size):
            await self._give_up_missing(tenant_id, user_id, pending, report)
            turns = [p.turn for p in pending if p.turn is not None]
            if turns:
                await self._batch_counting_failures(tenant_id, user_id, turns, report)
        return report

    async def _give_up_missing(
        self, tenant_id: str, user_id: str, pending: list[PendingTurn], report: DrainReport
    ) -> None:
        missing = [p.message_id for p in pending if p.turn is None]
        if missing:
            report.failed += len(
                await self._extractions.record_failure(
                    tenant_id,
                    user_id,
                    missing,
                    error="the message no longer exists",
                    max_attempts=self._config.extraction_attempts,
                    final=True,
                )
            )

    async def _batch_counting_failures(
        self, tenant_id: str, user_id: str, turns: list[StoredTurn], report: DrainReport
    ) -> None:
        try:
            await self._batch(tenant_id, user_id, turns, report)
        except Exception as exc:  # counted against the turns, then re-raised for the retry
            raise_if_cancelling(exc)  # a shutdown is not the turns' fault
            await self._extractions.record_failure(
                tenant_id, user_id, [t.id for t in turns],
                error=f"{type(exc).__name__}: {exc}",
                max_attempts=self._config.extraction_attempts,
            )  # fmt: skip
            raise

    async def _batch(
        self, tenant_id: str, user_id: str, turns: list[StoredTurn], report: DrainReport
    ) -> None:
        found, truncated = await self._found(tenant_id, user_id, turns)
        async with self.memories.db.transaction(tenant_id) as conn:
            still = set(
                await self._extractions.lock_pending(
                    conn, tenant_id, user_id, [t.id for t in turns]
                )
            )
            produced: dict[str, list[str]] = {t.id: [] for t in turns if t.id in still}
            for item in found:
                if item.turn.id not in still:
                    continue  # another worker committed this turn meanwhile
                decision, memory_ids = await self._reconcile(conn, tenant_id, user_id, item)
                report.decisions[decision.action] += 1
                for source in item.candidate.source_turn_ids:
                    if source in produced:
                        produced[source].extend(memory_ids)
            truncated &= produced.keys()
            await self._extractions.mark_done(
                conn, tenant_id, user_id, produced, extractor=self.extractor_name,
                truncated=truncated,
            )  # fmt: skip
        report.turns += len(produced)
        report.truncated += len(truncated)
        report.candidates += sum(1 for item in found if item.turn.id in still)

    async def _found(
        self, tenant_id: str, user_id: str, turns: list[StoredTurn]
    ) -> tuple[list[_Found], set[str]]:
        """Candidates of ``turns`` with their vectors, in turn order; and the ids of the
        turns whose extraction came from a truncated reply."""
        by_id = {t.id: t for t in turns}
        before = await self._extractions.preceding(tenant_id, user_id, turns)
        candidates: list[CandidateMemory] = []
        truncated: set[str] = set()
        for session_turns in _by_session(turns):
            context = _with_context(session_turns, before, by_id)
            extraction = await self._extractor.extract([_turn(t) for t in context])
            candidates.extend(_own(extraction.candidates, by_id))
            if extraction.truncated:
                truncated.update(t.id for t in session_turns)
        vectors = await self.embedder.embed_many([c.content for c in candidates], "passage")
        found = []
        for candidate, vector in zip(candidates, vectors, strict=True):
            sources = [by_id[s] for s in candidate.source_turn_ids]
            learned_at = max(t.created_at for t in sources)
            found.append(_Found(candidate, vector, learned_at, sources[-1]))
        return sorted(found, key=lambda f: (f.learned_at, f.turn.turn_number)), truncated

    async def _reconcile(
        self, conn: Connection, tenant_id: str, user_id: str, item: _Found
    ) -> tuple[Decision, list[str]]:
        """Decide and apply one candidate; the memories it added or changed."""
        rows = await self.memories.nearest(
            conn, tenant_id, user_id, vector=item.vector, model=self.embedder.model_id,
            limit=self._config.reconcile_neighbours,
        )  # fmt: skip
        neighbours = [Neighbour(record, similarity) for record, similarity in rows]
        decision = await self._reconciler.decide(
            item.candidate, neighbours, learned_at=item.learned_at
        )
        apply = _Apply(self, conn, tenant_id, user_id, item, decision)
        return decision, await apply.run({n.record.id: n for n in neighbours})


class _Apply:
    """Writes one decision (kept apart so each action reads as one short method)."""

    def __init__(
        self, pipeline: ExtractionPipeline, conn: Connection, tenant_id: str, user_id: str,
        item: _Found, decision: Decision,
    ) -> None:  # fmt: skip
        self.p, self.conn, self.tenant, self.user = pipeline, conn, tenant_id, user_id
        self.item, self.decision = item, decision
        self.actor = f"reconciler:{decision.decided_by}"

    async def run(self, neighbours: dict[str, Neighbour]) -> list[str]:
        action = self.decision.action
        if action == "add":
            return [await self._insert(self.decision.reason)]
        if action == "supersede":
            return await self._supersede([neighbours[t] for t in self.decision.targets])
        return await self._refine(self.decision.targets[0], update=action == "update")

    async def _insert(
        self, reason: str, *, superseded_by: str | None = None, valid_to: datetime | None = None
    ) -> str:
        c, turn = self.item.candidate, self.item.turn
        metadata: dict[str, Any] = {"extracted_by": self.p.extractor_name}
        if c.event_date is not None:
            metadata["event_date"] = c.event_date.isoformat()
        memory = ExtractedMemory(
            id=str(new_id()), kind=c.kind, content=c.content, embedding=self.item.vector,
            confidence=c.confidence, importance=c.importance,
            source_message_ids=c.source_turn_ids, learned_at=self.item.learned_at,
            agent_id=turn.agent_id, session_id=turn.session_id, metadata=metadata,
            superseded_by=superseded_by, valid_to=valid_to,
        )  # fmt: skip
        record = await self.p.memories.insert(
            self.conn, self.tenant, self.user, memory, model=self.p.embedder.model_id,
            reason=f"extracted from turn {turn.id}: {reason}", actor=self.actor,
        )  # fmt: skip
        return record.id

    async def _supersede(self, targets: list[Neighbour]) -> list[str]:
        """The new memory replaces the targets; if they are all newer, it is history itself."""
        when = self.item.learned_at
        older = [n for n in targets if _since(n) <= when]
        if not older:  # an old statement arriving late: it was already replaced
            newest = min(targets, key=_since)
            reason = f"older than {newest.record.id}, which replaced it"
            return [
                await self._insert(reason, superseded_by=newest.record.id, valid_to=_since(newest))
            ]
        new_id_ = await self._insert(self.decision.reason)
        replaced = await self.p.memories.supersede(
            self.conn, self.tenant, self.user, [n.record.id for n in older], by=new_id_,
            valid_to=when, reason=self.decision.reason, actor=self.actor,
        )  # fmt: skip
        return [new_id_, *replaced]

    async def _refine(self, target: str, *, update: bool) -> list[str]:
        c = self.item.candidate
        content = self.decision.content if update else None
        vector = None
        if content is not None:
            vector = self.item.vector
            if content != c.content:  # an LLM merged the two statements: embed what is stored
                vector = (await self.p.embedder.embed_many([content], "passage"))[0]
        change = Refinement(
            memory_id=target, source_message_ids=c.source_turn_ids, confidence=c.confidence,
            importance=c.importance, content=content, embedding=vector,
        )  # fmt: skip
        record = await self.p.memories.refine(
            self.conn, self.tenant, self.user, change, model=self.p.embedder.model_id,
            event="update" if update else "ignore",
            reason=f"turn {self.item.turn.id}: {self.decision.reason}", actor=self.actor,
        )  # fmt: skip
        return [record.id] if record is not None else [await self._insert("its target vanished")]


def _since(neighbour: Neighbour) -> datetime:
    return neighbour.record.valid_from or neighbour.record.created_at


def _by_session(turns: Sequence[StoredTurn]) -> list[list[StoredTurn]]:
    sessions: dict[str, list[StoredTurn]] = defaultdict(list)
    for turn in turns:
        sessions[turn.session_id].append(turn)
    return [sorted(group, key=lambda t: t.turn_number) for group in sessions.values()]


def _with_context(
    turns: list[StoredTurn],
    before: dict[tuple[str, int], StoredTurn],
    own: dict[str, StoredTurn],
) -> list[StoredTurn]:
    """The session's turns with the turn before the first one, when it is not ours."""
    previous = before.get((turns[0].session_id, turns[0].turn_number))
    return [previous, *turns] if previous is not None and previous.id not in own else turns


def _own(
    candidates: Sequence[CandidateMemory], own: dict[str, StoredTurn]
) -> list[CandidateMemory]:
    """Candidates restricted to this batch's turns (context turns are someone else's job)."""
    kept = []
    for candidate in candidates:
        sources = tuple(s for s in candidate.source_turn_ids if s in own)
        if sources:
            kept.append(
                candidate
                if sources == candidate.source_turn_ids
                else _with_sources(candidate, sources)
            )
    return kept


def _with_sources(candidate: CandidateMemory, sources: tuple[str, ...]) -> CandidateMemory:
    return CandidateMemory(
        kind=candidate.kind, content=candidate.content, confidence=candidate.confidence,
        importance=candidate.importance, source_turn_ids=sources, event_date=candidate.event_date,
    )  # fmt: skip


def _turn(turn: StoredTurn) -> Turn:
    return Turn(
        id=turn.id, role=turn.role, content=turn.content, created_at=turn.created_at,
        speaker=turn.name,
    )  # fmt: skip
