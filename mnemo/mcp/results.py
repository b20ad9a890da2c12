"""What the tools return: structured results (never embeddings), one model per shape.

Memories, events and extraction states use the REST service's response models
(``mnemo.service.schemas``), so a memory reads the same over MCP and over HTTP.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from mnemo.core.document_records import SourcedHit
from mnemo.orchestrator import ContextResult
from mnemo.service.schemas import (
    DeletedOut,
    EventOut,
    ExtractionStateOut,
    MemoryOut,
    MemoryPage,
    SearchHitOut,
)

__all__ = [
    "ContextBrief",
    "ConversationStored",
    "DeletedOut",
    "ExtractionStatusOut",
    "MemoryDeleted",
    "MemoryOut",
    "MemoryPage",
    "MemoryWithHistory",
    "SearchResults",
    "SourcedHitOut",
    "SourcedResults",
]


class SearchResults(BaseModel):
    """The memories most relevant to the query, best first, each with its score
    breakdown (relevance, recency, access, confidence, importance)."""

    query: str
    results: list[SearchHitOut]


class MemoryWithHistory(BaseModel):
    """One memory and every change it went through, oldest first."""

    memory: MemoryOut
    history: list[EventOut]


class MemoryDeleted(BaseModel):
    deleted: str = Field(description="the id of the deleted memory (its history is kept)")


class ConversationStored(BaseModel):
    """The stored turns' ids, in order, and each turn's extraction state."""

    ids: list[str]
    extraction: dict[str, str] = Field(
        description="pending (queued), done or failed, by turn id; empty without infer"
    )


class SectionBrief(BaseModel):
    name: str
    status: str
    tokens: int
    entries: int
    error: str | None


class ContextBrief(BaseModel):
    """The context to put in the model's prompt, and how the budget was spent."""

    context: str
    tokens: int
    max_tokens: int
    degraded: bool = Field(description="true when a section failed; the rest is still usable")
    errors: dict[str, str]
    sections: list[SectionBrief]

    @classmethod
    def of(cls, result: ContextResult) -> ContextBrief:
        sections = [
            SectionBrief(name=s.name, status=s.status, tokens=s.tokens, entries=len(s.entries),
                         error=s.error)
            for s in result.sections
        ]  # fmt: skip
        return cls(context=result.text, tokens=result.tokens, max_tokens=result.max_tokens,
                   degraded=result.degraded, errors=result.errors, sections=sections)  # fmt: skip


class SourcedHitOut(BaseModel):
    """A memory (``source`` memories) or a reference passage (``source`` documents)."""

    source: str
    id: str
    content: str
    score: float
    scores: dict[str, float]
    kind: str | None = Field(default=None, description="the memory's kind")
    document: str | None = Field(default=None, description="the passage's document name")

    @classmethod
    def of(cls, hit: SourcedHit) -> SourcedHitOut:
        item: Any = hit.item
        return cls(source=hit.source, id=hit.id, content=hit.content, score=hit.score,
                   scores=hit.scores, kind=getattr(item, "kind", None),
                   document=getattr(item, "document_name", None))  # fmt: skip


class SourcedResults(BaseModel):
    query: str
    results: list[SourcedHitOut]


class ExtractionStatusOut(BaseModel):
    """The user's turns per extraction state, and the state of each turn asked about."""

    counts: dict[str, int]
    turns: dict[str, ExtractionStateOut]
