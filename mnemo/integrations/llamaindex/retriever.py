"""``MnemoRetriever``: LlamaIndex's retriever over mnemo's ``search`` / ``search_all``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from mnemo.engine import AsyncMemory
from mnemo.integrations._bridge import Bridge
from mnemo.integrations._operations import Found, Retrieval
from mnemo.memory import Memory


class MnemoRetriever(BaseRetriever):
    """A user's memories (and, with ``sources``, reference passages) as scored nodes.

    Each ``NodeWithScore`` carries mnemo's score; the node's id is the memory's (or
    passage's) id, and its metadata holds ``source``, the ``scores`` breakdown and
    the memory's kind and own metadata (or the passage's document). ``filters`` and
    ``kinds`` narrow a memory search. Sync retrieval needs a ``Memory``; async works
    with either face.
    """

    def __init__(
        self,
        memory: Memory | AsyncMemory,
        *,
        user_id: str,
        top_k: int = 5,
        sources: Sequence[str] = ("memories",),
        filters: Mapping[str, Any] | None = None,
        kinds: Sequence[str] | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        tenant_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._bridge = Bridge(memory, tenant_id=tenant_id)
        self._retrieval = Retrieval(user_id, agent_id, session_id, tuple(sources), filters, kinds)
        self.top_k = top_k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        query = query_bundle.query_str
        found = self._bridge.run(lambda engine: self._retrieval.find(engine, query, self.top_k))
        return [_node(f) for f in found]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        query = query_bundle.query_str
        found = await self._bridge.arun(
            lambda engine: self._retrieval.find(engine, query, self.top_k)
        )
        return [_node(f) for f in found]


def _node(found: Found) -> NodeWithScore:
    node = TextNode(id_=found.id, text=found.content, metadata=found.metadata)
    return NodeWithScore(node=node, score=found.score)
