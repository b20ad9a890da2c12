"""Fusion of the retrieval legs and the composite score.

Every candidate arrives with its raw score in each leg (cosine similarity,
BM25) and the ids of the items stored right before and after it. Fusion turns
the legs into one relevance:

1. ``zscore`` (the default): each leg is z-normalised over the candidate set and
   the z values are mixed by leg weight; ``rrf``: reciprocal rank fusion.
2. Neighbour borrowing: a candidate gains ``neighbour_weight`` times the better
   fused score of its stored neighbours (when they are candidates too), because
   the answer to a question often sits next to the turn that matches it.
3. The result is rescaled to [0, 1] over the candidates.

The composite score then mixes that relevance with recency (a half-life),
access frequency, confidence and importance under configurable weights. Why
these choices: ``docs/research/locomo-retrieval.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np
import numpy.typing as npt

from mnemo.errors import InvalidInput

LEGS = ("vector", "lexical")

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ScoringWeights:
    """How much each signal counts. Weights need not sum to 1; they are normalised."""

    relevance: float = 1.0
    recency: float = 0.0
    access: float = 0.0
    confidence: float = 0.0
    importance: float = 0.0

    def __post_init__(self) -> None:
        values = self.as_dict().values()
        if any(w < 0 or not math.isfinite(w) for w in values) or sum(values) <= 0:
            raise InvalidInput("scoring weights must be finite, non-negative, and not all zero")

    def as_dict(self) -> dict[str, float]:
        return {
            "relevance": self.relevance,
            "recency": self.recency,
            "access": self.access,
            "confidence": self.confidence,
            "importance": self.importance,
        }

    def shares(self) -> dict[str, float]:
        """Each weight over their sum: a score is ``sum(shares[name] * signal[name])``."""
        weights = self.as_dict()
        total = sum(weights.values())
        return {name: weight / total for name, weight in weights.items()}


#: Named weight sets. ``long-form`` is the long-form memory service's 0.4/0.3/0.2/0.1.
PRESETS: dict[str, ScoringWeights] = {
    "default": ScoringWeights(
        relevance=0.9, recency=0.02, access=0.02, confidence=0.03, importance=0.03
    ),
    "relevance": ScoringWeights(relevance=1.0),
    "long-form": ScoringWeights(relevance=0.4, recency=0.3, access=0.2, confidence=0.1),
}


def scoring_preset(name: str) -> ScoringWeights:
    """The preset called ``name``, or ``InvalidInput`` naming the known ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise InvalidInput(f"unknown scoring preset {name!r}; known: {sorted(PRESETS)}") from None


@dataclass(frozen=True, slots=True)
class FusionParams:
    """How the vector and lexical legs become one relevance."""

    method: Literal["zscore", "rrf"] = "zscore"
    leg_weights: dict[str, float] = field(default_factory=lambda: {"vector": 0.6, "lexical": 0.4})
    #: RRF's constant; small values keep sharp score gaps visible.
    rrf_k: float = 10.0
    #: Share of the better neighbour's fused score a candidate borrows (0 turns it off).
    neighbour_weight: float = 0.3

    def __post_init__(self) -> None:
        if self.method not in ("zscore", "rrf"):
            raise InvalidInput(f"unknown fusion method {self.method!r}; use 'zscore' or 'rrf'")
        weights = list(self.leg_weights.values())
        if set(self.leg_weights) - set(LEGS) or any(w < 0 for w in weights) or sum(weights) <= 0:
            raise InvalidInput(f"leg weights must be non-negative, for {LEGS}, not all zero")
        if self.rrf_k <= 0 or self.neighbour_weight < 0:
            raise InvalidInput("rrf_k must be positive and neighbour_weight non-negative")


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """One item found by at least one leg, with what fusion and the composite score need."""

    id: str
    created_at: datetime
    #: Raw score per leg: cosine similarity, BM25 (0 when the text does not match).
    leg_scores: dict[str, float] = field(default_factory=dict)
    #: Rank per leg, for the legs that selected the candidate.
    ranks: dict[str, int] = field(default_factory=dict)
    prev_id: str | None = None
    next_id: str | None = None
    confidence: float = 1.0
    importance: float = 0.5
    access_count: int = 0
    #: Rows of the scope the query searched (the same for every candidate of a search).
    scope_rows: int | None = None


@dataclass(frozen=True, slots=True)
class Scored:
    candidate: Candidate
    score: float
    scores: dict[str, float]


def fuse(candidates: Sequence[Candidate], params: FusionParams) -> dict[str, float]:
    """Each candidate's fused score (before borrowing), by id."""
    if params.method == "rrf":
        return {
            c.id: sum(
                params.leg_weights.get(leg, 0.0) / (params.rrf_k + rank)
                for leg, rank in c.ranks.items()
            )
            for c in candidates
        }
    fused = dict.fromkeys((c.id for c in candidates), 0.0)
    for leg, weight in params.leg_weights.items():
        for cid, z in _z_scores(candidates, leg).items():
            fused[cid] += weight * z
    return fused


def borrow_from_neighbours(
    candidates: Sequence[Candidate], fused: dict[str, float], weight: float
) -> dict[str, float]:
    """``fused`` plus ``weight`` times the better positive fused score of each neighbour."""
    result = {}
    for c in candidates:
        lent = max(0.0, fused.get(c.prev_id or "", 0.0), fused.get(c.next_id or "", 0.0))
        result[c.id] = fused[c.id] + weight * lent
    return result


def relevance(candidates: Sequence[Candidate], params: FusionParams) -> dict[str, float]:
    """Relevance in [0, 1] per candidate: fused, neighbour-boosted, rescaled over the set."""
    return relevance_and_loans(candidates, params)[0]


#: A ranking step after fusion: from the candidates and their fused scores (in the
#: candidates' order), what to add to each, in fused units (e.g. ``ContextBoosts.lift``
#: of ``mnemo.core.context_boosts``).
Lift = Callable[[Sequence[Candidate], npt.NDArray[np.float64]], npt.NDArray[np.float64]]


def relevance_and_loans(
    candidates: Sequence[Candidate], params: FusionParams, lift: Lift | None = None
) -> tuple[dict[str, float], dict[str, float]]:
    """``relevance`` and, per candidate, what its neighbours lent it (in fused units).

    ``lift``'s additions count in the relevance, not in the loans.
    """
    fused = fuse(candidates, params)
    boosted = borrow_from_neighbours(candidates, fused, params.neighbour_weight)
    loans = {cid: boosted[cid] - fused[cid] for cid in fused}
    if lift is not None:
        extra = lift(candidates, np.array([fused[c.id] for c in candidates], dtype=np.float64))
        for c, value in zip(candidates, extra, strict=True):
            boosted[c.id] += float(value)
    return _rescaled(boosted), loans


def recency(created_at: datetime, now: datetime, half_life_days: float) -> float:
    """1 for now, 0.5 after one half-life; future timestamps count as now."""
    age_days = max(0.0, (now - created_at).total_seconds() / 86_400)
    return float(0.5 ** (age_days / half_life_days))


def access_frequency(access_count: int, saturation: int = 50) -> float:
    """Log-scaled access count in [0, 1], reaching 1 at ``saturation`` accesses."""
    return min(1.0, math.log1p(max(0, access_count)) / math.log1p(saturation))


def composite(
    candidate: Candidate,
    relevance_value: float,
    weights: ScoringWeights,
    *,
    now: datetime,
    half_life_days: float,
) -> Scored:
    """The candidate's final score and the breakdown behind it."""
    signals = {
        "relevance": relevance_value,
        "recency": recency(candidate.created_at, now, half_life_days),
        "access": access_frequency(candidate.access_count),
        "confidence": _unit(candidate.confidence),
        "importance": _unit(candidate.importance),
    }
    weight_map = weights.as_dict()
    score = sum(weight_map[name] * value for name, value in signals.items())
    breakdown = dict(signals)
    breakdown.update(candidate.leg_scores)
    breakdown.update({f"{leg}_rank": float(rank) for leg, rank in candidate.ranks.items()})
    return Scored(candidate, score / sum(weight_map.values()), breakdown)


def rank_candidates(
    candidates: Iterable[Candidate],
    weights: ScoringWeights,
    fusion: FusionParams,
    *,
    now: datetime,
    half_life_days: float,
    limit: int,
    lift: Lift | None = None,
) -> list[Scored]:
    """The ``limit`` best candidates by composite score (ties: newer first).

    The same arithmetic as ``relevance_and_loans`` and ``composite``, over arrays:
    a search ranks a few hundred candidates, and only the winners need a breakdown.
    ``lift``: an extra ranking step after fusion (see ``relevance_and_loans``).
    """
    pool = list(candidates)
    if not pool:
        return []
    columns = _Columns(pool, now)
    fused = _fused(columns, fusion)
    loans = fusion.neighbour_weight * _better_neighbour(columns, fused)
    lifted = lift(pool, fused) if lift is not None else None
    relevances = _rescaled_array(fused + loans + (0.0 if lifted is None else lifted))
    signals = {
        "relevance": relevances,
        "recency": 0.5 ** (columns.age_days / half_life_days),
        "access": np.minimum(1.0, np.log1p(columns.accesses) / math.log1p(ACCESS_SATURATION)),
        "confidence": np.clip(columns.confidence, 0.0, 1.0),
        "importance": np.clip(columns.importance, 0.0, 1.0),
    }
    weight_map = weights.as_dict()
    scores = sum(weight_map[name] * values for name, values in signals.items())
    scores = scores / sum(weight_map.values())
    order = np.lexsort((columns.id_rank, columns.created, scores))[::-1][:limit]
    ranked = [_scored(pool[i], float(scores[i]), signals, float(loans[i]), i) for i in order]
    if lifted is not None:  # what the lift gave, so a reader sees why
        for item, i in zip(ranked, order, strict=True):
            item.scores["context"] = float(lifted[i])
    return ranked


#: Accesses at which the access signal reaches 1.
ACCESS_SATURATION = 50


class _Columns:
    """The candidates' fields as arrays (one row per candidate, in input order)."""

    def __init__(self, pool: Sequence[Candidate], now: datetime) -> None:
        position = {c.id: i for i, c in enumerate(pool)}
        self.pool = pool
        self.prev = np.array([position.get(c.prev_id or "", -1) for c in pool])
        self.next = np.array([position.get(c.next_id or "", -1) for c in pool])
        seconds = np.array([(now - c.created_at).total_seconds() for c in pool])
        self.age_days = np.maximum(0.0, seconds / 86_400)
        self.created = -seconds  # larger is newer
        self.accesses = np.maximum(0, np.array([c.access_count for c in pool], dtype=float))
        self.confidence = np.array([c.confidence for c in pool], dtype=float)
        self.importance = np.array([c.importance for c in pool], dtype=float)
        ids = [c.id for c in pool]
        self.id_rank = np.argsort(np.argsort(np.array(ids)))


def _fused(columns: _Columns, params: FusionParams) -> Floats:
    pool = columns.pool
    fused = np.zeros(len(pool))
    if params.method == "rrf":
        for leg, weight in params.leg_weights.items():
            ranks = np.array([c.ranks.get(leg, 0) for c in pool], dtype=float)
            fused += np.where(ranks > 0, weight / (params.rrf_k + ranks), 0.0)
        return fused
    for leg, weight in params.leg_weights.items():
        present = np.array([leg in c.leg_scores for c in pool])
        if present.sum() < 2:
            continue
        raw = np.array([c.leg_scores.get(leg, 0.0) for c in pool], dtype=float)
        values = np.where(present, raw, raw[present].min())
        std = values.std()
        if std > 0:
            fused += weight * (values - values.mean()) / std
    return fused


def _better_neighbour(columns: _Columns, fused: Floats) -> Floats:
    """The better positive fused score of each candidate's neighbours that are candidates."""
    padded = np.append(fused, 0.0)  # index -1: no neighbour among the candidates
    better: Floats = np.maximum(0.0, np.maximum(padded[columns.prev], padded[columns.next]))
    return better


def _rescaled_array(values: Floats) -> Floats:
    low, high = values.min(), values.max()
    if high - low <= 1e-12:
        return np.ones_like(values)
    rescaled: Floats = (values - low) / (high - low)
    return rescaled


def _scored(
    candidate: Candidate,
    score: float,
    signals: dict[str, Floats],
    loan: float,
    row: int,
) -> Scored:
    breakdown = {name: float(values[row]) for name, values in signals.items()}
    breakdown.update(candidate.leg_scores)
    breakdown.update({f"{leg}_rank": float(rank) for leg, rank in candidate.ranks.items()})
    breakdown["neighbour"] = loan  # what the neighbours lent, so a reader sees why it ranks here
    return Scored(candidate, score, breakdown)


def _z_scores(candidates: Sequence[Candidate], leg: str) -> dict[str, float]:
    """Population z-scores of one leg; a candidate lacking the leg gets the leg's minimum."""
    present = [c.leg_scores[leg] for c in candidates if leg in c.leg_scores]
    if len(present) < 2:
        return {}
    floor = min(present)
    values = {c.id: c.leg_scores.get(leg, floor) for c in candidates}
    mean = sum(values.values()) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values.values()) / len(values))
    if std == 0:
        return {}
    return {cid: (v - mean) / std for cid, v in values.items()}


def _rescaled(values: dict[str, float]) -> dict[str, float]:
    if not values:
        return {}
    low, high = min(values.values()), max(values.values())
    if high - low <= 1e-12:
        return dict.fromkeys(values, 1.0)
    return {k: (v - low) / (high - low) for k, v in values.items()}


def _unit(value: float) -> float:
    return min(1.0, max(0.0, value))
