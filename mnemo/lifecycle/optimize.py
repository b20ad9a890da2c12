"""Optimize one user: decay, then consolidation, then clean-up — planned, reported, applied.

:meth:`Optimizer.optimize` reads the user's current memories once, plans all
three steps in memory (decay scores feed clean-up; merged memories are not
removed twice), and with ``dry_run=False`` applies the plan in one transaction.
The report is the same either way: what would change, or what changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from mnemo.config import LifecycleConfig
from mnemo.core.decay import is_protected
from mnemo.lifecycle.cleanup import Removal, plan_removals
from mnemo.lifecycle.consolidate import MergeGroup, plan_merges
from mnemo.lifecycle.decay import DecayChange, plan_decay
from mnemo.lifecycle.statements import SimilarityRules
from mnemo.store.postgres.lifecycle import LifecycleStore, UpkeepRow

__all__ = ["OptimizeReport", "Optimizer"]

ACTOR = "optimizer"


@dataclass(frozen=True, slots=True, kw_only=True)
class OptimizeReport:
    """What optimizing a user changes (``dry_run``: would change)."""

    user_id: str
    dry_run: bool
    examined: int
    protected: int
    decayed: list[DecayChange] = field(default_factory=list)
    merges: list[MergeGroup] = field(default_factory=list)
    removed: list[Removal] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """Memories examined, protected, decayed, merged away and removed."""
        return {
            "examined": self.examined,
            "protected": self.protected,
            "decayed": len(self.decayed),
            "merged": sum(len(group.merged) for group in self.merges),
            "removed": len(self.removed),
        }

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data (for JSON)."""
        return {
            "user_id": self.user_id,
            "dry_run": self.dry_run,
            "counts": self.counts,
            "decayed": [
                {"id": c.memory_id, "before": c.before, "after": c.after} for c in self.decayed
            ],
            "merges": [
                {
                    "survivor": g.survivor_id,
                    "content": g.survivor_content,
                    "merged": [
                        {"id": m.memory_id, "content": m.content, "similarity": m.similarity}
                        for m in g.merged
                    ],
                }
                for g in self.merges
            ],
            "removed": [
                {
                    "id": r.memory_id,
                    "kind": r.kind,
                    "content": r.content,
                    "decay_score": r.decay_score,
                }
                for r in self.removed
            ],
        }


class Optimizer:
    """Plans and applies decay, consolidation and clean-up for one user at a time."""

    def __init__(self, store: LifecycleStore, config: LifecycleConfig) -> None:
        self._store = store
        self._config = config
        self._rules = SimilarityRules(
            same_meaning=config.same_meaning_similarity,
            duplicate=config.consolidate_similarity,
            refine=config.refine_similarity,
            conflict=config.conflict_similarity,
        )

    async def optimize(
        self, tenant_id: str, user_id: str, *, dry_run: bool = True, now: datetime | None = None
    ) -> OptimizeReport:
        """Plan (and unless ``dry_run``, apply) decay, consolidation and clean-up."""
        rows = await self._store.upkeep_rows(tenant_id, user_id)
        report = self.plan(user_id, rows, now=now or datetime.now(UTC), dry_run=dry_run)
        if not dry_run:
            await self._apply(tenant_id, user_id, report)
        return report

    def plan(
        self, user_id: str, rows: list[UpkeepRow], *, now: datetime, dry_run: bool
    ) -> OptimizeReport:
        """The report of what optimizing ``rows`` at ``now`` changes.

        Merges come first: a survivor then carries its group's reads and best
        importance (as ``LifecycleStore.merge`` writes them), and decay and
        clean-up judge what remains.
        """
        config = self._config
        merges = plan_merges(rows, self._rules)
        remaining = _after_merges(rows, merges)
        decayed = plan_decay(
            remaining,
            now=now,
            half_life_days=config.decay_half_life_days,
            protected_importance=config.protected_importance,
        )
        scores = {c.memory_id: c.after for c in decayed}
        removed = plan_removals(remaining, scores, skip=(), config=config)
        protected = sum(
            is_protected(
                pinned=r.pinned, importance=r.importance,
                protected_importance=config.protected_importance,
            )
            for r in remaining
        )  # fmt: skip
        return OptimizeReport(
            user_id=user_id, dry_run=dry_run, examined=len(rows), protected=protected,
            decayed=decayed, merges=merges, removed=removed,
        )  # fmt: skip

    async def _apply(self, tenant_id: str, user_id: str, report: OptimizeReport) -> None:
        """Write a plan in one transaction: merges, then decay scores, then removals."""
        store, half_life = self._store, self._config.decay_half_life_days
        async with store.db.transaction(tenant_id) as conn:
            for group in report.merges:
                await store.merge(
                    conn, tenant_id, user_id, group.survivor_id,
                    [m.memory_id for m in group.merged],
                    reason=f"near-duplicates merged into {group.survivor_id}", actor=ACTOR,
                )  # fmt: skip
            if report.decayed:
                await store.set_decay_scores(
                    conn, tenant_id, user_id,
                    [(c.memory_id, c.after, c.recorded) for c in report.decayed],
                    reason=f"not read lately (half-life {half_life:g} days)", actor=ACTOR,
                )  # fmt: skip
            if report.removed:
                threshold = self._config.cleanup_below
                await store.remove(
                    conn, tenant_id, user_id, [r.memory_id for r in report.removed],
                    reason=f"decay score fell below {threshold:g}", actor=ACTOR,
                )  # fmt: skip


def _after_merges(rows: list[UpkeepRow], merges: list[MergeGroup]) -> list[UpkeepRow]:
    """The rows a plan leaves: merged ones gone, survivors with their group's reads."""
    by_id = {row.id: row for row in rows}
    result = dict(by_id)
    for group in merges:
        members = [by_id[group.survivor_id], *(by_id[m.memory_id] for m in group.merged)]
        reads = [r.last_accessed_at for r in members if r.last_accessed_at is not None]
        result[group.survivor_id] = replace(
            members[0],
            access_count=sum(r.access_count for r in members),
            last_accessed_at=max(reads) if reads else None,
            importance=max(r.importance for r in members),
            confidence=max(r.confidence for r in members),
            pinned=any(r.pinned for r in members),
        )
        for merged in group.merged:
            del result[merged.memory_id]
    return list(result.values())
