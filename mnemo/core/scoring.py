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

from mnemo.errors import InvalidInput

LEGS = ("vector", "lexical")


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


#: A ranking step after fusion: from the candidates and their fused scores, what to
#: add to each (in fused units), e.g. ``ContextBoosts`` (``mnemo.core.context_boosts``).
Lift = Callable[[Sequence[Candidate], dict[str, float]], dict[str, float]]


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
        for cid, extra in lift(candidates, fused).items():
            boosted[cid] += extra
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

    ``lift``: an extra ranking step after fusion (see ``relevance_and_loans``).
    """
    pool = list(candidates)
    lifted: dict[str, float] = {}

    def recorded(found: Sequence[Candidate], fused: dict[str, float]) -> dict[str, float]:
        lifted.update(lift(found, fused) if lift is not None else {})
        return lifted

    relevances, loans = relevance_and_loans(pool, fusion, recorded if lift else None)
    scored = [
        composite(c, relevances[c.id], weights, now=now, half_life_days=half_life_days)
        for c in pool
    ]
    for item in scored:  # what the neighbours and the lift gave, so a reader sees why
        item.scores["neighbour"] = loans[item.candidate.id]
        if lift is not None:
            item.scores["context"] = lifted.get(item.candidate.id, 0.0)
    scored.sort(key=lambda s: (s.score, s.candidate.created_at, s.candidate.id), reverse=True)
    return scored[:limit]


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
