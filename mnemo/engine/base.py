"""What every method group of ``AsyncMemory`` stands on: opening, wiring, scopes, views.

``EngineBase`` starts or connects to PostgreSQL, migrates, loads the embedder and
LLM, builds the stores and services the method groups call (``memories``,
``conversations``, ``lifecycle``, ...), and closes them again. Groups that wire
services of their own (conversations, lifecycle) supply the hooks declared here.
"""

from __future__ import annotations

import asyncio
import copy
from abc import ABC, abstractmethod
from contextlib import AsyncExitStack
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from mnemo.config import MnemoConfig
from mnemo.core.observe import Observers
from mnemo.core.records import Scope
from mnemo.core.validation import require_scope_id
from mnemo.errors import ConfigurationError
from mnemo.kinds.kv import KeyValueService
from mnemo.kinds.memories import MemoryService
from mnemo.kinds.records import RecordService
from mnemo.kinds.user_data import UserDataService
from mnemo.kinds.working import AccessLog, flush_reads_on_close
from mnemo.providers.embedders.base import Embedder
from mnemo.providers.llms.base import LLM
from mnemo.retrieval.background import BackgroundWriter
from mnemo.retrieval.embedding import EmbeddingService
from mnemo.retrieval.model_guard import check_embedding_model
from mnemo.retrieval.scope_routes import ScopeRouter
from mnemo.retrieval.search import HybridSearch, memory_hit
from mnemo.store.cache import open_cache
from mnemo.store.postgres.database import Database
from mnemo.store.postgres.documents import DocumentStore
from mnemo.store.postgres.embedding_cache import EmbeddingCacheStore
from mnemo.store.postgres.entities import EntityStore
from mnemo.store.postgres.entity_rows import EntitySearchStore
from mnemo.store.postgres.kv import KeyValueStore
from mnemo.store.postgres.memories import MEMORY_TABLE, MemoryStore
from mnemo.store.postgres.meta import MetaStore
from mnemo.store.postgres.migrate import migrate
from mnemo.store.postgres.pool import Pool, open_pool
from mnemo.store.postgres.records import RecordIndex, RecordStore
from mnemo.store.postgres.replicas import ReplicaSet, on_primary
from mnemo.store.postgres.scope_indexes import ScopeIndexStore
from mnemo.store.postgres.search import SearchStore
from mnemo.store.postgres.server import embedded_database_url
from mnemo.store.postgres.user_data import UserDataStore
from mnemo.store.postgres.working import WorkingStore

if TYPE_CHECKING:
    from mnemo.kinds.messages import MessageService
    from mnemo.store.cache import Cache


class EngineBase(ABC):
    """The engine's resources and wiring; ``AsyncMemory`` adds the method groups."""

    cache: Cache
    _messages: MessageService

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

    # -- hooks of the method groups that wire services of their own ------------------------

    @abstractmethod
    def _wire_conversations(self, db: Database) -> None:
        """Build the message store, its search and service (``ConversationMethods``)."""

    @abstractmethod
    def _wire_lifecycle(self, db: Database) -> None:
        """Build the extraction ledger, queue and upkeep services (``LifecycleMethods``)."""

    @abstractmethod
    async def _request_scope_index(self, scope: Scope, table: str) -> None:
        """Ask for a large scope's vector index to be built (``LifecycleMethods``)."""

    @abstractmethod
    async def _start_worker(self, resources: AsyncExitStack) -> None:
        """Start the in-process worker if configured (``LifecycleMethods``)."""

    # -- lifecycle -----------------------------------------------------------------------

    async def open(self) -> Self:
        """Start or connect to PostgreSQL, migrate the schema, load the embedder."""
        if self._open_lock is None:
            self._open_lock = asyncio.Lock()
        async with self._open_lock:
            if not self._opened:
                with on_primary():  # what opening starts (writer, worker) never reads a standby
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
        if config.read_database_urls and database_url is None:
            raise ConfigurationError(
                "read_database_urls are standbys of database_url: the embedded server has none"
            )
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
            replicas = await self._open_replicas(resources)
            self.db = Database(
                self._pool, tenant_guard=config.database_role is not None, replicas=replicas
            )
            self.cache = open_cache(config.redis_url, **config.cache_options)
            resources.push_async_callback(self.cache.aclose)
            self._wire(self.db)
            await check_embedding_model(
                MetaStore(self.db), self.embedder, allow_change=self._allow_model_change
            )
            self._writer.start()
            await self._start_worker(resources)
            self._resources = resources.pop_all()

    async def _open_replicas(self, resources: AsyncExitStack) -> ReplicaSet | None:
        config = self.config
        if not config.read_database_urls:
            return None
        replicas = await ReplicaSet.open(
            config.read_database_urls,
            self._pool,
            max_size=config.pool_max_size,
            role=config.database_role,
            max_lag_ms=config.read_max_lag_ms,
            check_seconds=config.read_check_seconds,
        )
        resources.push_async_callback(replicas.aclose)
        return replicas

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
        self._scope_indexes = ScopeIndexStore(db)
        self._scope_routes = ScopeRouter(
            self._scope_indexes, config.search, request_index=self._request_scope_index
        )
        self._search = HybridSearch(
            MEMORY_TABLE,
            memory_hit,
            self._searches,
            self._embeddings,
            config.search,
            self.observers,
            on_hits=self._writer.record_hits,
            routes=self._scope_routes,
            context=config.search.context,
        )
        self._wire_reference(db)
        self._records = RecordService(
            self._record_store, self._record_index, self._searches, self._embeddings,
            config=config.records, search=config.search, observers=self.observers,
        )  # fmt: skip
        self._wire_conversations(db)
        self._wire_lifecycle(db)
        self._user_data = UserDataService(
            UserDataStore(db),
            self._memories,
            self._messages,
            lambda tenant_id: KeyValueService(self._kv_store, self.cache, config.kv, tenant_id),
            self._records,
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
        self._record_store = RecordStore(db, ts_config=ts_config)
        self._record_index = RecordIndex(db, min_rows=self.config.records.hnsw_min_rows)
        self._shared_index = SharedChunkIndex(
            db, min_chunks=self.config.documents.hnsw_min_shared_chunks, ts_config=ts_config
        )

    async def _ready(self) -> None:
        if not self._opened:
            await self.open()

    def for_tenant(self, tenant_id: str) -> Self:
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

    @classmethod
    def for_reembedding(cls, config: MnemoConfig | None = None, **overrides: Any) -> Self:
        """An instance allowed to open a store embedded by another model, to re-embed it."""
        memory = cls(config, **overrides)
        memory._allow_model_change = True
        return memory

    # -- scopes ----------------------------------------------------------------------------

    def scope(
        self, user_id: str, *, agent_id: str | None = None, session_id: str | None = None
    ) -> Scope:
        """A checked ``Scope`` of this engine's tenant, for the kind services."""
        return self._scope(user_id, agent_id, session_id)

    def _scope(self, user_id: object, agent_id: object, session_id: object) -> Scope:
        return Scope(
            tenant_id=self.config.tenant_id,
            user_id=require_scope_id(user_id, "user_id") or "",
            agent_id=require_scope_id(agent_id, "agent_id", required=False),
            session_id=require_scope_id(session_id, "session_id", required=False),
        )


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
