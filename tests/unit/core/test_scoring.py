from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mnemo.core.scoring import (
    PRESETS,
    Candidate,
    FusionParams,
    ScoringWeights,
    access_frequency,
    borrow_from_neighbours,
    composite,
    fuse,
    rank_candidates,
    recency,
    relevance,
    scoring_preset,
)
from mnemo.errors import InvalidInput

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def candidate(
    cid: str, vector: float | None = 0.5, lexical: float = 0.0, **extra: object
) -> Candidate:
    scores = {"lexical": lexical} | ({"vector": vector} if vector is not None else {})
    values: dict[str, object] = {"id": cid, "created_at": NOW, "leg_scores": scores}
    values.update(extra)
    return Candidate(**values)  # type: ignore[arg-type]


leg_score = st.floats(0, 30, allow_nan=False)
pools = st.lists(st.tuples(st.floats(-1, 1), leg_score), min_size=1, max_size=40)


def test_long_form_preset_is_the_long_form_services_weights() -> None:
    assert scoring_preset("long-form").as_dict() == {
        "relevance": 0.4,
        "recency": 0.3,
        "access": 0.2,
        "confidence": 0.1,
        "importance": 0.0,
    }


@given(st.lists(st.floats(0, 10), min_size=5, max_size=5).filter(lambda w: sum(w) > 1e-6))
def test_shares_are_the_weights_over_their_sum(values: list[float]) -> None:
    weights = ScoringWeights(*values)
    shares = weights.shares()
    assert shares.keys() == weights.as_dict().keys()
    assert sum(shares.values()) == pytest.approx(1.0)
    for name, weight in weights.as_dict().items():
        assert shares[name] == pytest.approx(weight / sum(values))


def test_unknown_preset_names_the_known_ones() -> None:
    with pytest.raises(InvalidInput, match="long-form"):
        scoring_preset("nope")


@pytest.mark.parametrize(
    "weights", [{"relevance": -1.0}, {"relevance": 0.0}, {"recency": float("nan")}]
)
def test_invalid_weights_are_refused(weights: dict[str, float]) -> None:
    with pytest.raises(InvalidInput):
        ScoringWeights(**weights)


@pytest.mark.parametrize(
    "params",
    [
        {"method": "sum"},
        {"leg_weights": {"graph": 1.0}},
        {"leg_weights": {"vector": 0.0}},
        {"rrf_k": 0},
        {"neighbour_weight": -1},
    ],
)
def test_invalid_fusion_is_refused(params: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        FusionParams(**params)  # type: ignore[arg-type]


def test_recency_halves_every_half_life() -> None:
    assert recency(NOW, NOW, 30) == 1.0
    assert recency(NOW - timedelta(days=30), NOW, 30) == pytest.approx(0.5)
    assert recency(NOW - timedelta(days=60), NOW, 30) == pytest.approx(0.25)
    assert recency(NOW + timedelta(days=5), NOW, 30) == 1.0


def test_access_frequency_is_log_scaled_and_saturates() -> None:
    assert access_frequency(0) == 0.0
    assert 0 < access_frequency(3) < access_frequency(10) < 1.0
    assert access_frequency(10_000) == 1.0


def test_zscore_fusion_weighs_the_legs() -> None:
    pool = [candidate("a", 0.9, 0.0), candidate("b", 0.1, 10.0), candidate("c", 0.5, 5.0)]
    vector_heavy = fuse(pool, FusionParams(leg_weights={"vector": 0.9, "lexical": 0.1}))
    lexical_heavy = fuse(pool, FusionParams(leg_weights={"vector": 0.1, "lexical": 0.9}))
    assert max(vector_heavy, key=vector_heavy.__getitem__) == "a"
    assert max(lexical_heavy, key=lexical_heavy.__getitem__) == "b"


def test_missing_vector_score_counts_as_the_legs_minimum() -> None:
    pool = [candidate("a", None, 3.0), candidate("b", 0.2, 3.0), candidate("c", 0.8, 3.0)]
    fused = fuse(pool, FusionParams(leg_weights={"vector": 1.0}))
    assert fused["a"] == pytest.approx(fused["b"])
    assert fused["c"] > fused["b"]


def test_rrf_fusion_uses_ranks() -> None:
    pool = [
        candidate("a", ranks={"vector": 1, "lexical": 3}),
        candidate("b", ranks={"vector": 2}),
    ]
    fused = fuse(
        pool, FusionParams(method="rrf", rrf_k=10, leg_weights={"vector": 1, "lexical": 1})
    )
    assert fused == {"a": pytest.approx(1 / 11 + 1 / 13), "b": pytest.approx(1 / 12)}


def test_a_candidate_borrows_from_its_better_neighbour_only_when_positive() -> None:
    pool = [
        candidate("q", prev_id="x", next_id="a"),
        candidate("a", prev_id="q", next_id="z"),
        candidate("z", prev_id="a"),
    ]
    boosted = borrow_from_neighbours(pool, {"q": 2.0, "a": 0.5, "z": -1.0}, 0.3)
    assert boosted["a"] == pytest.approx(0.5 + 0.3 * 2.0)
    assert boosted["q"] == pytest.approx(2.0 + 0.3 * 0.5)
    assert boosted["z"] == pytest.approx(-1.0 + 0.3 * 0.5)


def test_the_answer_next_to_the_matching_turn_moves_up() -> None:
    question = candidate("question", 0.9, 12.0, next_id="answer")
    answer = candidate("answer", 0.55, 0.0, prev_id="question")
    other = candidate("other", 0.6, 0.0)
    filler = [candidate(f"f{i}", 0.3, 0.0) for i in range(10)]
    with_borrowing = relevance([question, answer, other, *filler], FusionParams())
    without = relevance([question, answer, other, *filler], FusionParams(neighbour_weight=0))
    assert without["answer"] < without["other"]
    assert with_borrowing["answer"] > with_borrowing["other"]


@given(pools, st.sampled_from(["zscore", "rrf"]), st.floats(0, 1))
def test_relevance_is_within_unit_interval_and_the_best_is_one(
    scores: list[tuple[float, float]], method: str, neighbour_weight: float
) -> None:
    pool = [
        candidate(str(i), v, lex, ranks={"vector": i + 1}, prev_id=str(i - 1), next_id=str(i + 1))
        for i, (v, lex) in enumerate(scores)
    ]
    params = FusionParams(method=method, neighbour_weight=neighbour_weight)  # type: ignore[arg-type]
    values = relevance(pool, params)
    assert set(values) == {c.id for c in pool}
    assert all(0.0 <= v <= 1.0 for v in values.values())
    assert max(values.values()) == pytest.approx(1.0)


@given(pools, st.sampled_from(sorted(PRESETS)), st.integers(0, 5_000), st.integers(0, 10_000))
def test_composite_score_is_within_unit_interval(
    scores: list[tuple[float, float]], preset: str, age_days: int, accesses: int
) -> None:
    pool = [
        candidate(str(i), v, lex, created_at=NOW - timedelta(days=age_days), access_count=accesses)
        for i, (v, lex) in enumerate(scores)
    ]
    ranked = rank_candidates(
        pool, PRESETS[preset], FusionParams(), now=NOW, half_life_days=30, limit=len(pool)
    )
    assert all(0.0 <= s.score <= 1.0 for s in ranked)
    assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)
    expected = {"relevance", "recency", "access", "confidence", "importance", "vector", "lexical",
                "neighbour"}  # fmt: skip
    assert all(expected <= set(s.scores) for s in ranked)


def test_the_breakdown_says_what_neighbours_lent() -> None:
    question = candidate("question", 0.9, 12.0, next_id="answer")
    answer = candidate("answer", 0.55, 0.0, prev_id="question")
    alone = candidate("alone", 0.6, 0.0)
    filler = [candidate(f"f{i}", 0.3, 0.0) for i in range(10)]
    pool = [question, answer, alone, *filler]
    params = FusionParams()
    ranked = {
        s.candidate.id: s.scores
        for s in rank_candidates(
            pool, scoring_preset("relevance"), params, now=NOW, half_life_days=30, limit=len(pool)
        )
    }
    assert ranked["alone"]["neighbour"] == 0.0
    lent = params.neighbour_weight * fuse(pool, params)["question"]
    assert ranked["answer"]["neighbour"] == pytest.approx(lent) and lent > 0
    assert ranked["answer"]["relevance"] == pytest.approx(relevance(pool, params)["answer"])


def test_long_form_preset_prefers_the_recent_memory_at_equal_relevance() -> None:
    old = candidate("old", created_at=NOW - timedelta(days=365))
    new = candidate("new", created_at=NOW - timedelta(days=1))
    ranked = rank_candidates(
        [old, new], scoring_preset("long-form"), FusionParams(), now=NOW, half_life_days=30, limit=2
    )
    assert [s.candidate.id for s in ranked] == ["new", "old"]


def test_rank_candidates_keeps_the_limit_best() -> None:
    pool = [candidate(str(i), vector=1 - i / 100) for i in range(20)]
    ranked = rank_candidates(
        pool,
        scoring_preset("relevance"),
        FusionParams(neighbour_weight=0),
        now=NOW,
        half_life_days=30,
        limit=5,
    )
    assert [s.candidate.id for s in ranked] == ["0", "1", "2", "3", "4"]


def test_breakdown_shows_each_signal() -> None:
    c = candidate("a", 0.7, 4.2, ranks={"vector": 1, "lexical": 2}, confidence=0.8)
    scored = composite(c, 0.5, scoring_preset("long-form"), now=NOW, half_life_days=30)
    assert scored.scores["vector"] == 0.7
    assert scored.scores["lexical"] == 4.2
    assert scored.scores["lexical_rank"] == 2.0
    assert scored.scores["confidence"] == 0.8
    expected = (0.4 * 0.5 + 0.3 * 1.0 + 0.2 * 0.0 + 0.1 * 0.8) / 1.0
    assert scored.score == pytest.approx(expected)
