"""Clean-up: what policy says is dead is removed, and the counts are reported.

Two kinds of clean-up:

- per user (:func:`plan_removals`, applied by the optimizer): extracted memories
  whose decay score fell below ``cleanup_below`` and that are neither pinned nor
  protected by importance. Each leaves a ``delete`` event holding what it was.
  Verbatim notes are not removed by policy (``cleanup_kinds``): the caller
  stored them on purpose.
- per tenant (:class:`ExpiryCleaner`, a job): expired key-value entries and
  working-memory items, which are already invisible to reads and only take room.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from mnemo.config import LifecycleConfig
from mnemo.core.decay import is_protected
from mnemo.store.postgres.lifecycle import UpkeepRow

__all__ = ["ExpiryCleaner", "Removal", "plan_removals"]

#: A tenant's expired rows removed, by table.
Expirer = Callable[[str], Awaitable[Mapping[str, int]]]


@dataclass(frozen=True, slots=True)
class Removal:
    """A memory policy removes, with the decay score that condemned it."""

    memory_id: str
    kind: str
    content: str
    decay_score: float


def plan_removals(
    rows: Sequence[UpkeepRow],
    scores: Mapping[str, float],
    *,
    skip: Collection[str],
    config: LifecycleConfig,
) -> list[Removal]:
    """The memories of ``rows`` (but ``skip``) that policy removes, given their new scores."""
    removals = []
    for row in rows:
        score = scores.get(row.id, row.decay_score)
        if row.id in skip or row.kind not in config.cleanup_kinds:
            continue
        protected = is_protected(
            pinned=row.pinned,
            importance=row.importance,
            protected_importance=config.protected_importance,
        )
        if not protected and score < config.cleanup_below:
            removals.append(Removal(row.id, row.kind, row.content, score))
    return removals


class ExpiryCleaner:
    """Removes a tenant's expired rows through each kind that keeps some."""

    def __init__(self, expirers: Sequence[Expirer]) -> None:
        self._expirers = list(expirers)

    async def clean(self, tenant_id: str) -> dict[str, int]:
        """Expired rows of ``tenant_id`` removed, by table."""
        counts: dict[str, int] = {}
        for expire in self._expirers:
            for table, count in (await expire(tenant_id)).items():
                counts[table] = counts.get(table, 0) + count
        return counts
