"""Ranking steps after fusion that use where and when things were said.

Both take the candidates' fused scores (z units, before the rescale to [0, 1]) and
return what to add to each; they never add or drop a candidate, so they sit on top of
any candidate query.

- **Date window**: a query naming a date ("on 13 October", "in May 2023", "last week";
  :mod:`mnemo.core.query_dates`) lifts the candidates created inside that window by
  ``date_boost``. A query naming no date, or dates no candidate falls in, is unchanged.
- **Second neighbour**: a candidate gains ``second_neighbour_weight`` times the better
  positive fused score of the items two places away (before its previous one, after its
  next one), reached through a neighbour that is itself a candidate. Dialogue spreads an
  answer over a few turns ("did you paint?" / "yes!" / "a sunset, look"); the recipe's
  neighbour borrowing covers the turn beside the match, this the one after that.
- **Session**: candidates told close together in time (consecutive candidates less
  than ``session_gap_hours`` apart, in created order) form a session; every member
  gains ``session_weight`` times the sum of the session's best three positive fused
  scores. A conversation in which several turns match a question is about it, so its
  other turns are likelier evidence than equally scored turns of unrelated talk.
  Members of one session gain the same, so order inside a session does not change.

Cost: linear in the candidates after one sort by time; about 0.1-0.3 ms for 200
candidates in Python (``docs/research/locomo-retrieval.md``).
Why these two and their values: ``docs/research/locomo-retrieval.md``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from mnemo.core.query_dates import DateWindow, query_windows
from mnemo.core.scoring import Candidate, Lift
from mnemo.errors import InvalidInput

__all__ = ["ContextBoosts", "date_lift", "second_neighbour", "session_lift"]

#: How many of a session's best members make its score.
SESSION_TOP = 3


@dataclass(frozen=True, slots=True)
class ContextBoosts:
    """Switches of the two steps (``0`` turns one off)."""

    #: Added (in fused z units) to candidates created inside a date the query names.
    date_boost: float = 2.0
    #: Share of the better fused score of the items two places away a candidate gains.
    second_neighbour_weight: float = 0.3
    #: Share of the session's score (sum of its best three positive fused scores) each
    #: member gains. Off by default: on LoCoMo it did not hold leave-one-out.
    session_weight: float = 0.0
    #: Consecutive candidates further apart than this start a new session.
    session_gap_hours: float = 3.0

    def __post_init__(self) -> None:
        values = (
            self.date_boost, self.second_neighbour_weight, self.session_weight,
            self.session_gap_hours,
        )  # fmt: skip
        if any(not math.isfinite(v) or v < 0 for v in values):
            raise InvalidInput(
                "date_boost, second_neighbour_weight, session_weight and session_gap_hours "
                "must be finite and >= 0"
            )

    def lift(self, query: str, now: datetime) -> Lift | None:
        """The step for one search, for ``rank_candidates``; ``None`` when it would do nothing
        (no neighbour or session step and no date in the query)."""
        windows = query_windows(query, now) if self.date_boost > 0 else []
        if not windows and self.session_weight == 0 and self.second_neighbour_weight == 0:
            return None

        def step(
            candidates: Sequence[Candidate], fused: npt.NDArray[np.float64]
        ) -> npt.NDArray[np.float64]:
            created = [c.created_at for c in candidates]
            lifts = np.array(self.lifts(created, fused.tolist(), windows), dtype=np.float64)
            if self.second_neighbour_weight > 0:
                lifts += self.second_neighbour_weight * second_neighbour(candidates, fused)
            return lifts

        return step

    def lifts(
        self, created_at: Sequence[datetime], fused: Sequence[float], windows: Sequence[DateWindow]
    ) -> list[float]:
        """What each candidate gains, in the order given (both steps summed)."""
        lifts = [0.0] * len(created_at)
        if self.date_boost > 0 and windows:
            lifts = date_lift(created_at, windows, self.date_boost)
        if self.session_weight > 0:
            gap = self.session_gap_hours * 3600.0
            session = session_lift(created_at, fused, self.session_weight, gap)
            lifts = [a + b for a, b in zip(lifts, session, strict=True)]
        return lifts


def second_neighbour(
    candidates: Sequence[Candidate], fused: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Per candidate, the better positive fused score two places away, through candidates."""
    position = {c.id: i for i, c in enumerate(candidates)}
    prev = np.array([position.get(c.prev_id or "", -1) for c in candidates], dtype=np.int64)
    after = np.array([position.get(c.next_id or "", -1) for c in candidates], dtype=np.int64)
    prev = np.append(prev, -1)  # index -1 (no candidate there) leads nowhere
    after = np.append(after, -1)
    padded = np.append(np.asarray(fused, dtype=np.float64), 0.0)
    two_back, two_on = prev[prev[:-1]], after[after[:-1]]
    best: npt.NDArray[np.float64] = np.maximum(0.0, np.maximum(padded[two_back], padded[two_on]))
    return best


def date_lift(
    created_at: Sequence[datetime], windows: Sequence[DateWindow], boost: float
) -> list[float]:
    """``boost`` for each moment inside any of ``windows``, else 0."""
    if not created_at:
        return []
    years = range(min(created_at).year - 1, max(created_at).year + 1)
    spans = [(w.start, w.end) for w in windows if not w.any_year]
    spans += [w.in_year(year) for w in windows if w.any_year for year in years]
    return [boost if any(a <= t < b for a, b in spans) else 0.0 for t in created_at]


def session_lift(
    created_at: Sequence[datetime], fused: Sequence[float], weight: float, gap_seconds: float
) -> list[float]:
    """``weight`` times the score of each candidate's session (see the module)."""
    order = sorted(range(len(created_at)), key=created_at.__getitem__)
    lifts = [0.0] * len(created_at)
    start = 0
    for end in range(1, len(order) + 1):
        closes = end == len(order) or (
            (created_at[order[end]] - created_at[order[end - 1]]).total_seconds() > gap_seconds
        )
        if closes:
            members = order[start:end]
            best = sorted((max(0.0, fused[i]) for i in members), reverse=True)[:SESSION_TOP]
            lift = weight * sum(best)
            for i in members:
                lifts[i] = lift
            start = end
    return lifts
