from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from mnemo.core.context_boosts import ContextBoosts, date_lift, second_neighbour, session_lift
from mnemo.core.query_dates import query_windows
from mnemo.core.scoring import Candidate, FusionParams, rank_candidates, scoring_preset
from mnemo.errors import InvalidInput

NOW = datetime(2024, 3, 15, 12, tzinfo=UTC)
MAY = datetime(2023, 5, 8, 13, tzinfo=UTC)
JULY = datetime(2023, 7, 2, 9, tzinfo=UTC)


def cand(cid: str, when: datetime, vector: float, lexical: float = 0.0) -> Candidate:
    return Candidate(id=cid, created_at=when, leg_scores={"vector": vector, "lexical": lexical})


def ranked(pool: list[Candidate], query: str, boosts: ContextBoosts) -> list[str]:
    found = rank_candidates(
        pool, scoring_preset("relevance"), FusionParams(neighbour_weight=0.0), now=NOW,
        half_life_days=30.0, limit=10, lift=boosts.lift(query, NOW),
    )  # fmt: skip
    return [s.candidate.id for s in found]


def test_a_named_date_lifts_what_was_said_then_above_a_slightly_better_match() -> None:
    pool = [cand("july", JULY, 0.82), cand("may", MAY, 0.80), cand("other", JULY, 0.5)]
    assert ranked(pool, "what did we cook in July?", ContextBoosts(date_boost=0.0))[0] == "july"
    assert ranked(pool, "what did we cook in May 2023?", ContextBoosts())[0] == "may"
    # no date named, or a date no candidate falls in: the fused order stands
    assert ranked(pool, "what did we cook?", ContextBoosts())[0] == "july"
    assert ranked(pool, "what did we cook in May 1999?", ContextBoosts())[0] == "july"


def test_the_lift_shows_in_the_breakdown() -> None:
    pool = [cand("july", JULY, 0.82), cand("may", MAY, 0.80)]
    found = rank_candidates(
        pool, scoring_preset("default"), FusionParams(), now=NOW, half_life_days=30.0,
        limit=2, lift=ContextBoosts().lift("in May 2023", NOW),
    )  # fmt: skip
    breakdown = {s.candidate.id: s.scores["context"] for s in found}
    assert breakdown == {"may": 2.0, "july": 0.0}


def test_nothing_to_do_is_no_step() -> None:
    idle = ContextBoosts(second_neighbour_weight=0)
    assert idle.lift("what is her name?", NOW) is None
    assert replace(idle, date_boost=0).lift("in May 2023", NOW) is None
    assert replace(idle, session_weight=0.1).lift("anything", NOW) is not None
    assert ContextBoosts().lift("anything", NOW) is not None


def test_date_lift_counts_each_candidate_once_however_many_windows_hold_it() -> None:
    windows = query_windows("in May 2023, on 8 May", NOW)
    assert len(windows) == 2
    assert date_lift([MAY, JULY, MAY.replace(year=2021)], windows, 1.5) == [1.5, 0.0, 1.5]
    assert date_lift([], windows, 1.5) == []


def test_session_lift_gives_each_session_the_sum_of_its_best_three() -> None:
    t = MAY
    when = [t, t + timedelta(minutes=30), t + timedelta(hours=1), t + timedelta(hours=1, minutes=5),
            t + timedelta(hours=9), t + timedelta(hours=9)]  # fmt: skip
    fused = [1.0, -2.0, 0.5, 0.25, 2.0, 0.1]
    lifts = session_lift(when, fused, 0.1, gap_seconds=3 * 3600)
    first = 0.1 * (1.0 + 0.5 + 0.25)  # the negative one lends nothing
    second = 0.1 * (2.0 + 0.1)
    assert lifts == pytest.approx([first] * 4 + [second] * 2)
    # shuffled input, same answer per item
    order = [3, 5, 0, 4, 1, 2]
    shuffled = session_lift([when[i] for i in order], [fused[i] for i in order], 0.1, 3 * 3600)
    assert shuffled == pytest.approx([lifts[i] for i in order])


@pytest.mark.parametrize(
    "values",
    [
        {"date_boost": -1.0},
        {"session_weight": float("nan")},
        {"session_gap_hours": -2},
        {"second_neighbour_weight": float("inf")},
    ],
)
def test_bad_switches_are_refused(values: dict[str, float]) -> None:
    with pytest.raises(InvalidInput):
        ContextBoosts(**values)


def chain(fused: dict[str, float], order: str) -> list[Candidate]:
    """Candidates stored in ``order`` (one letter each); only those in ``fused`` are candidates."""
    made = []
    for i, cid in enumerate(order):
        if cid in fused:
            prev = order[i - 1] if i else None
            after = order[i + 1] if i + 1 < len(order) else None
            made.append(
                Candidate(id=cid, created_at=MAY, leg_scores={}, prev_id=prev, next_id=after)
            )
    return made


def test_the_second_neighbour_lends_through_a_candidate_only() -> None:
    fused = {"a": 2.0, "b": 0.1, "c": -0.5, "e": 1.5, "g": 0.7}
    pool = chain(fused, "abcdefg")  # d and f are not candidates
    lent = second_neighbour(pool, np.array([fused[c.id] for c in pool]))
    assert dict(zip([c.id for c in pool], lent.tolist(), strict=True)) == {
        "a": 0.0,  # c, two on, is negative
        "b": 0.0,  # d, its next, is no candidate
        "c": 2.0,  # a, through b
        "e": 0.0,  # through d and f, neither a candidate
        "g": 0.0,
    }
    assert second_neighbour([], np.array([])).tolist() == []


def test_the_default_step_adds_the_second_neighbour_loan() -> None:
    fused = {"a": 2.0, "b": 0.1, "c": -0.5}
    pool = chain(fused, "abc")
    step = ContextBoosts().lift("what did she paint?", NOW)
    assert step is not None
    assert step(pool, np.array([2.0, 0.1, -0.5])).tolist() == pytest.approx([0.0, 0.0, 0.6])
