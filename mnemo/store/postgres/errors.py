"""The one boundary where psycopg's errors become mnemo's."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict

from mnemo.errors import Conflict, DimensionMismatch, Forbidden, InvalidInput, StoreUnavailable


def describe_dsn(dsn: str) -> str:
    """``host:port/dbname`` of a DSN, without user or password, for error messages."""
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparseable DSN>"
    host = parts.get("host") or "localhost"
    return f"{host}:{parts.get('port') or 5432}/{parts.get('dbname') or ''}"


def translate(exc: psycopg.Error) -> Exception:
    """The mnemo error for a driver error."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # psycopg's SQLSTATE classes (NumericValueOutOfRange, CheckViolation, ...) derive
    # from the DB-API classes DataError / IntegrityError, not from DataException.
    if isinstance(exc, psycopg.DataError) and "dimensions" in message:
        return DimensionMismatch(message)
    if isinstance(exc, (psycopg.DataError, psycopg.IntegrityError)):
        if isinstance(exc, pg_errors.UniqueViolation):
            return Conflict(message)
        return InvalidInput(message)
    if isinstance(exc, pg_errors.InsufficientPrivilege):  # e.g. a row-level security policy
        return Forbidden(f"PostgreSQL refused: {message}")
    if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
        return StoreUnavailable(f"PostgreSQL is unavailable: {message}")
    return StoreUnavailable(f"PostgreSQL error: {message}")


@asynccontextmanager
async def wrapped_errors() -> AsyncIterator[None]:
    """Re-raise psycopg errors inside the block as mnemo errors."""
    try:
        yield
    except psycopg.Error as exc:
        raise translate(exc) from exc


@contextmanager
def wrapped_errors_sync() -> Iterator[None]:
    try:
        yield
    except psycopg.Error as exc:
        raise translate(exc) from exc
