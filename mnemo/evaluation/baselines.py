"""Reference rankers printed beside mnemo's own figure: Okapi BM25, dense cosine and RRF.

Pure Python + numpy, for one conversation (or any small corpus) at a time. Rankers
return document indices, best first; ties keep corpus order so runs are deterministic.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["BM25", "dense_rank", "rrf", "top_indices"]


def top_indices(scores: npt.NDArray[np.floating], n: int | None = None) -> list[int]:
    """Indices of the ``n`` highest scores (all when ``None``), best first, ties by index."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    return [int(i) for i in order[:n]]


class BM25:
    """Okapi BM25 over pre-tokenised documents.

    ``idf = ln(1 + (N - df + 0.5) / (df + 0.5))`` (never negative);
    ``score = sum idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))``.
    Query terms count once each, as in an OR query.
    """

    def __init__(self, documents: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75):
        self.k1 = k1
        self.b = b
        self._tf = [Counter(doc) for doc in documents]
        self._len = np.array([len(doc) for doc in documents], dtype=np.float64)
        self._avgdl = float(self._len.mean()) if len(documents) and self._len.sum() else 1.0
        self._df: Counter[str] = Counter(term for tf in self._tf for term in tf)
        self._postings: dict[str, list[int]] = {}
        for i, tf in enumerate(self._tf):
            for term in tf:
                self._postings.setdefault(term, []).append(i)

    def idf(self, term: str) -> float:
        """Inverse document frequency of ``term`` in this corpus."""
        n, df = len(self._tf), self._df.get(term, 0)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def scores(self, query: Iterable[str]) -> npt.NDArray[np.float64]:
        """BM25 score of every document for the query tokens."""
        out = np.zeros(len(self._tf), dtype=np.float64)
        norm = self.k1 * (1.0 - self.b + self.b * self._len / self._avgdl)
        for term in dict.fromkeys(query):
            docs = self._postings.get(term)
            if not docs:
                continue
            idf = self.idf(term)
            tf = np.array([self._tf[i][term] for i in docs], dtype=np.float64)
            out[docs] += idf * tf * (self.k1 + 1.0) / (tf + norm[docs])
        return out

    def rank(self, query: Iterable[str], n: int | None = None) -> list[int]:
        """Indices of matching documents, best first (documents scoring 0 are left out)."""
        scores = self.scores(query)
        return [i for i in top_indices(scores, n) if scores[i] > 0.0]


def dense_rank(
    query: npt.NDArray[np.floating],
    documents: npt.NDArray[np.floating],
    n: int | None = None,
) -> list[int]:
    """Documents by cosine similarity to ``query``, best first (rows need not be normalised)."""
    docs = np.asarray(documents, dtype=np.float64)
    q = np.asarray(query, dtype=np.float64)
    norms = np.linalg.norm(docs, axis=1) * (np.linalg.norm(q) or 1.0)
    return top_indices(docs @ q / np.where(norms == 0.0, 1.0, norms), n)


def rrf(
    rankings: Sequence[Sequence[int]],
    k: float = 60.0,
    weights: Sequence[float] | None = None,
    n: int | None = None,
) -> list[int]:
    """Reciprocal-rank fusion: ``sum_i w_i / (k + rank_i)`` with 1-based ranks.

    Ties are broken by the best rank any input list gave the document.
    """
    weights = weights if weights is not None else [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    score: dict[int, float] = {}
    best: dict[int, int] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, doc in enumerate(ranking, start=1):
            score[doc] = score.get(doc, 0.0) + weight / (k + rank)
            best[doc] = min(best.get(doc, rank), rank)
    fused = sorted(score, key=lambda d: (-score[d], best[d], d))
    return fused[:n] if n is not None else fused
