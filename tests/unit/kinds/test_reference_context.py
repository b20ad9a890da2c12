"""Rendering entities and passages for a prompt under a token budget (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

from mnemo.core.document_records import ChunkHit
from mnemo.core.entity_records import EntityRecord, EntityRelation
from mnemo.core.tokens import default_token_counter
from mnemo.kinds.document_context import render_chunks
from mnemo.kinds.entity_context import render_context

T0 = datetime(2025, 3, 4, tzinfo=UTC)


def entity(name: str, description: str = "", aliases: tuple[str, ...] = ()) -> EntityRecord:
    return EntityRecord(
        id=name,
        user_id="u",
        name=name,
        type="person",
        description=description,
        aliases=list(aliases),
        importance=0.5,
        mention_count=2,
        first_seen_at=T0,
        last_seen_at=T0,
    )


def relation(subject: str, predicate: str, obj: str) -> EntityRelation:
    return EntityRelation(
        id=f"{subject}-{obj}",
        subject=subject,
        predicate=predicate,
        object=obj,
        subject_id=subject,
        object_id=obj,
        confidence=0.6,
        mention_count=1,
        evidence=[],
        source_message_ids=[],
        first_seen_at=T0,
        last_seen_at=T0,
    )


def test_entities_then_relations_touching_a_kept_entity() -> None:
    context = render_context(
        [entity("Anna", "Anna is a chemist.", ("Annie",)), entity("Bob")],
        [relation("Jon", "sister", "Anna"), relation("Eve", "knows", "Zed")],
        max_tokens=None,
    )
    assert context.text == (
        "Known entities:\n"
        "- Anna (person; also Annie): Anna is a chemist. [2 mentions, last 2025-03-04]\n"
        "- Bob (person) [2 mentions, last 2025-03-04]\n"
        "Relationships:\n"
        "- Jon --sister--> Anna"
    )
    assert [r.subject for r in context.relations] == ["Jon"]
    assert context.tokens == default_token_counter().count(context.text)
    assert not context.truncated


def test_budget_drops_whole_lines() -> None:
    full = render_context([entity("Anna"), entity("Bob")], [], max_tokens=None)
    budget = default_token_counter().count("\n".join(full.text.splitlines()[:2])) + 1
    cut = render_context([entity("Anna"), entity("Bob")], [], max_tokens=budget)
    assert cut.truncated and [e.name for e in cut.entities] == ["Anna"]
    assert render_context([], [], max_tokens=10).text == ""


def chunk(title: str, content: str, score: float) -> ChunkHit:
    return ChunkHit(
        id=title,
        document_id="d",
        document_name=f"{title}.md",
        document_title=title,
        document_format="markdown",
        document_version=1,
        user_id="u",
        shared=False,
        index=0,
        heading_path=["A"],
        char_start=0,
        char_end=1,
        tokens=1,
        content=content,
        score=score,
        scores={},
    )


def test_passages_skip_what_does_not_fit_and_keep_later_small_ones() -> None:
    big, small = chunk("Big", "word " * 200, 0.9), chunk("Small", "A\nshort fact.", 0.5)
    context = render_chunks([big, small], max_tokens=30)
    assert [c.id for c in context.chunks] == ["Small"] and context.truncated
    assert context.text == "Reference documents:\n[Small]\nA\nshort fact."
