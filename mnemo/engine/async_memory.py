"""``AsyncMemory``: the one engine every face (library, REST service, CLI, worker) runs on."""

from __future__ import annotations

import asyncio
import builtins
import copy
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self, cast

from mnemo._lazy import OpensOnUse
from mnemo.config import MnemoConfig
from mnemo.core.document_records import SourcedHit
from mnemo.core.filters import parse_filters
from mnemo.core.ids import parse_id
from mnemo.core.observe import Observers
from mnemo.core.records import MEMORY_KINDS, AddResult, MemoryEvent, MemoryRecord, Scope, SearchHit
from mnemo.core.validation import (
    require_content,
    require_limit,
    require_scope_id,
    require_timestamp,
)
from mnemo.engine.context import ContextMethods
from mnemo.engine.conversations import ConversationMethods
from mnemo.engine.lifecycle import LifecycleMethods
from mnemo.errors import ConfigurationError, InvalidInput, NotFound
from mnemo.kinds.documents import DocumentService
from mnemo.kinds.entities import EntityService
from mnemo.kinds.kv import KeyValueService
from mnemo.kinds.memories import MemoryService
from mnemo.kinds.settings import SettingsService
from mnemo.kinds.user_data import UserDataService
from mnemo.kinds.working import (
    AccessLog,
    WorkingMemoryService,
    flush_reads,
    flush_reads_on_close,
)
from mnemo.lifecycle.reembed import Progress, reembed_store
from mnemo.providers.embedders.base import Embedder
from mnemo.providers.llms.base import LLM
from mnemo.retrieval.background import BackgroundWriter
from mnemo.retrieval.embedding import EmbeddingService
from mnemo.retrieval.model_guard import check_embedding_model
from mnemo.retrieval.search import HybridSearch, memory_hit
from mnemo.retrieval.sources import merge_sources, require_sources
from mnemo.store.cache import cache_namespace, open_cache
from mnemo.store.postgres.database import Database
from mnemo.store.postgres.documents import DocumentStore
from mnemo.store.postgres.embedding_cache import EmbeddingCacheStore
from mnemo.store.postgres.entities import EntityStore
from mnemo.store.postgres.entity_rows import EntitySearchStore
from mnemo.store.postgres.filters import scope_fragment
from mnemo.store.postgres.kv import KeyValueStore
from mnemo.store.postgres.memories import MEMORY_TABLE, MemoryStore
from mnemo.store.postgres.meta import MetaStore
from mnemo.store.postgres.migrate import migrate
from mnemo.store.postgres.pool import Pool, open_pool
from mnemo.store.postgres.reembed import ReembedStore
from mnemo.store.postgres.search import SearchStore
from mnemo.store.postgres.server import embedded_database_url
from mnemo.store.postgres.user_data import UserDataStore
from mnemo.store.postgres.working import WorkingStore

MAX_LIST_LIMIT = 1_000


class AsyncMemory(ConversationMethods, ContextMethods, LifecycleMethods):
    """Long-term memory for one application: store, search, change and forget memories.

    ``AsyncMemory()`` with no arguments reads the environment (``MNEMO_DATABASE_URL``,
    ``MNEMO_DATA_DIR``, ...) and otherwise starts the embedded PostgreSQL. It opens
    on first use, or explicitly with ``await m.open()`` / ``async with``.
    """

    def __init__(
        self,
        config: MnemoConfig | None = None,
        *,
        database_url: str | None = None,
        data_dir: str | Path | None = None,
        embedder: Embedder | str | None = None,
        tenant_id: str | None = None,
    ) -> None:
        if config is None:
            from mnemo.settings import Settings

            config = Settings().to_config()
        self.config = config.with_overrides(
            database_url=database_url,
            data_dir=Path(data_dir) if data_dir is not None else None,
            embedder=embedder,
            tenant_id=tenant_id,
        )
        self.observers = Observers()
        self._open_lock: asyncio.Lock | None = None
        self._opened = False
        self._is_view = False
        self._allow_model_change = False

    # -- lifecycle -----------------------------------------------------------------------

    async def open(self) -> Self:
        """Start or connect to PostgreSQL, migrate the schema, load the embedder."""
        if self._open_lock is None:
            self._open_lock = asyncio.Lock()
        async with self._open_lock:
            if not self._opened:
                await self._open()
                self._opened = True
        return self

    async def close(self) -> None:
        """Flush pending statistics and release the pool and the embedder."""
        if not self._opened or self._is_view:
            return
        self._opened = False
        await flush_reads_on_close(self._working_store, self._working_reads)
        await self._writer.aclose()
        await self._resources.aclose()

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _open(self) -> None:
        config = self.config
        database_url = config.database_url
        if database_url is None:
            database_url = await asyncio.to_thread(embedded_database_url, config.data_dir)
        self.database_url = database_url
        await asyncio.to_thread(migrate, database_url)
        async with AsyncExitStack() as resources:  # released here only if opening fails
            self.embedder = _resolve_embedder(config)
            await self.embedder.open()
            if not isinstance(config.embedder, Embedder):  # only what we loaded ourselves
                resources.push_async_callback(self.embedder.aclose)
            self.llm = _resolve_llm(config)
            if self.llm is not None and not isinstance(config.llm, LLM):
                resources.push_async_callback(self.llm.aclose)
            self._pool: Pool = await open_pool(
                database_url,
                min_size=config.pool_min_size,
                max_size=config.pool_max_size,
                role=config.database_role,
            )
            resources.push_async_callback(self._pool.close)
            self.db = Database(self._pool, tenant_guard=config.database_role is not None)
            self.cache = open_cache(config.redis_url, **config.cache_options)
            resources.push_async_callback(self.cache.aclose)
            self._wire(self.db)
            await check_embedding_model(
                MetaStore(self.db), self.embedder, allow_change=self._allow_model_change
            )
            self._writer.start()
            await self._start_worker(resources)
            self._resources = resources.pop_all()

    def _wire(self, db: Database) -> None:
        config = self.config
        store = MemoryStore(db, ts_config=config.search.text_search_config)
        self._store = store
        self._kv_store = KeyValueStore(db)
        self._working_store = WorkingStore(db)
        self._working_reads = AccessLog()
        self._writer = BackgroundWriter(
            store, EmbeddingCacheStore(db), interval=config.background_flush_seconds
        )
        self._embeddings = EmbeddingService(
            self.embedder, EmbeddingCacheStore(db), self._writer, self.cache
        )
        self._memories = MemoryService(store, self._embeddings, config.limits)
        self._searches = SearchStore(db, ts_config=config.search.text_search_config)
        self._search = HybridSearch(
            MEMORY_TABLE,
            memory_hit,
            self._searches,
            self._embeddings,
            config.search,
            self.observers,
            on_hits=self._writer.record_hits,
        )
        self._wire_reference(db)
        self._wire_conversations(db)
        self._wire_lifecycle(db)
        self._user_data = UserDataService(
            UserDataStore(db),
            self._memories,
            self._messages,
            lambda tenant_id: KeyValueService(self._kv_store, self.cache, config.kv, tenant_id),
            max_batch=config.limits.max_batch,
        )

    def _wire_reference(self, db: Database) -> None:
        """Stores of entity memory and reference documents (kept across kind views)."""
        from mnemo.core.entity_extraction import OfflineEntityExtractor
        from mnemo.store.postgres.shared_index import SharedChunkIndex

        ts_config = self.config.search.text_search_config
        self._entity_store = EntityStore(db, ts_config=ts_config)
        self._entity_search = EntitySearchStore(
            db, ts_config=ts_config,
            half_life_days=self.config.entities.importance_half_life_days,
        )  # fmt: skip
        self._entity_extractor: Any = OfflineEntityExtractor()
        if self.llm is not None:
            from mnemo.lifecycle.extraction.entities import LLMEntityExtractor

            self._entity_extractor = LLMEntityExtractor(self.llm)
        self._document_store = DocumentStore(db, ts_config=ts_config)
        self._shared_index = SharedChunkIndex(
            db, min_chunks=self.config.documents.hnsw_min_shared_chunks, ts_config=ts_config
        )

    async def _ready(self) -> None:
        if not self._opened:
            await self.open()

    def for_tenant(self, tenant_id: str) -> AsyncMemory:
        """A view of this opened engine bound to ``tenant_id``: same pool, embedder, cache.

        Views are cheap (one per request is fine) and share every resource with this
        engine; closing a view does nothing, closing this engine ends them all.
        """
        if not self._opened:
            raise ConfigurationError("open the engine before taking a view of a tenant")
        tenant_id = require_scope_id(tenant_id, "tenant_id") or ""
        view = copy.copy(self)
        view.config = replace(self.config, tenant_id=tenant_id)
        view._is_view = True
        return view

    # -- settings, key-value store, working memory ----------------------------------------

    @property
    def settings(self) -> SettingsService:
        """Versioned settings per scope: active values, history of changes, rollback."""
        return SettingsService(self.kv)

    @property
    def kv(self) -> KeyValueService:
        """JSON values per scope and namespace, with versions, expiry and compression."""
        if not self._opened:
            return cast(KeyValueService, OpensOnUse(self, "kv"))
        return KeyValueService(self._kv_store, self.cache, self.config.kv, self.config.tenant_id)

    @property
    def working(self) -> WorkingMemoryService:
        """Namespaced scratch memory of a running task, and its reasoning chain."""
        if not self._opened:
            return cast(WorkingMemoryService, OpensOnUse(self, "working"))
        return WorkingMemoryService(
            self._working_store,
            self.cache,
            self.config.working,
            self.config.tenant_id,
            self._working_reads,
        )

    @property
    def entities(self) -> EntityService:
        """Entity memory: people, organisations, places and concepts, with relations."""
        if not self._opened:
            return cast(EntityService, OpensOnUse(self, "entities"))
        return EntityService(
            self._entity_store, self._entity_search, self._embeddings, self._entity_extractor,
            tenant_id=self.config.tenant_id, config=self.config.entities,
            search=self.config.search, limits=self.config.limits, observers=self.observers,
        )  # fmt: skip

    @property
    def documents(self) -> DocumentService:
        """Reference documents (manuals, API specs), chunked, embedded and searchable."""
        if not self._opened:
            return cast(DocumentService, OpensOnUse(self, "documents"))
        return DocumentService(
            self._document_store, self.db, self._shared_index, self._embeddings,
            tenant_id=self.config.tenant_id, config=self.config.documents,
            search=self.config.search, limits=self.config.limits, observers=self.observers,
        )  # fmt: skip

    # -- memories ------------------------------------------------------------------------

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
    ) -> AddResult:
        """Store ``content`` as one memory of ``user_id`` and return its id.

        ``content`` may also be conversation turns (``[{"role": "user", "content":
        ...}, ...]``, as ``add_messages`` takes them). With ``infer=True`` the text
        or turns are stored as conversation messages and extraction is queued, in
        one transaction; it returns at once with the turns' ids, and a worker
        distils and reconciles the memories. ``wait=True`` (or ``flush()``) waits
        for that; ``AddResult.extraction`` tells each turn's state. Without
        ``infer``, a text is one memory and each turn becomes a note.
        """
        if infer or not isinstance(content, str):
            fields = {"metadata": metadata, "created_at": created_at, "kind": kind,
                      "embedding": embedding}  # fmt: skip
            return await self._add_conversation(
                content, scope=self._scope(user_id, agent_id, session_id), infer=bool(infer),
                wait=bool(wait), memory_fields=fields,
            )  # fmt: skip
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
        return AddResult(ids=[r.id for r in records], memories=records)

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
        checked_kinds = _kinds(kinds)
        when = require_timestamp(as_of, "as_of")
        await self._ready()
        with self.observers.timed("search.total"):
            where = scope_fragment(scope, kinds=checked_kinds, filters=parsed_filters, as_of=when)
            return await self._search.search(scope, query, where, limit=limit, now=when)

    async def get(self, memory_id: str) -> MemoryRecord:
        """The memory with this id, or ``NotFound``."""
        memory_id = str(parse_id(memory_id, what="memory id"))
        await self._ready()
        return await self._store.get(self.config.tenant_id, memory_id)

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
        """A user's current memories, newest first, ``limit`` at a time from ``offset``."""
        scope = self._scope(user_id, agent_id, session_id)
        limit = require_limit(limit, maximum=MAX_LIST_LIMIT)
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidInput(f"offset must be a non-negative integer, got {offset!r:.40}")
        where = scope_fragment(scope, kinds=_kinds(kinds), filters=parse_filters(filters))
        await self._ready()
        return await self._store.list_page(where, limit=limit, offset=offset)

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
    ) -> MemoryRecord:
        """Change a memory (a new content is re-embedded); the old version stays in its history."""
        await self._ready()
        return await self._memories.update(
            self.config.tenant_id,
            memory_id,
            content=content,
            metadata=metadata,
            kind=kind,
            confidence=confidence,
            importance=importance,
            pinned=pinned,
        )

    async def delete(self, memory_id: str) -> None:
        """Delete a memory; its history keeps what it was."""
        memory_id = str(parse_id(memory_id, what="memory id"))
        await self._ready()
        await self._store.delete(self.config.tenant_id, memory_id)

    async def history(self, memory_id: str) -> builtins.list[MemoryEvent]:
        """Every change of a memory, oldest first."""
        memory_id = str(parse_id(memory_id, what="memory id"))
        await self._ready()
        events = await self._store.history(self.config.tenant_id, memory_id)
        if not events:
            raise NotFound(f"no memory with id {memory_id}")
        return events

    async def delete_user(self, user_id: str) -> dict[str, int]:
        """Erase everything stored about a user; the number of rows removed per table."""
        user_id = require_scope_id(user_id, "user_id") or ""
        await self._ready()
        self._writer.forget_user(self.config.tenant_id, user_id)
        counts = await self._store.delete_user(self.config.tenant_id, user_id)
        counts["cache"] = await self.cache.delete_prefix(
            cache_namespace(self.config.tenant_id, user_id)
        )
        return counts

    async def stats(self, user_id: str) -> dict[str, Any]:
        """A user's rows per table and a summary of their memories (counts, kinds, dates)."""
        scope = self._scope(user_id, None, None)
        await self._ready()
        return await self._user_data.stats(scope)

    async def export_user(self, user_id: str) -> AsyncIterator[dict[str, Any]]:
        """Everything stored about a user, as the lines of a JSON Lines export (header first)."""
        scope = self._scope(user_id, None, None)
        await self._ready()
        async for line in self._user_data.export(scope):
            yield line

    async def import_user(
        self, user_id: str, lines: Iterable[Mapping[str, Any]]
    ) -> dict[str, dict[str, int]]:
        """Store an export's lines for ``user_id``; rows ``imported`` and ``skipped`` by table."""
        scope = self._scope(user_id, None, None)
        await self._ready()
        return await self._user_data.import_lines(scope, lines)

    async def reembed(self, *, batch_size: int = 64, progress: Progress | None = None) -> int:
        """Re-embed every stored row with this instance's embedder; the count rewritten.

        Open the store with the new embedder through ``AsyncMemory.for_reembedding``;
        other processes keep reading and writing while this runs.
        """
        await self._ready()
        return await reembed_store(
            ReembedStore(self.db),
            MetaStore(self.db),
            self.embedder,
            batch_size=batch_size,
            progress=progress,
        )

    @classmethod
    def for_reembedding(cls, config: MnemoConfig | None = None, **overrides: Any) -> AsyncMemory:
        """An instance allowed to open a store embedded by another model, to re-embed it."""
        memory = cls(config, **overrides)
        memory._allow_model_change = True
        return memory

    async def flush(self) -> None:
        """Write buffered access statistics and cache entries now, and wait for every
        extraction this engine queued, and any queued before it in the same tenant
        (``WaitTimeout`` after ``wait_timeout_seconds``)."""
        await self._ready()
        await self._writer.flush()
        await flush_reads(self._working_store, self._working_reads)
        await self._flush_jobs()

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

    def _scope(self, user_id: object, agent_id: object, session_id: object) -> Scope:
        return Scope(
            tenant_id=self.config.tenant_id,
            user_id=require_scope_id(user_id, "user_id") or "",
            agent_id=require_scope_id(agent_id, "agent_id", required=False),
            session_id=require_scope_id(session_id, "session_id", required=False),
        )


async def _no_hits() -> builtins.list[Any]:
    return []


def _kinds(kinds: Sequence[str] | None) -> builtins.list[str] | None:
    if kinds is None:
        return None
    if isinstance(kinds, str):
        kinds = [kinds]
    unknown = [k for k in kinds if k not in MEMORY_KINDS]
    if unknown:
        raise InvalidInput(f"unknown kinds {unknown!r}; known: {list(MEMORY_KINDS)}")
    return list(kinds)


def _resolve_embedder(config: MnemoConfig) -> Embedder:
    if isinstance(config.embedder, Embedder):
        return config.embedder
    if not isinstance(config.embedder, str):
        raise ConfigurationError("embedder must be an Embedder or a registry name")
    from mnemo.providers.embedders.registry import load_embedder

    return load_embedder(config.embedder, **config.embedder_options)


def _resolve_llm(config: MnemoConfig) -> LLM | None:
    """The configured LLM, or ``None``: extraction and summaries then run offline."""
    if config.llm is None:
        return None
    from mnemo.providers.llms.registry import load_llm

    return load_llm(config.llm, **config.llm_options)
