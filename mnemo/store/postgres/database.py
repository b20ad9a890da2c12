"""The one way stores reach PostgreSQL: a pooled connection, errors translated.

Every store asks for ``connection(tenant_id)``. When the tenant guard is on
(the REST service turns it on), the connection first records the tenant in the
``mnemo.tenant_id`` setting, which row-level security policies check as a
second wall behind the ``tenant_id = ...`` conditions every query carries.

On one PostgreSQL the setting is made once per pooled connection, for the session.
On Citus a session setting stays on the coordinator and the workers' policies see
no tenant, so there (``transaction_tenant``) every unit of work is a transaction
that starts with ``SET LOCAL mnemo.tenant_id``, which Citus passes on to each worker
the transaction touches (``citus.propagate_set_commands = 'local'``).

With read replicas (``replicas``), a connection asked for inside a read-only method
(``replicas.reading``) may come from a standby; transactions and ``execute`` always
use the primary.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row

from mnemo.store.postgres.errors import wrapped_errors
from mnemo.store.postgres.pool import Pool
from mnemo.store.postgres.replicas import ReplicaSet, current_intent, on_primary
from mnemo.store.postgres.statistics import TableStatistics

Connection = psycopg.AsyncConnection[Any]
Statement = str | sql.SQL | sql.Composed


class Database:
    """A pool plus the habits every query shares."""

    def __init__(
        self,
        pool: Pool,
        *,
        tenant_guard: bool = False,
        transaction_tenant: bool | None = None,
        replicas: ReplicaSet | None = None,
    ) -> None:
        """``transaction_tenant``: set the tenant per transaction (Citus) or per session;
        ``None`` finds out from the database on the first guarded connection.
        ``replicas``: standbys that read-only methods may read from."""
        self.pool = pool
        self.replicas = replicas
        self.tenant_guard = tenant_guard
        self.transaction_tenant = transaction_tenant
        # The tenant each pooled connection is bound to, so a connection that serves the
        # same tenant again needs no extra round trip. The setting is made outside any
        # transaction (the pool's connections are autocommit), so no rollback undoes it.
        self._bound: weakref.WeakKeyDictionary[Connection, str] = weakref.WeakKeyDictionary()
        self._citus: bool | None = None
        #: Refreshes the planner's statistics after bulk writes (stores report their rows).
        self.statistics = TableStatistics(self)

    @asynccontextmanager
    async def connection(self, tenant_id: str | None = None) -> AsyncIterator[Connection]:
        """A connection for one unit of work, bound to ``tenant_id`` when guarded."""
        async with wrapped_errors(), self._lend() as conn:
            if self.tenant_guard and await self._per_transaction(conn):
                async with conn.transaction():
                    await conn.execute(_local_tenant(tenant_id))
                    yield conn
                return
            if self.tenant_guard and self._bound.get(conn) != (tenant_id or ""):
                self._bound.pop(conn, None)  # unknown until the setting has succeeded
                await conn.execute(
                    "SELECT set_config('mnemo.tenant_id', %s, false)", (tenant_id or "",)
                )
                self._bound[conn] = tenant_id or ""
            yield conn

    def _lend(self) -> AbstractAsyncContextManager[Connection]:
        """The primary's connection, or a standby's for read-only work that one can serve."""
        intent = current_intent()
        if self.replicas is None or intent is None or intent.pinned:
            return self.pool.connection()
        return self.replicas.connection(intent)

    async def mark_writes(self, tenant_id: str, user_id: str | None = None) -> None:
        """Read-your-writes: later reads of this user (of everyone, without one) see
        what the primary holds now, on a standby that has replayed it or on the primary."""
        if self.replicas is not None:
            async with wrapped_errors():
                await self.replicas.mark_writes(tenant_id, user_id)

    @asynccontextmanager
    async def transaction(self, tenant_id: str | None = None) -> AsyncIterator[Connection]:
        """A connection inside a transaction that commits when the block ends (always on
        the primary)."""
        with on_primary():
            async with self.connection(tenant_id) as conn:
                if conn.info.transaction_status != TransactionStatus.IDLE:  # it already is one
                    yield conn
                    return
                async with conn.transaction():
                    yield conn

    async def distributed(self) -> bool:
        """Whether the database runs Citus (asked once): lookups that must run on one shard
        then find the user first."""
        if self._citus is None:
            async with wrapped_errors(), self.pool.connection() as conn:
                await self._citus_on(conn)
        return bool(self._citus)

    async def _per_transaction(self, conn: Connection) -> bool:
        if self.transaction_tenant is None:
            self.transaction_tenant = await self._citus_on(conn)
        return self.transaction_tenant

    async def _citus_on(self, conn: Connection) -> bool:
        if self._citus is None:
            cursor = await conn.execute(
                "SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus')"
            )
            row = await cursor.fetchone()
            self._citus = bool(row and row[0])
        return self._citus

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
        """Run one statement on the primary; the number of rows it affected."""
        with on_primary():
            return await self._execute(statement, params, tenant_id)

    async def _execute(self, statement: Statement, params: Any, tenant_id: str | None) -> int:
        async with self.connection(tenant_id) as conn:
            return (await conn.execute(statement, params)).rowcount


def _local_tenant(tenant_id: str | None) -> sql.Composed:
    """The transaction's tenant, set so that Citus passes it on to the workers.

    Citus propagates ``SET LOCAL`` statements (not ``set_config`` calls), so the tenant
    is a literal here, quoted by psycopg.
    """
    return sql.SQL(
        "SET LOCAL citus.propagate_set_commands = 'local'; SET LOCAL mnemo.tenant_id = {}"
    ).format(sql.Literal(tenant_id or ""))
