"""``MnemoRetriever``: LlamaIndex's retriever over mnemo's ``search`` / ``search_all``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from mnemo.core.document_records import ChunkHit, SourcedHit
from mnemo.core.records import SearchHit
from mnemo.engine import AsyncMemory
from mnemo.integrations._bridge import Bridge
from mnemo.memory import Memory


class MnemoRetriever(BaseRetriever):
    """A user's memories (and, with ``sources``, reference passages) as scored nodes.

    Each ``NodeWithScore`` carries mnemo's score; the node's id is the memory's (or
    passage's) id, and its metadata holds ``source``, the ``scores`` breakdown and
    the memory's kind and own metadata (or the passage's document). Sync retrieval
    needs a ``Memory``; async works with either face.
    """

    def __init__(
        self,
        memory: Memory | AsyncMemory,
        *,
        user_id: str,
        top_k: int = 5,
        sources: Sequence[str] = ("memories",),
        agent_id: str | None = None,
        session_id: str | None = None,
        tenant_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._bridge = Bridge(memory, tenant_id=tenant_id)
        self.user_id = user_id
        self.top_k = top_k
        self.sources = tuple(sources)
        self.agent_id = agent_id
        self.session_id = session_id

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return self._bridge.run(lambda engine: self._search(engine, query_bundle.query_str))

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return await self._bridge.arun(lambda engine: self._search(engine, query_bundle.query_str))

    async def _search(self, engine: AsyncMemory, query: str) -> list[NodeWithScore]:
        user, agent, session = self.user_id, self.agent_id, self.session_id
        if self.sources == ("memories",):
            hits = await engine.search(
                query, user_id=user, agent_id=agent, session_id=session, limit=self.top_k
            )
            return [_memory_node(hit, hit.score, hit.scores) for hit in hits]
        sourced = await engine.search_all(
            query, user_id=user, agent_id=agent, session_id=session, limit=self.top_k,
            sources=self.sources,
        )  # fmt: skip
        return [_sourced_node(hit) for hit in sourced]


def _memory_node(hit: SearchHit, score: float, scores: dict[str, float]) -> NodeWithScore:
    metadata = {
        "source": "memories",
        "scores": dict(scores),
        "kind": hit.kind,
        "created_at": hit.created_at.isoformat(),
        "metadata": dict(hit.metadata),
    }
    return NodeWithScore(
        node=TextNode(id_=hit.id, text=hit.content, metadata=metadata), score=score
    )


def _sourced_node(hit: SourcedHit) -> NodeWithScore:
    if isinstance(hit.item, SearchHit):
        return _memory_node(hit.item, hit.score, hit.scores)
    chunk: ChunkHit = hit.item
    metadata = {
        "source": "documents",
        "scores": dict(hit.scores),
        "document_id": chunk.document_id,
        "document_name": chunk.document_name,
        "title": chunk.document_title,
        "heading_path": list(chunk.heading_path),
    }
    node = TextNode(id_=chunk.id, text=chunk.content, metadata=metadata)
    return NodeWithScore(node=node, score=hit.score)
