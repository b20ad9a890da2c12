"""Recall@k, its per-category report, and the BM25 / dense / RRF reference rankers."""

from __future__ import annotations

import numpy as np
import pytest

from mnemo.evaluation import Question, evaluate, recall_at_k
from mnemo.evaluation.baselines import BM25, dense_rank, rrf


def question(category: str, *evidence: str) -> Question:
    return Question(question="q", answer="", evidence=evidence, category=category)


def test_recall_counts_evidence_among_the_first_k() -> None:
    assert recall_at_k(["a", "b", "c"], ["c", "z"], 2) == 0.0
    assert recall_at_k(["a", "b", "c"], ["c", "z"], 3) == 0.5
    with pytest.raises(ValueError, match="without evidence"):
        recall_at_k(["a"], [], 1)


def test_each_question_weighs_the_same_and_categories_keep_locomo_order() -> None:
    report = evaluate(
        [
            (question("temporal", "a"), ["a"]),
            (question("inferential", "a", "b"), ["b", "x", "a"]),
            (question("multi-hop", "a", "b"), ["a", "x"]),
        ],
        ks=(1, 3),
    )
    assert list(report.by_category) == ["multi-hop", "temporal", "inferential"]
    assert report.by_category["inferential"] == {1: 0.5, 3: 1.0}
    assert report.overall == {1: pytest.approx(2 / 3), 3: pytest.approx(5 / 6)}
    assert report.category_counts == {"multi-hop": 1, "temporal": 1, "inferential": 1}
    assert report.summary("x").startswith("x  @1 0.667 @3 0.833 | multi-hop 0.500/0.500")


def test_bm25_prefers_rare_terms_and_leaves_out_non_matches() -> None:
    docs = [["cat", "sat"], ["dog", "sat"], ["bird"], ["cat", "cat", "dog"]]
    bm25 = BM25(docs)
    assert bm25.rank({"cat"}) == [3, 0]
    assert bm25.rank({"sat", "bird"})[0] == 2  # the rarer term decides
    assert bm25.idf("unseen") > bm25.idf("sat")


def test_dense_rank_and_rrf_fusion() -> None:
    documents = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    assert dense_rank(np.array([0.0, 1.0]), documents) == [1, 2, 0]
    assert rrf([[0, 1, 2], [2, 1, 0]], k=60.0) == [0, 2, 1]  # ties: best rank anywhere
    assert rrf([[0, 1], [1]], n=1) == [1]
    with pytest.raises(ValueError, match="one weight per ranking"):
        rrf([[0]], weights=[1.0, 2.0])
