"""Records: the Memorizz-style typed collections (personas, toolbox, memories, agents).

A record is a caller's document (a dict) in a collection (``memory_type``) of a
scope. ``put`` updates the record named by the document's ``id``, else the one
of the same ``name`` in the collection, else inserts one. Unknown keys are kept
as given. The descriptive text of a record (``record_documents.TEXT_KEYS``) is
embedded with mnemo's model for hybrid text search; a caller's ``embedding`` is
stored as given (one dimension per collection) for vector search.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np

from mnemo.config import RecordConfig, SearchConfig
from mnemo.core.observe import Observers
from mnemo.core.record_documents import (
    RecordParts,
    document_from_row,
    merged,
    require_memory_type,
    require_record_id,
    require_vector,
    split_document,
)
from mnemo.core.records import Scope
from mnemo.core.scoring import Scored
from mnemo.errors import Conflict, InvalidFilter, InvalidInput
from mnemo.retrieval.embedding import EmbeddingService
from mnemo.retrieval.search import HybridSearch
from mnemo.store.postgres.records import (
    FILTER_COLUMNS,
    RECORD_TABLE,
    RecordIndex,
    RecordRow,
    RecordStore,
    StoredRecord,
    collection_fragment,
)
from mnemo.store.postgres.search import SearchStore

Document = dict[str, Any]
#: Most records one read returns.
MAX_LIMIT = 10_000


def record_hit(record: StoredRecord, scored: Scored) -> Document:
    """A text-search hit: the document plus its ``score`` and score breakdown."""
    return {**document_from_row(record.row), "score": scored.score, "scores": scored.scores}


class RecordService:
    """Store, find, change and delete the records of a scope's collections."""

    def __init__(
        self,
        store: RecordStore,
        index: RecordIndex,
        searches: SearchStore,
        embeddings: EmbeddingService,
        *,
        config: RecordConfig,
        search: SearchConfig,
        observers: Observers,
    ) -> None:
        self._store = store
        self._index = index
        self._embeddings = embeddings
        self._config = config
        self._search = HybridSearch(
            RECORD_TABLE, record_hit, searches, embeddings, search, observers, metric="records"
        )

    async def put(self, scope: Scope, memory_type: object, document: object) -> str:
        """Store ``document``; the record's id. Updates the record of the document's
        ``id`` (or ``_id``), else the one of its ``name``, else inserts a new one."""
        collection = require_memory_type(memory_type)
        parts = split_document(document, max_bytes=self._config.max_bytes)
        changes = cast(Mapping[str, Any], document)  # split_document checked it
        by_name = parts.id is None and parts.typed["name"] is not None
        for _ in range(2):  # a concurrent writer may insert the same id or name first
            existing = await self._existing(scope, collection, parts)
            if existing is not None:
                if await self._rewrite(scope, collection, existing, changes):
                    return str(existing["id"])
                continue  # deleted meanwhile
            record_id = parts.id or str(uuid.uuid4())
            inserted = await self._write(
                scope, collection, record_id, parts, insert=True, by_name=by_name
            )
            if inserted:
                return record_id
        raise Conflict("the record changed concurrently twice; try again")

    def check(self, memory_type: object, document: object) -> None:
        """Raise ``InvalidInput`` if ``put`` would refuse this document (nothing stored)."""
        require_memory_type(memory_type)
        split_document(document, max_bytes=self._config.max_bytes)

    async def get(self, scope: Scope, memory_type: object, record_id: object) -> Document | None:
        row = await self._store.get(
            scope, require_memory_type(memory_type), require_record_id(record_id)
        )
        return document_from_row(row) if row else None

    async def get_by_name(self, scope: Scope, memory_type: object, name: object) -> Document | None:
        row = await self._store.get_by_name(scope, require_memory_type(memory_type), _name(name))
        return document_from_row(row) if row else None

    async def update(
        self, scope: Scope, memory_type: object, record_id: object, changes: object
    ) -> bool:
        """Lay ``changes`` over the stored record (top-level keys replaced); whether it
        existed."""
        collection = require_memory_type(memory_type)
        if not isinstance(changes, Mapping):
            raise InvalidInput(f"changes must be a dict, got {type(changes).__name__}")
        row = await self._store.get(scope, collection, require_record_id(record_id))
        if row is None:
            return False
        return await self._rewrite(scope, collection, row, changes)

    async def list(
        self,
        scope: Scope,
        memory_type: object,
        filters: Mapping[str, Any] | None = None,
        *,
        limit: int = MAX_LIMIT,
    ) -> builtins.list[Document]:
        """The collection's records, oldest first, narrowed by equality ``filters``."""
        rows = await self._store.list_rows(
            scope, require_memory_type(memory_type), _filters(filters), limit=_limit(limit)
        )
        return [document_from_row(row) for row in rows]

    async def nearest(
        self,
        scope: Scope,
        memory_type: object,
        vector: object,
        filters: Mapping[str, Any] | None = None,
        *,
        limit: int,
    ) -> builtins.list[Document]:
        """The records nearest to the caller's ``vector`` (cosine), each with ``distance``."""
        collection = require_memory_type(memory_type)
        query_vector = require_vector(vector)
        assert query_vector is not None
        rows = await self._store.nearest(
            scope, collection, _filters(filters), _as_array(query_vector), limit=_limit(limit)
        )
        return [{**document_from_row(row), "distance": float(row["distance"])} for row in rows]

    async def search(
        self,
        scope: Scope,
        memory_type: object,
        text: str,
        filters: Mapping[str, Any] | None = None,
        *,
        limit: int,
    ) -> builtins.list[Document]:
        """The records most relevant to ``text`` (mnemo's hybrid search), best first."""
        collection = require_memory_type(memory_type)
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput("a text query must be a non-empty string")
        where = collection_fragment(scope, collection, _filters(filters))
        return await self._search.search(scope, text, where, limit=_limit(limit))

    async def conversation(
        self, scope: Scope, memory_type: object, memory_id: object, *, limit: int = MAX_LIMIT
    ) -> builtins.list[Document]:
        """A conversation's records (same ``memory_id``) in the order they happened."""
        rows = await self._store.conversation(
            scope, require_memory_type(memory_type), _name(memory_id, "memory_id"),
            limit=_limit(limit),
        )  # fmt: skip
        return [document_from_row(row) for row in rows]

    async def delete(self, scope: Scope, memory_type: object, record_id: object) -> bool:
        collection = require_memory_type(memory_type)
        return await self._store.delete(scope, collection, require_record_id(record_id)) > 0

    async def delete_by_name(self, scope: Scope, memory_type: object, name: object) -> bool:
        collection = require_memory_type(memory_type)
        return await self._store.delete_by_name(scope, collection, _name(name)) > 0

    async def delete_all(self, scope: Scope, memory_type: object) -> int:
        """Delete every record of a collection; how many there were."""
        return await self._store.delete_collection(scope, require_memory_type(memory_type))

    async def delete_memories(
        self, scope: Scope, memory_ids: Sequence[object], *, keep: object
    ) -> int:
        """Delete the records of these ``memory_id``s in every collection but ``keep``."""
        ids = [_name(m, "memory_id") for m in memory_ids]
        return await self._store.delete_memories(scope, ids, agents_type=require_memory_type(keep))

    async def build_index(self, dimension: int) -> None:
        """Build the HNSW index of caller vectors of ``dimension`` now."""
        await self._index.build(dimension)

    async def _existing(
        self, scope: Scope, collection: str, parts: RecordParts
    ) -> Mapping[str, Any] | None:
        """The stored record ``put`` updates: the one of the id, else of the name."""
        if parts.id is not None:
            return await self._store.get(scope, collection, parts.id)
        if parts.typed["name"] is not None:
            return await self._store.get_by_name(scope, collection, parts.typed["name"])
        return None

    async def _rewrite(
        self, scope: Scope, collection: str, row: Mapping[str, Any], changes: Mapping[str, Any]
    ) -> bool:
        """Write the stored record with ``changes`` laid over it; whether it still existed."""
        document = merged(document_from_row(row), changes)
        document["id"] = str(row["id"])
        document.pop("_id", None)
        parts = split_document(document, max_bytes=self._config.max_bytes)
        return await self._write(scope, collection, str(row["id"]), parts, insert=False)

    async def _write(
        self,
        scope: Scope,
        collection: str,
        record_id: str,
        parts: RecordParts,
        *,
        insert: bool,
        by_name: bool = False,
    ) -> bool:
        embedding = None
        if parts.text:
            embedding = (await self._embeddings.embed_passages([parts.text]))[0]
        vector = _as_array(parts.vector) if parts.vector is not None else None
        row = RecordRow(
            id=record_id, memory_type=collection, typed=parts.typed,
            happened_at=parts.happened_at, data=parts.data, content=parts.text,
            embedding=embedding, caller_embedding=vector,
        )  # fmt: skip
        written = await self._store.write(
            scope, row, model=self._embeddings.model_id, insert=insert, by_name=by_name
        )
        if written and vector is not None:
            await self._index.ensure(scope.tenant_id, len(vector))
        return written


def _as_array(vector: builtins.list[float]) -> Any:
    return np.asarray(vector, dtype=np.float32)


def _limit(limit: object) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r}")
    return limit


def _name(value: object, what: str = "name") -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value or len(value) > 1_000 or "\x00" in value:
        raise InvalidInput(f"{what} must be a non-empty string, got {value!r}")
    return value


def _filters(filters: Mapping[str, Any] | None) -> dict[str, str]:
    """Equality filters on the allow-listed columns; anything else is ``InvalidFilter``."""
    checked: dict[str, str] = {}
    for key, value in (filters or {}).items():
        column = "id" if key == "_id" else key
        if column not in FILTER_COLUMNS:
            allowed = ", ".join(FILTER_COLUMNS)
            raise InvalidFilter(f"cannot filter records on {key!r}; filter keys: {allowed}")
        try:
            checked[column] = require_record_id(value) if column == "id" else _name(value, key)
        except InvalidInput as exc:
            raise InvalidFilter(str(exc)) from None
    return checked
