"""One user's data across every user-scoped table: row counts, statistics, export."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from psycopg import sql
from psycopg.rows import dict_row

from mnemo.store.postgres.database import Database
from mnemo.store.postgres.queries import query

EXPORT_BATCH = 500
#: Tables holding only derived data (recomputed on import), left out of exports.
DERIVED_TABLES = frozenset({"embedding_cache"})


class UserDataStore:
    """Reads that span a user's tables; every statement is bound to the tenant and user."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def tables(self, tenant_id: str) -> list[str]:
        """The tables that hold per-user rows (they have ``tenant_id`` and ``user_id``)."""
        rows = await self._db.fetch(query("user_data", "user_tables"), tenant_id=tenant_id)
        return [row["table_name"] for row in rows]

    async def row_counts(self, tenant_id: str, user_id: str) -> dict[str, int]:
        """The user's number of rows in each user-scoped table."""
        params = {"tenant": tenant_id, "user": user_id}
        counts: dict[str, int] = {}
        async with self._db.connection(tenant_id) as conn:
            for table in await self.tables(tenant_id):
                cursor = await conn.execute(_with_table("count_rows", table), params)
                row = await cursor.fetchone()
                counts[table] = int(row[0]) if row else 0
        return counts

    async def memory_summary(self, tenant_id: str, user_id: str) -> dict[str, Any]:
        """Counts, access totals and dates of the user's memories, and active ones by kind."""
        params = {"tenant": tenant_id, "user": user_id}
        summary = await self._db.fetch(
            query("user_data", "memory_summary"), params, tenant_id=tenant_id
        )
        kinds = await self._db.fetch(
            query("user_data", "memory_kinds"), params, tenant_id=tenant_id
        )
        return {**summary[0], "by_kind": {row["kind"]: row["count"] for row in kinds}}

    async def export_rows(self, tenant_id: str, user_id: str) -> AsyncIterator[tuple[str, Any]]:
        """``(table, row)`` for every row of the user, table by table, oldest first."""
        params = {"tenant": tenant_id, "user": user_id}
        tables = [t for t in await self.tables(tenant_id) if t not in DERIVED_TABLES]
        async with self._db.transaction(tenant_id) as conn:
            for table in tables:
                statement = _with_table("export_rows", table)
                async with conn.cursor(row_factory=dict_row) as cursor:
                    async for row in cursor.stream(statement, params, size=EXPORT_BATCH):
                        yield table, row["row"]


def _with_table(name: str, table: str) -> sql.Composed:
    return query("user_data", name).format(table=sql.Identifier(table))
