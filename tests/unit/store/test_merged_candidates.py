"""Candidates of scopes searched apart (Citus: a user's chunks, the shared corpus) merged
as one search over both would rank them."""

from __future__ import annotations

from datetime import UTC, datetime

from mnemo.core.scoring import Candidate
from mnemo.store.postgres.search import merged_candidates

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def candidate(id: str, vector: float | None, lexical: float, ranks: dict[str, int],
              prev: str | None = None) -> Candidate:  # fmt: skip
    scores = {"lexical": lexical} | ({"vector": vector} if vector is not None else {})
    return Candidate(id=id, created_at=NOW, leg_scores=scores, ranks=ranks, prev_id=prev)


def test_each_leg_is_ranked_again_over_both_groups_and_cut_to_depth() -> None:
    mine = [
        candidate("a", 0.9, 0.0, {"vector": 1}),
        candidate("b", 0.5, 2.0, {"vector": 2, "lexical": 1}),
    ]
    shared = [
        candidate("c", 0.7, 3.0, {"vector": 1, "lexical": 1}),
        candidate("d", 0.1, 1.0, {"vector": 2, "lexical": 2}),
    ]
    merged = {c.id: c.ranks for c in merged_candidates([mine, shared], depth=2)}
    # vector: a 0.9, c 0.7 (b and d cut); lexical: c 3.0, b 2.0 (d cut); d in no leg.
    assert merged == {"a": {"vector": 1}, "b": {"lexical": 2}, "c": {"vector": 2, "lexical": 1}}


def test_ties_go_by_id_and_successors_are_found_among_the_kept() -> None:
    mine = [candidate("b", 0.5, 0.0, {"vector": 1}), candidate("a", 0.5, 0.0, {"vector": 2})]
    shared = [candidate("c", 0.4, 0.0, {"vector": 1}, prev="a")]
    merged = merged_candidates([mine, shared], depth=3)
    assert [(c.id, c.ranks["vector"]) for c in merged] == [("b", 2), ("a", 1), ("c", 3)]
    assert {c.id: c.next_id for c in merged} == {"a": "c", "b": None, "c": None}
