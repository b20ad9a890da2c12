"""The memory kinds as attributes of the engine: ``settings``, ``kv``, ``working``,
``entities``, ``documents``, ``records`` (the Memorizz-style collections), and
``inspect`` (read views for browsing them all).

Each property builds the kind's service on the engine's wired stores (cheap: no
I/O); before the engine is open it hands out an ``OpensOnUse`` stand-in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from mnemo._lazy import OpensOnUse
from mnemo.engine.base import EngineBase
from mnemo.kinds.documents import DocumentService
from mnemo.kinds.entities import EntityService
from mnemo.kinds.inspection import InspectionService
from mnemo.kinds.kv import KeyValueService
from mnemo.kinds.records import RecordService
from mnemo.kinds.settings import SettingsService
from mnemo.kinds.working import WorkingMemoryService
from mnemo.store.postgres.inspection import InspectionStore

if TYPE_CHECKING:
    from mnemo.store.postgres.extractions import ExtractionStore


class KindViews(EngineBase):
    """Settings, the key-value store, working memory, entities and reference documents."""

    _extractions: ExtractionStore
    _records: RecordService

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

    @property
    def records(self) -> RecordService:
        """Memorizz-style typed collections (personas, toolbox, memories, agents): JSON
        documents with typed lookups, hybrid text search and the caller's own vectors."""
        if not self._opened:
            return cast(RecordService, OpensOnUse(self, "records"))
        return self._records

    @property
    def inspect(self) -> InspectionService:
        """Read views for browsing: users, memories in any state, provenance, sessions,
        the extraction queue (what the inspector at ``/ui`` shows)."""
        if not self._opened:
            return cast(InspectionService, OpensOnUse(self, "inspect"))
        return InspectionService(
            InspectionStore(self.db), self._store, self._messages.store, self._extractions,
            tenant_id=self.config.tenant_id,
        )  # fmt: skip
