"""Merging memory and document hits into one list (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mnemo.core.document_records import ChunkHit
from mnemo.core.records import SearchHit
from mnemo.errors import InvalidInput
from mnemo.retrieval.sources import merge_sources, require_sources

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def memory_hit(name: str, score: float, similarity: float) -> SearchHit:
    return SearchHit(
        id=name,
        user_id="u",
        content=name,
        kind="note",
        metadata={},
        created_at=T0,
        updated_at=T0,
        score=score,
        scores={"vector": similarity},
    )


def chunk_hit(name: str, score: float, similarity: float | None) -> ChunkHit:
    scores = {} if similarity is None else {"vector": similarity}
    return ChunkHit(
        id=name,
        document_id="d",
        document_name="doc",
        document_title=None,
        document_format="text",
        document_version=1,
        user_id="u",
        shared=False,
        index=0,
        heading_path=[],
        char_start=0,
        char_end=1,
        tokens=1,
        content=name,
        score=score,
        scores=scores,
    )


def test_a_weakly_related_source_sinks_below_a_close_match() -> None:
    merged = merge_sources(
        [memory_hit("m1", 0.95, 0.91), memory_hit("m2", 0.40, 0.85)],
        [chunk_hit("c1", 0.96, 0.80), chunk_hit("c2", 0.10, None)],
        limit=3,
    )
    assert [h.id for h in merged] == ["m1", "c1", "m2"]
    assert [h.source for h in merged] == ["memories", "documents", "memories"]
    top = merged[0]
    assert top.scores["similarity_rescaled"] == 1.0 and top.scores["source_score"] == 0.95
    assert top.score == pytest.approx(0.975) and top.item.id == "m1"


def test_one_source_alone_keeps_its_order_and_sources_are_checked() -> None:
    merged = merge_sources([], [chunk_hit("a", 0.9, 0.8), chunk_hit("b", 0.5, 0.8)], limit=5)
    assert [h.id for h in merged] == ["a", "b"]
    assert require_sources("documents") == ("documents",)
    assert require_sources(["memories", "documents", "memories"]) == ("memories", "documents")
    for bad in ([], ["web"], 3):
        with pytest.raises(InvalidInput):
            require_sources(bad)
