"""One ranked list from several searchable sources (memories, reference documents).

Each source is searched on its own (its own candidates, fusion and composite
score, which are relative to that source's candidates: every source's best hit
has relevance 1). To put them in one list, each hit's own score is mixed half
and half with its cosine similarity to the query, rescaled over all the hits of
all the sources. The similarity is comparable across sources (one embedder, one
query vector), so a source whose best hit is only weakly related to the query
sinks below a source with a close match.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mnemo.core.document_records import ChunkHit, SourcedHit
from mnemo.core.records import SearchHit
from mnemo.errors import InvalidInput

SOURCES = ("memories", "documents")
#: Share of the merged score taken from the source's own score.
OWN_SCORE_WEIGHT = 0.5


def require_sources(sources: object) -> tuple[str, ...]:
    """Known source names, deduplicated, in the order given."""
    if isinstance(sources, str):
        sources = [sources]
    if not isinstance(sources, Sequence) or not sources:
        raise InvalidInput(f"sources must be a non-empty list drawn from {list(SOURCES)}")
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise InvalidInput(f"unknown sources {unknown!r}; known: {list(SOURCES)}")
    return tuple(dict.fromkeys(sources))


def merge_sources(
    memories: Sequence[SearchHit], chunks: Sequence[ChunkHit], *, limit: int
) -> list[SourcedHit]:
    """The ``limit`` best hits of both lists by merged score, best first; each hit's
    breakdown gains ``source_score``, ``similarity_rescaled`` and ``merged``."""
    tagged: list[tuple[str, Any]] = [("memories", h) for h in memories]
    tagged += [("documents", h) for h in chunks]
    similarities = [_similarity(hit) for _, hit in tagged]
    known = [s for s in similarities if s is not None]
    low, high = (min(known), max(known)) if known else (0.0, 0.0)
    merged = []
    for (source, hit), similarity in zip(tagged, similarities, strict=True):
        rescaled = _rescale(similarity, low, high)
        score = OWN_SCORE_WEIGHT * hit.score + (1 - OWN_SCORE_WEIGHT) * rescaled
        scores = {
            **hit.scores,
            "source_score": hit.score,
            "similarity_rescaled": rescaled,
            "merged": score,
        }
        merged.append(
            SourcedHit(
                source=source, id=hit.id, content=hit.content, score=score, scores=scores, item=hit
            )
        )
    merged.sort(key=lambda h: (h.score, h.source == "memories"), reverse=True)
    return merged[:limit]


def _similarity(hit: Any) -> float | None:
    value = hit.scores.get("vector")
    return float(value) if value is not None else None


def _rescale(value: float | None, low: float, high: float) -> float:
    if value is None:
        return 0.0
    if high - low <= 1e-12:
        return 1.0
    return (value - low) / (high - low)
