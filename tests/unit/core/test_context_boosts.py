from datetime import UTC, datetime, timedelta

import pytest

from mnemo.core.context_boosts import ContextBoosts, date_lift, session_lift
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
    assert ContextBoosts().lift("what is her name?", NOW) is None
    assert ContextBoosts(date_boost=0).lift("in May 2023", NOW) is None
    assert ContextBoosts(date_boost=0, session_weight=0.1).lift("anything", NOW) is not None


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
    "values", [{"date_boost": -1.0}, {"session_weight": float("nan")}, {"session_gap_hours": -2}]
)
def test_bad_switches_are_refused(values: dict[str, float]) -> None:
    with pytest.raises(InvalidInput):
        ContextBoosts(**values)
