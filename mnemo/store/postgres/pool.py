"""The connection pool, configured once: pgvector registered on every new connection."""

from __future__ import annotations

import select
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from pgvector.psycopg import register_vector_async
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from mnemo.errors import StoreUnavailable
from mnemo.store.postgres.errors import describe_dsn

Pool = AsyncConnectionPool[psycopg.AsyncConnection[Any]]

#: A connection idle longer than this is checked with a round trip before it is lent.
IDLE_CHECK_SECONDS = 30.0
_returned_at: weakref.WeakKeyDictionary[psycopg.AsyncConnection[Any], float] = (
    weakref.WeakKeyDictionary()
)


async def _remember_return(conn: psycopg.AsyncConnection[Any]) -> None:
    _returned_at[conn] = time.monotonic()


async def check_if_stale(conn: psycopg.AsyncConnection[Any]) -> None:
    """The pool's check, made only when a connection may be dead: idle for long, or
    with unread bytes on its socket (a server that ends a session says so first).

    A round trip per borrowed connection would be a fifth of a fast search's time."""
    idle = time.monotonic() - _returned_at.get(conn, float("-inf"))
    if idle > IDLE_CHECK_SECONDS or conn.closed or _has_unread_data(conn):
        await AsyncConnectionPool.check_connection(conn)


def _has_unread_data(conn: psycopg.AsyncConnection[Any]) -> bool:
    try:
        readable, _, _ = select.select([conn.pgconn.socket], [], [], 0)
    except (OSError, ValueError, psycopg.OperationalError):
        return True
    return bool(readable)


def _configurer(role: str | None) -> Callable[[psycopg.AsyncConnection[Any]], Awaitable[None]]:
    async def configure(conn: psycopg.AsyncConnection[Any]) -> None:
        await register_vector_async(conn)
        if role is not None:
            await conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))

    return configure


async def open_pool(
    dsn: str,
    *,
    min_size: int,
    max_size: int,
    timeout: float = 15.0,
    role: str | None = None,
    wait: bool = True,
    name: str = "mnemo",
) -> Pool:
    """An open pool of autocommit connections to ``dsn``; a transaction is always explicit.

    With ``role``, every connection switches to that role (``SET ROLE``) when it is
    made, so the role's privileges and row-level security apply to everything it runs.
    Without ``wait`` the pool connects in the background and opening cannot fail.
    """
    pool: Pool = AsyncConnectionPool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        open=False,
        configure=_configurer(role),
        check=check_if_stale,
        reset=_remember_return,
        kwargs={"autocommit": True},
        name=name,
    )
    if not wait:
        await pool.open(wait=False)
        return pool
    try:
        await pool.open(wait=True, timeout=timeout)
    except Exception as exc:  # PoolTimeout carries the connection error as its context
        await pool.close()
        raise StoreUnavailable(
            f"cannot open a connection pool to PostgreSQL at {describe_dsn(dsn)}: {exc}"
        ) from exc
    return pool
