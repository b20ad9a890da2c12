"""``MnemoRetriever``: LangChain's retriever over ``search`` / ``search_all``."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import PrivateAttr

from mnemo.core.document_records import ChunkHit, SourcedHit
from mnemo.core.records import SearchHit
from mnemo.engine import AsyncMemory
from mnemo.integrations._bridge import Bridge
from mnemo.memory import Memory


class MnemoRetriever(BaseRetriever):
    """A user's memories (and, with ``sources``, reference passages) as ``Document``\\ s.

    ``k`` results, best first (``invoke(query, k=...)`` overrides it per call). Each
    document's metadata holds the hit's ``id``, ``source``, ``score`` and the
    ``scores`` breakdown behind it, plus the memory's kind, timestamps and own
    metadata (or the passage's document name, title and headings). With the
    default ``sources=("memories",)`` the call is ``search`` and takes ``filters``
    and ``kinds``; naming ``"documents"`` makes it ``search_all``.
    """

    memory: Memory | AsyncMemory
    user_id: str
    k: int = 4
    sources: tuple[str, ...] = ("memories",)
    filters: dict[str, Any] | None = None
    kinds: list[str] | None = None
    agent_id: str | None = None
    session_id: str | None = None
    tenant_id: str | None = None

    _bridge: Bridge = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        self._bridge = Bridge(self.memory, tenant_id=self.tenant_id)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = kwargs.get("k", self.k)
        return self._bridge.run(lambda engine: self._search(engine, query, k))

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = kwargs.get("k", self.k)
        return await self._bridge.arun(lambda engine: self._search(engine, query, k))

    async def _search(self, engine: AsyncMemory, query: str, k: int) -> list[Document]:
        user, agent, session = self.user_id, self.agent_id, self.session_id
        if tuple(self.sources) == ("memories",):
            hits = await engine.search(
                query, user_id=user, agent_id=agent, session_id=session, limit=k,
                filters=self.filters, kinds=self.kinds,
            )  # fmt: skip
            return [memory_document(hit) for hit in hits]
        sourced = await engine.search_all(
            query, user_id=user, agent_id=agent, session_id=session, limit=k, sources=self.sources
        )
        return [sourced_document(hit) for hit in sourced]


def memory_document(hit: SearchHit, score: float | None = None) -> Document:
    """A memory hit as a ``Document`` (``score`` overrides the hit's own, for merged lists)."""
    return Document(
        page_content=hit.content,
        id=hit.id,
        metadata={
            "id": hit.id, "source": "memories",
            "score": hit.score if score is None else score, "scores": dict(hit.scores),
            "kind": hit.kind, "created_at": hit.created_at.isoformat(),
            "updated_at": hit.updated_at.isoformat(), "metadata": dict(hit.metadata),
        },
    )  # fmt: skip


def sourced_document(hit: SourcedHit) -> Document:
    """A hit of ``search_all`` as a ``Document``: a memory, or a reference passage."""
    if isinstance(hit.item, SearchHit):
        document = memory_document(hit.item, hit.score)
        document.metadata["scores"] = dict(hit.scores)
        return document
    chunk: ChunkHit = hit.item
    return Document(
        page_content=chunk.content,
        id=chunk.id,
        metadata={
            "id": chunk.id, "source": "documents", "score": hit.score,
            "scores": dict(hit.scores), "document_id": chunk.document_id,
            "document_name": chunk.document_name, "title": chunk.document_title,
            "heading_path": list(chunk.heading_path), "metadata": dict(chunk.metadata),
        },
    )  # fmt: skip
