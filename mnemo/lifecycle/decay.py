"""Decay: the scores of memories nobody reads fall with a half-life; reads reinforce them.

:func:`plan_decay` computes every current memory's new decay score (the maths is
:mod:`mnemo.core.decay`); the optimizer writes the changes, with a ``decay``
event each time a score crosses a tenth. Pinned memories and memories at least
``protected_importance`` important are protected: their score is held at 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from mnemo.core.decay import crossed_band, decay_score, idle_days, is_protected
from mnemo.store.postgres.lifecycle import UpkeepRow

__all__ = ["DecayChange", "plan_decay"]

#: Changes smaller than this are not written (they would only churn rows).
_EPSILON = 5e-4


@dataclass(frozen=True, slots=True)
class DecayChange:
    """A memory's decay score before and after; ``recorded`` if it earns a history entry."""

    memory_id: str
    content: str
    before: float
    after: float

    @property
    def recorded(self) -> bool:
        return crossed_band(self.before, self.after)


def plan_decay(
    rows: Sequence[UpkeepRow],
    *,
    now: datetime,
    half_life_days: float,
    protected_importance: float,
) -> list[DecayChange]:
    """The decay score changes of ``rows`` at ``now`` (unchanged scores are left out)."""
    changes = []
    for row in rows:
        after = new_score(
            row, now=now, half_life_days=half_life_days, protected_importance=protected_importance
        )
        if abs(after - row.decay_score) >= _EPSILON:
            changes.append(DecayChange(row.id, row.content, row.decay_score, after))
    return changes


def new_score(
    row: UpkeepRow, *, now: datetime, half_life_days: float, protected_importance: float
) -> float:
    """The decay score ``row`` should have at ``now`` (1 when protected)."""
    if is_protected(
        pinned=row.pinned, importance=row.importance, protected_importance=protected_importance
    ):
        return 1.0
    idle = idle_days(row.created_at, row.last_accessed_at, now)
    return round(
        decay_score(idle=idle, half_life_days=half_life_days, access_count=row.access_count), 4
    )
