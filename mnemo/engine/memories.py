"""``AsyncMemory``'s memory methods: add, search, get, list, update, delete, history.

Also the pgvector tutorial's two methods and ``search_all`` (memories and
reference passages in one ranked list).
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from mnemo.core.document_records import SourcedHit
from mnemo.core.filters import parse_filters
from mnemo.core.ids import parse_id
from mnemo.core.records import AddResult, MemoryEvent, MemoryRecord, SearchHit
from mnemo.core.validation import (
    require_content,
    require_kinds,
    require_limit,
    require_timestamp,
)
from mnemo.engine.kinds import KindViews
from mnemo.engine.lifecycle import LifecycleMethods
from mnemo.engine.reads import read_only
from mnemo.errors import NotFound
from mnemo.retrieval.sources import merge_sources, require_sources
from mnemo.store.postgres.filters import scope_fragment


class MemoryMethods(KindViews, LifecycleMethods):
    """One user's memories: store, search, read, change and delete them (turns added
    with ``infer`` go through ``LifecycleMethods``' extraction)."""

    async def add(
        self,
        content: str | Sequence[Mapping[str, Any]],
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        created_at: datetime | str | None = None,
        kind: str = "note",
        infer: bool = False,
        confidence: float = 1.0,
        importance: float = 0.5,
        embedding: Sequence[float] | None = None,
        wait: bool = False,
        format: str | None = None,
    ) -> AddResult:
        """Store ``content`` as one memory of ``user_id`` and return its id.

        ``content`` may also be conversation turns (``[{"role": "user", "content":
        ...}, ...]``, as ``add_messages`` takes them). With ``infer=True`` the text
        or turns are stored as conversation messages and extraction is queued, in
        one transaction; it returns at once with the turns' ids, and a worker
        distils and reconciles the memories. ``wait=True`` (or ``flush()``) waits
        for that; ``AddResult.extraction`` tells each turn's state. Without
        ``infer``, a text is one memory and each turn becomes a note. Turns may be
        in a provider's format, as ``add_messages`` takes them (``format``). With read
        replicas, ``wait=True`` also means the user's reads that follow see what was
        added (read-your-writes).
        """
        if infer or not isinstance(content, str):
            fields = {"metadata": metadata, "created_at": created_at, "kind": kind,
                      "embedding": embedding}  # fmt: skip
            result = await self._add_conversation(
                content, scope=self._scope(user_id, agent_id, session_id), infer=bool(infer),
                wait=bool(wait), memory_fields=fields, fmt=format,
            )  # fmt: skip
            return await self._readable(result, user_id, wait=bool(wait))
        item = {
            "content": content,
            "metadata": metadata,
            "created_at": created_at,
            "kind": kind,
            "confidence": confidence,
            "importance": importance,
            "embedding": embedding,
        }
        records = await self._add(
            item_list=[item],
            user_id=user_id,
            agent_id=agent_id,
            session_id=session_id,
            contextual=False,
        )
        return await self._readable(
            AddResult(ids=[r.id for r in records], memories=records), user_id, wait=bool(wait)
        )

    async def _readable(self, result: AddResult, user_id: str, *, wait: bool) -> AddResult:
        """``result``; with ``wait``, once reads of the user see it (on a read replica too)."""
        if wait:
            await self.db.mark_writes(self.config.tenant_id, user_id)
        return result

    async def add_many(
        self,
        items: Sequence[Mapping[str, Any]],
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        infer: bool = False,
        contextual: bool = True,
    ) -> list[str]:
        """Store many memories of one user at once (all or none); their ids in input order.

        Each item holds ``content`` and optionally ``metadata``, ``created_at``,
        ``kind``, ``confidence``, ``importance``, ``embedding``, ``agent_id``,
        ``session_id``. ``infer`` behaves as in ``add``.

        Items are taken as a sequence (turns of a conversation, lines of notes):
        with ``contextual`` (the default) each item's vector also sees the item
        before it, which finds answers that follow their question. Pass
        ``contextual=False`` for unrelated items.
        """
        records = await self._add(
            item_list=items,
            user_id=user_id,
            agent_id=agent_id,
            session_id=session_id,
            contextual=contextual,
        )
        return [r.id for r in records]

    @read_only
    async def search(
        self,
        query: str,
        *,
        user_id: str,
        limit: int = 10,
        filters: Mapping[str, Any] | None = None,
        kinds: Sequence[str] | None = None,
        agent_id: str | None = None,
        session_id: str | None = None,
        as_of: datetime | str | None = None,
    ) -> list[SearchHit]:
        """The memories most relevant to ``query``, best first, with score breakdowns."""
        scope = self._scope(user_id, agent_id, session_id)
        query = require_content(query, max_chars=self.config.limits.max_content_chars, name="query")
        limit = require_limit(limit, maximum=self.config.search.max_limit)
        parsed_filters = parse_filters(filters)
        checked_kinds = require_kinds(kinds)
        when = require_timestamp(as_of, "as_of")
        await self._ready()
        with self.observers.timed("search.total"):
            where = scope_fragment(scope, kinds=checked_kinds, filters=parsed_filters, as_of=when)
            return await self._search.search(scope, query, where, limit=limit, now=when)

    @read_only
    async def get(self, memory_id: str, *, user_id: str | None = None) -> MemoryRecord:
        """The memory with this id, or ``NotFound``.

        With ``user_id``, only that user's memory is found; on a Citus cluster the
        lookup then runs on the user's shard instead of asking every shard.
        """
        memory_id = str(parse_id(memory_id, what="memory id"))
        owner = self._owner(user_id)
        await self._ready()
        return await self._store.get(self.config.tenant_id, memory_id, user_id=owner)

    @read_only
    async def list(
        self,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        kinds: Sequence[str] | None = None,
        filters: Mapping[str, Any] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[MemoryRecord]:
        """A user's current memories, newest first, ``limit`` at a time from ``offset``
        (memories in other states: ``inspect.memories``)."""
        return await self.inspect.memories(
            user_id=user_id, agent_id=agent_id, session_id=session_id, kinds=kinds,
            filters=filters, limit=limit, offset=offset,
        )  # fmt: skip

    async def update(
        self,
        memory_id: str,
        content: str | None = None,
        *,
        metadata: dict[str, Any] | None = None,
        kind: str | None = None,
        confidence: float | None = None,
        importance: float | None = None,
        pinned: bool | None = None,
        user_id: str | None = None,
    ) -> MemoryRecord:
        """Change a memory (a new content is re-embedded); the old version stays in its history.

        ``user_id``, when given, must be the memory's user (as in ``get``)."""
        owner = self._owner(user_id)
        await self._ready()
        return await self._memories.update(
            self.config.tenant_id,
            memory_id,
            user_id=owner,
            content=content,
            metadata=metadata,
            kind=kind,
            confidence=confidence,
            importance=importance,
            pinned=pinned,
        )

    async def delete(self, memory_id: str, *, user_id: str | None = None) -> None:
        """Delete a memory; its history keeps what it was. ``user_id`` as in ``get``."""
        memory_id = str(parse_id(memory_id, what="memory id"))
        owner = self._owner(user_id)
        await self._ready()
        await self._store.delete(self.config.tenant_id, memory_id, user_id=owner)

    @read_only
    async def history(
        self, memory_id: str, *, user_id: str | None = None
    ) -> builtins.list[MemoryEvent]:
        """Every change of a memory, oldest first. ``user_id`` as in ``get``."""
        memory_id = str(parse_id(memory_id, what="memory id"))
        owner = self._owner(user_id)
        await self._ready()
        events = await self._store.history(self.config.tenant_id, memory_id, user_id=owner)
        if not events:
            raise NotFound(f"no memory with id {memory_id}")
        return events

    def _owner(self, user_id: object) -> str | None:
        """A lookup's optional user, checked as every scope's user is."""
        return None if user_id is None else self._scope(user_id, None, None).user_id

    # -- the pgvector tutorial's functions -------------------------------------------------

    async def add_to_memory(self, conversation_id: str | int, content: str) -> str:
        """Store ``content`` in a conversation's memory (a conversation is a user scope)."""
        return (await self.add(content, user_id=str(conversation_id))).id

    async def get_relevant_memories(
        self, conversation_id: str | int, query: str, limit: int = 5
    ) -> builtins.list[str]:
        """The contents of the conversation's memories most relevant to ``query``."""
        hits = await self.search(query, user_id=str(conversation_id), limit=limit)
        return [hit.content for hit in hits]

    # -- several sources -------------------------------------------------------------------

    @read_only
    async def search_all(
        self,
        query: str,
        *,
        user_id: str,
        sources: Sequence[str] = ("memories", "documents"),
        limit: int = 10,
        agent_id: str | None = None,
        session_id: str | None = None,
        include_shared: bool = True,
    ) -> builtins.list[SourcedHit]:
        """Memories and reference passages relevant to ``query`` in one ranked list.

        Each source is searched on its own, concurrently; the lists are merged by
        ``mnemo.retrieval.sources.merge_sources`` (each hit's own score mixed with
        its similarity to the query). ``hit.source`` says where a hit came from and
        ``hit.item`` is the source's own hit.
        """
        chosen = require_sources(sources)
        limit = require_limit(limit, maximum=self.config.search.max_limit)
        await self._ready()
        memory_hits, chunk_hits = await asyncio.gather(
            self.search(query, user_id=user_id, agent_id=agent_id, session_id=session_id,
                        limit=limit)
            if "memories" in chosen else _no_hits(),
            self.documents.search(query, user_id=user_id, agent_id=agent_id,
                                  session_id=session_id, limit=limit,
                                  include_shared=include_shared)
            if "documents" in chosen else _no_hits(),
        )  # fmt: skip
        return merge_sources(memory_hits, chunk_hits, limit=limit)

    # -- helpers ---------------------------------------------------------------------------

    async def _add(
        self,
        *,
        item_list: Sequence[Mapping[str, Any]],
        user_id: str,
        agent_id: str | None,
        session_id: str | None,
        contextual: bool,
    ) -> builtins.list[MemoryRecord]:
        scope = self._scope(user_id, agent_id, session_id)
        await self._ready()
        with self.observers.timed("add"):
            return await self._memories.add_many(scope, item_list, contextual=contextual)


async def _no_hits() -> builtins.list[Any]:
    return []
