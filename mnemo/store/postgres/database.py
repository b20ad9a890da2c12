"""The one way stores reach PostgreSQL: a pooled connection, errors translated.

Every store asks for ``connection(tenant_id)``. When the tenant guard is on
(the REST service turns it on), the connection first records the tenant in the
``mnemo.tenant_id`` setting, which row-level security policies check as a
second wall behind the ``tenant_id = ...`` conditions every query carries.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from mnemo.store.postgres.errors import wrapped_errors
from mnemo.store.postgres.pool import Pool

Connection = psycopg.AsyncConnection[Any]
Statement = str | sql.SQL | sql.Composed


class Database:
    """A pool plus the habits every query shares."""

    def __init__(self, pool: Pool, *, tenant_guard: bool = False) -> None:
        self.pool = pool
        self.tenant_guard = tenant_guard
        # The tenant each pooled connection is bound to, so a connection that serves the
        # same tenant again needs no extra round trip. The setting is made outside any
        # transaction (the pool's connections are autocommit), so no rollback undoes it.
        self._bound: weakref.WeakKeyDictionary[Connection, str] = weakref.WeakKeyDictionary()

    @asynccontextmanager
    async def connection(self, tenant_id: str | None = None) -> AsyncIterator[Connection]:
        """A connection for one unit of work, bound to ``tenant_id`` when guarded."""
        async with wrapped_errors(), self.pool.connection() as conn:
            if self.tenant_guard and self._bound.get(conn) != (tenant_id or ""):
                self._bound.pop(conn, None)  # unknown until the setting has succeeded
                await conn.execute(
                    "SELECT set_config('mnemo.tenant_id', %s, false)", (tenant_id or "",)
                )
                self._bound[conn] = tenant_id or ""
            yield conn

    @asynccontextmanager
    async def transaction(self, tenant_id: str | None = None) -> AsyncIterator[Connection]:
        """A connection inside a transaction that commits when the block ends."""
        async with self.connection(tenant_id) as conn, conn.transaction():
            yield conn

    async def fetch(
        self, statement: Statement, params: Any = None, *, tenant_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Rows of one statement as dicts (empty for a statement returning nothing)."""
        async with self.connection(tenant_id) as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(statement, params)
            return await cur.fetchall() if cur.description else []

    async def execute(
        self, statement: Statement, params: Any = None, *, tenant_id: str | None = None
    ) -> int:
        """Run one statement; the number of rows it affected."""
        async with self.connection(tenant_id) as conn:
            return (await conn.execute(statement, params)).rowcount
