"""The records reference documents hand back: documents, chunks, loads, search hits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentRecord:
    """A loaded document. ``shared`` documents belong to the whole tenant (``user_id``
    is then ``None``); ``version`` counts the loads that changed it."""

    id: str
    user_id: str | None
    shared: bool
    name: str
    uri: str | None
    format: str
    title: str | None
    content_hash: str
    char_count: int
    chunk_count: int
    metadata: dict[str, Any]
    version: int
    loaded_at: datetime
    created_at: datetime
    agent_id: str | None = None
    session_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadResult:
    """What ``load`` did: the stored document, and whether its content changed.

    ``embedded`` chunks were embedded now; ``reused`` took the vector a previous
    load of the same text stored.
    """

    document: DocumentRecord
    changed: bool
    chunks: int
    embedded: int
    reused: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ChunkRecord:
    """A piece of a document. ``content`` is the text searched and embedded: the
    heading path on its first line (when there is one), then the chunk's text;
    ``char_start`` / ``char_end`` locate the text in the document's plain text."""

    id: str
    document_id: str
    document_name: str
    document_title: str | None
    document_format: str
    document_version: int
    user_id: str | None
    shared: bool
    index: int
    heading_path: list[str]
    char_start: int
    char_end: int
    tokens: int
    content: str
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    agent_id: str | None = None
    session_id: str | None = None
    embedding_model: str | None = None

    @property
    def heading(self) -> str:
        return " > ".join(self.heading_path)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChunkHit(ChunkRecord):
    """A chunk found by search, with its ``score`` and the ``scores`` behind it."""

    score: float
    scores: dict[str, float]


@dataclass(frozen=True, slots=True, kw_only=True)
class SourcedHit:
    """One result of a search over several sources (``"memories"``, ``"documents"``).

    ``score`` orders the merged list (see ``mnemo.retrieval.sources``); ``item`` is
    the source's own hit (a ``SearchHit`` or a ``ChunkHit``), with its breakdown.
    """

    source: str
    id: str
    content: str
    score: float
    scores: dict[str, float]
    item: Any
