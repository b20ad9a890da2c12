"""The ``records`` table: the Memorizz-style typed collections, one table for all.

A collection is a scope plus a ``memory_type``. The columns the provider queries
are typed (``name``, ``memory_id``, ``agent_id``, ``conversation_id``, ``role``,
``happened_at``); the rest of a caller's document is ``data`` (jsonb). Writes to
one collection take turns (an advisory lock), so the check that every caller
vector of a collection has one dimension cannot race. Text search goes through
the shared hybrid candidate query (``RECORD_TABLE``); vector search orders by
cosine distance to the caller's vectors, through an HNSW index of that
dimension once ``RecordIndex`` has built one.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncCursor, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from mnemo.core.records import Scope
from mnemo.errors import DimensionMismatch, StoreUnavailable
from mnemo.store.postgres.database import Database
from mnemo.store.postgres.filters import Fragment
from mnemo.store.postgres.queries import query
from mnemo.store.postgres.search import SearchableTable

logger = logging.getLogger(__name__)

#: First key of the advisory locks taken on collections ("rc").
LOCK_CLASS = 0x7263
#: Columns a stored record is read from.
RECORD_COLUMNS = (
    "id",
    "memory_type",
    "name",
    "memory_id",
    "agent_id",
    "conversation_id",
    "role",
    "happened_at",
    "data",
    "caller_embedding",
    "created_at",
    "updated_at",
)
#: Typed columns a caller may filter on by equality (the allow-list).
FILTER_COLUMNS = ("id", "name", "memory_id", "agent_id", "conversation_id", "role")
#: pgvector's HNSW index takes vectors of at most this many dimensions.
HNSW_MAX_DIMENSION = 2000

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """One row of ``records`` as read: its id and columns."""

    id: str
    row: Row


@dataclass(frozen=True, slots=True)
class RecordRow:
    """Everything a write stores for one record."""

    id: str
    memory_type: str
    typed: dict[str, str | None]
    happened_at: datetime | None
    data: dict[str, Any]
    content: str
    embedding: Any
    caller_embedding: Any


def stored_record(row: Row) -> StoredRecord:
    return StoredRecord(id=str(row["id"]), row=row)


#: Records as the shared hybrid search sees them (neighbours: within a collection).
RECORD_TABLE = SearchableTable(
    name="records",
    columns=RECORD_COLUMNS,
    record=stored_record,
    neighbour_group=("memory_type",),
)


def collection_fragment(
    scope: Scope, memory_type: str, filters: dict[str, str] | None = None
) -> Fragment:
    """The WHERE condition selecting a collection's records, with equality filters on
    allow-listed columns (``FILTER_COLUMNS``; values travel as parameters)."""
    params: dict[str, Any] = {
        "tenant": scope.tenant_id,
        "user": scope.user_id,
        "memory_type": memory_type,
    }
    parts: list[sql.Composable] = [
        sql.SQL("m.tenant_id = %(tenant)s AND m.user_id = %(user)s"),
        sql.SQL("m.memory_type = %(memory_type)s"),
    ]
    for column, value in (filters or {}).items():
        if column not in FILTER_COLUMNS:
            raise ValueError(f"not a filter column: {column}")
        cast = sql.SQL("::uuid" if column == "id" else "")
        name = f"filter_{column}"
        parts.append(
            sql.SQL("m.{} = {}{}").format(sql.Identifier(column), sql.Placeholder(name), cast)
        )
        params[name] = value
    return Fragment(sql.SQL(" AND ").join(parts), params)


class RecordStore:
    """SQL on ``records``; every statement carries the tenant and the user."""

    def __init__(self, db: Database, *, ts_config: str) -> None:
        self._db = db
        self._ts_config = ts_config

    async def get(self, scope: Scope, memory_type: str, record_id: str) -> Row | None:
        params = {**_params(scope, memory_type), "id": record_id}
        rows = await self._db.fetch(_with_columns("get_by_id"), params, tenant_id=scope.tenant_id)
        return rows[0] if rows else None

    async def get_by_name(self, scope: Scope, memory_type: str, name: str) -> Row | None:
        params = {**_params(scope, memory_type), "name": name}
        rows = await self._db.fetch(_with_columns("get_by_name"), params, tenant_id=scope.tenant_id)
        return rows[0] if rows else None

    async def write(
        self, scope: Scope, record: RecordRow, *, model: str, insert: bool, by_name: bool = False
    ) -> bool:
        """Insert or rewrite one record; whether a row was written. An insert writes
        nothing if the id is taken or, ``by_name``, if the collection has a record of
        that name (writers of a collection take turns, so this check holds). Raises
        ``DimensionMismatch`` if its caller vector's dimension is not the collection's."""
        params = {
            **_params(scope, record.memory_type),
            **record.typed,
            "id": record.id,
            "happened_at": record.happened_at,
            "data": Jsonb(record.data),
            "content": record.content,
            "embedding": record.embedding,
            "model": model if record.embedding is not None else None,
            "caller_embedding": record.caller_embedding,
            "ts_config": self._ts_config,
            "by_name": by_name,
        }
        async with (
            self._db.transaction(scope.tenant_id) as conn,
            conn.cursor(row_factory=dict_row) as cur,
        ):
            await _lock_collection(cur, scope, record.memory_type)
            if record.caller_embedding is not None:
                await _check_dimension(cur, params, len(record.caller_embedding))
            statement = query("records", "insert_record" if insert else "update_record")
            await cur.execute(statement, params)
            return cur.rowcount > 0

    async def list_rows(
        self, scope: Scope, memory_type: str, filters: dict[str, str], *, limit: int
    ) -> builtins.list[Row]:
        where = collection_fragment(scope, memory_type, filters)
        statement = _with_columns("list_records", where=where.sql)
        return await self._db.fetch(
            statement, {**where.params, "limit": limit}, tenant_id=scope.tenant_id
        )

    async def nearest(
        self,
        scope: Scope,
        memory_type: str,
        filters: dict[str, str],
        vector: Any,
        *,
        limit: int,
    ) -> builtins.list[Row]:
        """The records nearest to ``vector`` by cosine distance, each with ``distance``.
        ``DimensionMismatch`` if the collection's vectors have another dimension."""
        where = collection_fragment(scope, memory_type, filters)
        params = {**where.params, "id": None}
        async with (
            self._db.transaction(scope.tenant_id) as conn,
            conn.cursor(row_factory=dict_row) as cur,
        ):
            await _check_dimension(cur, params, len(vector))
            statement = _with_columns(
                "nearest_records", where=where.sql, dim=sql.Literal(len(vector))
            )
            await cur.execute(statement, {**params, "query_vector": vector, "limit": limit})
            return await cur.fetchall()

    async def conversation(
        self, scope: Scope, memory_type: str, memory_id: str, *, limit: int
    ) -> builtins.list[Row]:
        params = {**_params(scope, memory_type), "memory_id": memory_id, "limit": limit}
        return await self._db.fetch(
            _with_columns("conversation_history"), params, tenant_id=scope.tenant_id
        )

    async def delete(self, scope: Scope, memory_type: str, record_id: str) -> int:
        params = {**_params(scope, memory_type), "id": record_id}
        return await self._db.execute(
            query("records", "delete_by_id"), params, tenant_id=scope.tenant_id
        )

    async def delete_by_name(self, scope: Scope, memory_type: str, name: str) -> int:
        params = {**_params(scope, memory_type), "name": name}
        return await self._db.execute(
            query("records", "delete_by_name"), params, tenant_id=scope.tenant_id
        )

    async def delete_collection(self, scope: Scope, memory_type: str) -> int:
        return await self._db.execute(
            query("records", "delete_collection"),
            _params(scope, memory_type),
            tenant_id=scope.tenant_id,
        )

    async def delete_memories(
        self, scope: Scope, memory_ids: Sequence[str], *, agents_type: str
    ) -> int:
        """Delete the records of these memory ids in every collection but ``agents_type``."""
        params = {
            **_params(scope, agents_type),
            "agents": agents_type,
            "memory_ids": list(memory_ids),
        }
        return await self._db.execute(
            query("records", "delete_by_memory_ids"), params, tenant_id=scope.tenant_id
        )


class RecordIndex:
    """Builds an HNSW index over the caller vectors of one dimension once the tenant
    holds ``min_rows`` of them (``CONCURRENTLY``, so writes and searches go on)."""

    def __init__(self, db: Database, *, min_rows: int) -> None:
        self._db = db
        self._min_rows = min_rows
        self._ready: set[int] = set()

    @staticmethod
    def name(dimension: int) -> str:
        return f"records_hnsw_{dimension}"

    async def ensure(self, tenant_id: str, dimension: int) -> bool:
        """Build the index if the collection grew enough; whether it exists now. Without
        the right to create indexes (the REST service's role) it logs and returns False."""
        if dimension in self._ready:
            return True
        if dimension > HNSW_MAX_DIMENSION:
            return False
        if await self._valid(dimension):
            self._ready.add(dimension)
            return True
        rows = await self._db.fetch(
            query("records", "dimension_count"),
            {"tenant": tenant_id, "dimension": dimension},
            tenant_id=tenant_id,
        )
        if int(rows[0]["n"]) < self._min_rows:
            return False
        try:
            await self.build(dimension)
        except StoreUnavailable as exc:
            logger.warning("could not build %s (%s); vector searches stay exact",
                           self.name(dimension), exc)  # fmt: skip
            return False
        return dimension in self._ready

    async def build(self, dimension: int) -> None:
        """Build the index of ``dimension`` now (an invalid one left by a failed build
        is dropped first)."""
        name = sql.Identifier(self.name(dimension))
        valid = await self._valid(dimension)
        if valid is False:
            await self._db.execute(query("documents", "drop_index").format(name=name))
        if not valid:
            statement = query("records", "create_hnsw").format(
                name=name, dim=sql.Literal(dimension)
            )
            await self._db.execute(statement)
        if await self._valid(dimension):
            self._ready.add(dimension)

    async def _valid(self, dimension: int) -> bool | None:
        """Whether the index is valid; ``None`` when there is none."""
        rows = await self._db.fetch(
            query("documents", "index_state"), {"name": self.name(dimension)}
        )
        return bool(rows[0]["valid"]) if rows else None


def _params(scope: Scope, memory_type: str) -> dict[str, Any]:
    return {"tenant": scope.tenant_id, "user": scope.user_id, "memory_type": memory_type}


def _with_columns(name: str, **parts: sql.Composable) -> sql.Composed:
    return query("records", name).format(columns=RECORD_TABLE.column_list, **parts)


async def _lock_collection(cur: AsyncCursor[Row], scope: Scope, memory_type: str) -> None:
    lock = "\x1f".join([scope.tenant_id, scope.user_id, memory_type])
    await cur.execute(query("records", "lock_collection"), {"lock_class": LOCK_CLASS, "lock": lock})


async def _check_dimension(cur: AsyncCursor[Row], params: Row, dimension: int) -> None:
    await cur.execute(query("records", "collection_dimension"), params)
    row = await cur.fetchone()
    if row is not None and row["dimension"] != dimension:
        raise DimensionMismatch(
            f"the {params['memory_type']} collection holds {row['dimension']}-dimensional "
            f"embeddings; got one of {dimension} dimensions"
        )
