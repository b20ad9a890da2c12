"""Distilled memories: validate what callers hand over, embed it, store it."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from mnemo.config import Limits
from mnemo.core.ids import new_id, parse_id
from mnemo.core.records import MEMORY_KINDS, MemoryChanges, MemoryRecord, NewMemory, Scope
from mnemo.core.validation import (
    require_choice,
    require_content,
    require_metadata,
    require_scope_id,
    require_timestamp,
    require_unit,
)
from mnemo.errors import DimensionMismatch, InvalidInput
from mnemo.retrieval.embedding import EmbeddingService
from mnemo.store.postgres.memories import MemoryStore

ITEM_FIELDS = frozenset(
    {
        "content",
        "metadata",
        "created_at",
        "kind",
        "confidence",
        "importance",
        "embedding",
        "agent_id",
        "session_id",
        "source_message_ids",
    }
)


class MemoryService:
    """Adds and changes memories; every input is checked before anything is written."""

    def __init__(self, store: MemoryStore, embeddings: EmbeddingService, limits: Limits) -> None:
        self._store = store
        self._embeddings = embeddings
        self._limits = limits

    async def add_many(
        self,
        scope: Scope,
        items: Sequence[Mapping[str, Any]],
        *,
        contextual: bool = False,
        actor: str | None = None,
    ) -> list[MemoryRecord]:
        """Store ``items`` for one user, all or none, in input order.

        With ``contextual``, each item's vector is computed from the previous item
        and itself (the stored content stays its own), as suits consecutive turns.
        """
        if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
            raise InvalidInput("items must be a list of objects with a 'content' field")
        if not items:
            return []
        if len(items) > self._limits.max_batch:
            raise InvalidInput(f"at most {self._limits.max_batch} items per call, got {len(items)}")
        prepared = [self.prepare(scope, item, index) for index, item in enumerate(items)]
        return await self._store.insert(
            scope,
            await self._with_embeddings(prepared, contextual=contextual),
            model=self._embeddings.model_id,
            actor=actor,
        )

    def prepare(self, scope: Scope, item: Mapping[str, Any], index: int = 0) -> NewMemory:
        """A validated ``NewMemory`` from one caller item (its embedding may still be missing)."""
        if not isinstance(item, Mapping):
            raise InvalidInput(f"item {index} must be an object, got {type(item).__name__}")
        unknown = set(item) - ITEM_FIELDS
        if unknown:
            raise InvalidInput(f"item {index} has unknown fields {sorted(unknown)}")
        limits = self._limits
        return NewMemory(
            id=str(new_id()),
            content=require_content(item.get("content"), max_chars=limits.max_content_chars),
            kind=require_choice(item.get("kind", "note"), "kind", MEMORY_KINDS),
            embedding=self._checked_vector(item.get("embedding")),
            metadata=require_metadata(item.get("metadata"), max_bytes=limits.max_metadata_bytes),
            created_at=require_timestamp(item.get("created_at"), "created_at"),
            agent_id=require_scope_id(
                item.get("agent_id", scope.agent_id), "agent_id", required=False
            ),
            session_id=require_scope_id(
                item.get("session_id", scope.session_id), "session_id", required=False
            ),
            confidence=require_unit(item.get("confidence", 1.0), "confidence"),
            importance=require_unit(item.get("importance", 0.5), "importance"),
            source_message_ids=[
                str(parse_id(s, what="source_message_ids entry"))
                for s in item.get("source_message_ids") or []
            ],
        )

    async def update(
        self,
        tenant_id: str,
        memory_id: str,
        *,
        content: str | None = None,
        metadata: dict[str, Any] | None = None,
        kind: str | None = None,
        confidence: float | None = None,
        importance: float | None = None,
        pinned: bool | None = None,
        actor: str | None = None,
        reason: str | None = None,
        user_id: str | None = None,
    ) -> MemoryRecord:
        """Change a memory; a new content is re-embedded. The change is kept in its history."""
        memory_id = str(parse_id(memory_id, what="memory id"))
        changes = MemoryChanges(
            content=None if content is None else self._content(content),
            kind=None if kind is None else require_choice(kind, "kind", MEMORY_KINDS),
            metadata=None
            if metadata is None
            else require_metadata(metadata, max_bytes=self._limits.max_metadata_bytes),
            confidence=None if confidence is None else require_unit(confidence, "confidence"),
            importance=None if importance is None else require_unit(importance, "importance"),
            pinned=pinned,
        )
        if changes == MemoryChanges():
            raise InvalidInput("update needs at least one field to change")
        if changes.content is not None:
            vector = (await self._embeddings.embed_passages([changes.content]))[0]
            changes = replace(changes, embedding=vector)
        return await self._store.update(
            tenant_id,
            memory_id,
            changes,
            model=self._embeddings.model_id,
            actor=actor,
            reason=reason,
            user_id=user_id,
        )

    def _content(self, content: object) -> str:
        return require_content(content, max_chars=self._limits.max_content_chars)

    def _checked_vector(self, value: object) -> Any:
        if value is None:
            return None
        try:
            vector = np.asarray(value, dtype=np.float32)
        except (TypeError, ValueError):
            raise InvalidInput("embedding must be a list of numbers") from None
        if vector.ndim != 1 or vector.shape[0] != self._embeddings.dimension:
            raise DimensionMismatch(
                f"embedding has {vector.size} values; this store's model "
                f"{self._embeddings.model_id} uses {self._embeddings.dimension}"
            )
        if not np.isfinite(vector).all():
            raise InvalidInput("embedding values must be finite numbers")
        return vector

    async def _with_embeddings(
        self, memories: list[NewMemory], *, contextual: bool
    ) -> list[NewMemory]:
        texts = embedding_texts([m.content for m in memories], contextual=contextual)
        missing = [text for m, text in zip(memories, texts, strict=True) if m.embedding is None]
        if not missing:
            return memories
        vectors = iter(await self._embeddings.embed_passages(missing))
        return [
            m if m.embedding is not None else replace(m, embedding=next(vectors)) for m in memories
        ]


def embedding_texts(contents: Sequence[str], *, contextual: bool) -> list[str]:
    """What to embed for each item: itself, or with ``contextual`` the previous item and itself.

    In a conversation the answer often lives in the turn after the one that names
    the topic ("Where did you go?" / "Lisbon!"); embedding the pair lets a query
    about the topic find the answer. See docs/research/locomo-retrieval.md.
    """
    if not contextual or not contents:
        return list(contents)
    return [
        contents[0],
        *(contextual_text(prev, cur) for prev, cur in itertools.pairwise(contents)),
    ]


def contextual_text(previous: str | None, text: str) -> str:
    """What a contextual embedding embeds: the previous item (if any), then this one."""
    return text if previous is None else f"{previous}\n{text}"
