"""Engine calls several adapters make: a whole session's turns, and a ranked search
whose hits every framework turns into its own document type."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mnemo.core.document_records import ChunkHit, SourcedHit
from mnemo.core.messages import MessageRecord
from mnemo.core.records import SearchHit
from mnemo.engine import AsyncMemory

#: Turns read per query while loading a whole session (the engine's largest page).
PAGE = 1_000


async def session_turns(
    engine: AsyncMemory, *, user_id: str, session_id: str, agent_id: str | None = None
) -> list[MessageRecord]:
    """Every turn of the session, oldest first, read a page at a time."""
    records: list[MessageRecord] = []
    while True:
        after = records[-1].turn_number if records else None
        page = await engine.list_messages(
            user_id=user_id, session_id=session_id, agent_id=agent_id, limit=PAGE,
            after_turn=after,
        )  # fmt: skip
        records.extend(page)
        if len(page) < PAGE:
            return records


@dataclass(frozen=True, slots=True)
class Found:
    """One retrieved memory or passage: its id, text, score and framework-neutral
    metadata (``source``, the ``scores`` breakdown, and what the hit knows)."""

    id: str
    content: str
    score: float
    metadata: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Retrieval:
    """What a retriever searches: a scope, how many, which sources, which memories."""

    user_id: str
    agent_id: str | None = None
    session_id: str | None = None
    sources: tuple[str, ...] = ("memories",)
    filters: Mapping[str, Any] | None = None
    kinds: Sequence[str] | None = None

    async def find(self, engine: AsyncMemory, query: str, limit: int) -> list[Found]:
        """``search`` over memories (with filters and kinds), or ``search_all`` when the
        sources name more than memories; best first."""
        user, agent, session = self.user_id, self.agent_id, self.session_id
        if tuple(self.sources) == ("memories",):
            hits = await engine.search(
                query, user_id=user, agent_id=agent, session_id=session, limit=limit,
                filters=self.filters, kinds=self.kinds,
            )  # fmt: skip
            return [_memory(hit, hit.score, hit.scores) for hit in hits]
        sourced = await engine.search_all(
            query, user_id=user, agent_id=agent, session_id=session, limit=limit,
            sources=self.sources,
        )  # fmt: skip
        return [_sourced(hit) for hit in sourced]


def _memory(hit: SearchHit, score: float, scores: Mapping[str, float]) -> Found:
    metadata = {
        "source": "memories",
        "scores": dict(scores),
        "kind": hit.kind,
        "created_at": hit.created_at.isoformat(),
        "updated_at": hit.updated_at.isoformat(),
        "metadata": dict(hit.metadata),
    }
    return Found(hit.id, hit.content, score, metadata)


def _sourced(hit: SourcedHit) -> Found:
    if isinstance(hit.item, SearchHit):
        return _memory(hit.item, hit.score, hit.scores)
    chunk: ChunkHit = hit.item
    metadata = {
        "source": "documents",
        "scores": dict(hit.scores),
        "document_id": chunk.document_id,
        "document_name": chunk.document_name,
        "title": chunk.document_title,
        "heading_path": list(chunk.heading_path),
        "metadata": dict(chunk.metadata),
    }
    return Found(chunk.id, chunk.content, hit.score, metadata)
