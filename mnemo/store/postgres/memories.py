"""The memories table: insert, read, change, delete, access statistics.

Search runs the shared candidate query (``search.py``) on ``MEMORY_TABLE``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from mnemo.core.records import MemoryChanges, MemoryEvent, MemoryRecord, NewMemory, Scope
from mnemo.errors import NotFound
from mnemo.store.postgres.database import Database
from mnemo.store.postgres.filters import Fragment
from mnemo.store.postgres.queries import query
from mnemo.store.postgres.search import SearchableTable

RECORD_COLUMNS = (
    "id",
    "user_id",
    "agent_id",
    "session_id",
    "kind",
    "content",
    "metadata",
    "created_at",
    "updated_at",
    "confidence",
    "importance",
    "access_count",
    "last_accessed_at",
    "status",
    "valid_from",
    "valid_to",
    "superseded_by",
    "source_message_ids",
    "embedding_model",
    "pinned",
    "decay_score",
)
#: How often and when a search returned the memory ``m`` (revision 0009 keeps them apart in
#: ``memory_access``): a join on the whole key, distribution column included, so Citus runs
#: it on the memory's shard, over a table's rows and a CTE's alike (it refuses a correlated
#: sub-query over a CTE's rows or beside a set-returning function).
ACCESS_JOIN = sql.SQL(
    "LEFT JOIN memory_access a"
    " ON a.tenant_id = m.tenant_id AND a.user_id = m.user_id AND a.memory_id = m.id"
)
_ACCESS_COLUMNS = {
    "access_count": sql.SQL("coalesce(a.access_count, 0) AS access_count"),
    "last_accessed_at": sql.SQL("a.last_accessed_at"),
}
#: ``RECORD_COLUMNS`` of the memory ``m`` joined by ``ACCESS_JOIN``, for a SELECT list.
RECORD_SELECT = sql.SQL(", ").join(
    _ACCESS_COLUMNS.get(c, sql.SQL("m.{}").format(sql.Identifier(c))) for c in RECORD_COLUMNS
)
_COLUMNS = RECORD_SELECT
#: ``RECORD_COLUMNS`` of a memory that has no access statistics: just inserted, or
#: removed (its ``memory_access`` row went with it); no join needed.
FRESH_SELECT = sql.SQL(", ").join(
    sql.SQL("0 AS access_count")
    if c == "access_count"
    else sql.SQL("NULL::timestamptz AS last_accessed_at")
    if c == "last_accessed_at"
    else sql.SQL("m.{}").format(sql.Identifier(c))
    for c in RECORD_COLUMNS
)


@dataclass(frozen=True, slots=True)
class AccessHit:
    user_id: str
    memory_id: str
    hits: int
    at: datetime


class MemoryStore:
    """SQL on ``memories`` and ``memory_events``; one method, one statement."""

    def __init__(self, db: Database, *, ts_config: str) -> None:
        self._db = db
        self._ts_config = ts_config

    async def insert(
        self,
        scope: Scope,
        memories: Sequence[NewMemory],
        *,
        model: str | None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> list[MemoryRecord]:
        """Insert memories of one user with their ``add`` events, atomically, in input order."""
        params = {
            "tenant": scope.tenant_id,
            "user": scope.user_id,
            "ts_config": self._ts_config,
            "model": model,
            "actor": actor,
            "reason": reason,
            **_columns_of(memories),
        }
        rows = await self._db.fetch(
            _formatted("insert_memories", fresh=True), params, tenant_id=scope.tenant_id
        )
        await self._db.statistics.wrote("memories", len(rows))
        by_id = {row.id: row for row in map(record_from_row, rows)}
        return [by_id[m.id] for m in memories]

    async def get(
        self, tenant_id: str, memory_id: str, *, user_id: str | None = None
    ) -> MemoryRecord:
        params = {"tenant": tenant_id, "id": memory_id, "user": user_id}
        statement = _formatted("get_memory", owner=user_id)
        rows = await self._db.fetch(statement, params, tenant_id=tenant_id)
        if not rows:
            raise NotFound(f"no memory with id {memory_id}")
        return record_from_row(rows[0])

    async def list_page(
        self, where: Fragment, *, limit: int, offset: int = 0
    ) -> list[MemoryRecord]:
        params = {**where.params, "limit": limit, "offset": offset}
        rows = await self._db.fetch(
            _formatted("list_memories", where), params, tenant_id=where.params["tenant"]
        )
        return [record_from_row(row) for row in rows]

    async def count(self, where: Fragment) -> int:
        rows = await self._db.fetch(
            _formatted("count_memories", where), where.params, tenant_id=where.params["tenant"]
        )
        return int(rows[0]["count"])

    async def update(
        self,
        tenant_id: str,
        memory_id: str,
        changes: MemoryChanges,
        *,
        model: str | None,
        actor: str | None = None,
        reason: str | None = None,
        user_id: str | None = None,
    ) -> MemoryRecord:
        """Apply ``changes`` and record an ``update`` event with before and after.

        Citus runs a row-locking read on one shard only, so there an update by id alone
        first finds the memory's user (one read of every shard).
        """
        if user_id is None and await self._db.distributed():
            user_id = await self._owner(tenant_id, memory_id)
        params = {
            "tenant": tenant_id,
            "id": memory_id,
            "user": user_id,
            "ts_config": self._ts_config,
            "model": model,
            "actor": actor,
            "reason": reason,
            "content": changes.content,
            "embedding": changes.embedding,
            "kind": changes.kind,
            "metadata": Jsonb(changes.metadata) if changes.metadata is not None else None,
            "confidence": changes.confidence,
            "importance": changes.importance,
            "pinned": changes.pinned,
        }
        statement = _formatted("update_memory", owner=user_id)
        rows = await self._db.fetch(statement, params, tenant_id=tenant_id)
        if not rows:
            raise NotFound(f"no memory with id {memory_id}")
        return record_from_row(rows[0])

    async def delete(
        self,
        tenant_id: str,
        memory_id: str,
        *,
        actor: str | None = None,
        reason: str | None = None,
        user_id: str | None = None,
    ) -> None:
        params = {
            "tenant": tenant_id, "id": memory_id, "actor": actor, "reason": reason,
            "user": user_id,
        }  # fmt: skip
        statement = _formatted("delete_memory", owner=user_id)
        if not await self._db.fetch(statement, params, tenant_id=tenant_id):
            raise NotFound(f"no memory with id {memory_id}")

    async def history(
        self, tenant_id: str, memory_id: str, *, user_id: str | None = None
    ) -> list[MemoryEvent]:
        params = {"tenant": tenant_id, "id": memory_id, "user": user_id}
        statement = _formatted("history", owner=user_id)
        rows = await self._db.fetch(statement, params, tenant_id=tenant_id)
        return [event_from_row(row) for row in rows]

    async def _owner(self, tenant_id: str, memory_id: str) -> str:
        """The user a memory belongs to, or ``NotFound``."""
        params = {"tenant": tenant_id, "id": memory_id}
        rows = await self._db.fetch(
            query("memories", "owner_of_memory"), params, tenant_id=tenant_id
        )
        if not rows:
            raise NotFound(f"no memory with id {memory_id}")
        return str(rows[0]["user_id"])

    async def record_access(self, tenant_id: str, hits: Sequence[AccessHit]) -> None:
        """Add access counts and last-access times, in one statement."""
        params = {
            "tenant": tenant_id,
            "users": [h.user_id for h in hits],
            "ids": [h.memory_id for h in hits],
            "hits": [h.hits for h in hits],
            "ats": [h.at for h in hits],
        }
        await self._db.execute(query("memories", "record_access"), params, tenant_id=tenant_id)

    async def delete_user(self, tenant_id: str, user_id: str) -> dict[str, int]:
        """Delete every row of the user in every user-scoped table; counts by table."""
        counts: dict[str, int] = {}
        async with self._db.transaction(tenant_id) as conn:
            cursor = await conn.execute(query("memories", "user_scoped_tables"))
            tables = [row[0] for row in await cursor.fetchall()]
            for table in tables:
                statement = sql.SQL(
                    "DELETE FROM {} WHERE tenant_id = %(tenant)s AND user_id = %(user)s"
                ).format(sql.Identifier(table))
                result = await conn.execute(statement, {"tenant": tenant_id, "user": user_id})
                counts[table] = result.rowcount
        return counts


def record_from_row(row: dict[str, Any]) -> MemoryRecord:
    """A ``MemoryRecord`` from a row holding ``RECORD_COLUMNS``."""
    values = {name: row[name] for name in RECORD_COLUMNS}
    values["id"] = str(values["id"])
    values["superseded_by"] = str(row["superseded_by"]) if row["superseded_by"] else None
    values["source_message_ids"] = [str(s) for s in row["source_message_ids"] or []]
    return MemoryRecord(**values)


#: Memories as the shared hybrid search sees them: their own ranking signals, and
#: neighbours in the order they were stored.
MEMORY_TABLE = SearchableTable(
    name="memories",
    columns=RECORD_COLUMNS,
    record=record_from_row,
    select_list=RECORD_SELECT,
    joins=ACCESS_JOIN,
    signals=sql.SQL("m.confidence, m.importance, {}").format(_ACCESS_COLUMNS["access_count"]),
)


def event_from_row(row: dict[str, Any]) -> MemoryEvent:
    return MemoryEvent(
        id=str(row["id"]),
        memory_id=str(row["memory_id"]),
        event=row["event"],
        before=row["before"],
        after=row["after"],
        reason=row["reason"],
        actor=row["actor"],
        created_at=row["created_at"],
    )


_OWNER = sql.SQL("AND user_id = %(user)s")
_OWNER_M = sql.SQL("AND m.user_id = %(user)s")
_OWNER_A = sql.SQL("AND a.user_id = %(user)s")


def _formatted(
    name: str, where: Fragment | None = None, *, owner: str | None = None, fresh: bool = False
) -> sql.Composed:
    """Query ``name`` with its columns, its ``where`` fragment, and its user condition when
    the ``owner`` is known (a lookup by id then runs on one shard of a Citus cluster)."""
    where_sql = where.sql if where is not None else sql.SQL("true")
    known = owner is not None
    return query("memories", name).format(
        columns=FRESH_SELECT if fresh else _COLUMNS,
        access=ACCESS_JOIN,
        where=where_sql,
        owner=_OWNER if known else sql.SQL(""),
        owner_m=_OWNER_M if known else sql.SQL(""),
        owner_a=_OWNER_A if known else sql.SQL(""),
    )


def _columns_of(memories: Sequence[NewMemory]) -> dict[str, list[Any]]:
    return {
        "ids": [m.id for m in memories],
        "agent_ids": [m.agent_id for m in memories],
        "session_ids": [m.session_id for m in memories],
        "kinds": [m.kind for m in memories],
        "contents": [m.content for m in memories],
        "embeddings": [m.embedding for m in memories],
        "metadatas": [Jsonb(m.metadata) for m in memories],
        "created_ats": [m.created_at for m in memories],
        "confidences": [m.confidence for m in memories],
        "importances": [m.importance for m in memories],
        "sources": [Jsonb(m.source_message_ids) for m in memories],
    }
