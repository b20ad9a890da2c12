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

from mnemo.engine import AsyncMemory
from mnemo.integrations._bridge import Bridge
from mnemo.integrations._operations import Found, Retrieval
from mnemo.memory import Memory


class MnemoRetriever(BaseRetriever):
    """A user's memories (and, with ``sources``, reference passages) as ``Document``\\ s.

    ``k`` results, best first (``invoke(query, k=...)`` overrides it per call). Each
    document's metadata holds the hit's ``id``, ``source``, ``score`` and the
    ``scores`` breakdown behind it, plus the memory's kind, timestamps and own
    metadata (or the passage's document name, title and headings). With the
    default ``sources=("memories",)`` the call is ``search`` and takes ``filters``
    and ``kinds``; naming ``"documents"`` makes it ``search_all``. Sync calls need
    a ``Memory``; async ones work with either face.
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
    _retrieval: Retrieval = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        self._bridge = Bridge(self.memory, tenant_id=self.tenant_id)
        self._retrieval = Retrieval(
            self.user_id, self.agent_id, self.session_id, tuple(self.sources), self.filters,
            self.kinds,
        )  # fmt: skip

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = kwargs.get("k", self.k)
        found = self._bridge.run(lambda engine: self._retrieval.find(engine, query, k))
        return [_document(f) for f in found]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = kwargs.get("k", self.k)
        found = await self._bridge.arun(lambda engine: self._retrieval.find(engine, query, k))
        return [_document(f) for f in found]


def _document(found: Found) -> Document:
    metadata = {"id": found.id, "score": found.score, **found.metadata}
    return Document(page_content=found.content, id=found.id, metadata=metadata)
