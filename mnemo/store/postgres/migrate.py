"""Bring a database to mnemo's schema.

A fresh database gets ``schema.sql`` in one transaction and is stamped with the
newest revision; an existing one is upgraded through the Alembic chain. A
PostgreSQL advisory lock makes concurrent openers take turns.
"""

from __future__ import annotations

import logging
from importlib import resources
from typing import Any

import psycopg
from psycopg import sql

from mnemo.errors import ExtensionMissing, StoreUnavailable
from mnemo.store.postgres.errors import describe_dsn, wrapped_errors_sync
from mnemo.store.postgres.migrations import HEAD

logger = logging.getLogger(__name__)

MIGRATION_LOCK = 0x6D6E656D6F  # "mnemo"
MIN_PGVECTOR = (0, 5, 0)


def migrate(dsn: str, revision: str = "head") -> str:
    """Apply migrations up to ``revision`` and return the revision the database is at."""
    with _connect(dsn) as conn, wrapped_errors_sync():
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            current = current_revision(conn)
            if current == HEAD and revision in ("head", HEAD):
                return HEAD
            ensure_pgvector(conn, dsn)
            ensure_btree_gin(conn, dsn)
            if current is None and _is_empty(conn) and revision in ("head", HEAD):
                _install_fresh(conn, dsn)
            else:
                _run_alembic(dsn, "upgrade", revision)
                _place_new_tables(conn, dsn)
            return current_revision(conn) or "base"
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))


def migrate_with_alembic(dsn: str, revision: str = "head") -> None:
    """Upgrade through the revision chain only (never the fresh-install shortcut)."""
    with _connect(dsn) as conn, wrapped_errors_sync():
        ensure_pgvector(conn, dsn)
        ensure_btree_gin(conn, dsn)
    _run_alembic(dsn, "upgrade", revision)
    with _connect(dsn) as conn, wrapped_errors_sync():
        _place_new_tables(conn, dsn)


def _place_new_tables(conn: psycopg.Connection[Any], dsn: str) -> None:
    """On a distributed database, distribute the tables a revision just created."""
    from mnemo.store.postgres.distribute import distribute_connection, is_distributed

    if is_distributed(conn):
        report = distribute_connection(conn, dsn)
        if report.changed:
            logger.info("placed new tables on the cluster: %s", report)


def current_revision(conn: psycopg.Connection[Any]) -> str | None:
    """The Alembic revision recorded in the database, or ``None`` if there is none."""
    if conn.execute("SELECT to_regclass('alembic_version')").fetchone() == (None,):
        return None
    row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return row[0] if row else None


def ensure_pgvector(conn: psycopg.Connection[Any], dsn: str) -> None:
    """Create the ``vector`` extension, or explain why it cannot be."""
    row = conn.execute(
        "SELECT default_version, installed_version FROM pg_available_extensions"
        " WHERE name = 'vector'"
    ).fetchone()
    if row is None:
        raise ExtensionMissing(
            f"the PostgreSQL server at {describe_dsn(dsn)} has no pgvector extension. "
            "Install pgvector >= 0.5 there (for example the pgvector/pgvector Docker image or "
            "your distribution's postgresql-NN-pgvector package), or unset MNEMO_DATABASE_URL "
            "to use mnemo's embedded PostgreSQL."
        )
    version = row[1] or row[0]
    if _version_tuple(version) < MIN_PGVECTOR:
        raise ExtensionMissing(f"pgvector {version} is too old; mnemo needs 0.5 or newer")
    _create_extension(conn, dsn, "vector")


def ensure_btree_gin(conn: psycopg.Connection[Any], dsn: str) -> None:
    """Create ``btree_gin`` (PostgreSQL's contrib), which the lexical index needs."""
    row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'btree_gin'").fetchone()
    if row is None:
        raise ExtensionMissing(
            f"the PostgreSQL server at {describe_dsn(dsn)} has no btree_gin extension; "
            "install PostgreSQL's contrib modules there (postgresql-contrib, part of every "
            "official image)"
        )
    _create_extension(conn, dsn, "btree_gin")


def _create_extension(conn: psycopg.Connection[Any], dsn: str, name: str) -> None:
    try:
        conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(name)))
    except psycopg.errors.InsufficientPrivilege as exc:
        raise ExtensionMissing(
            f"not allowed to CREATE EXTENSION {name} on {describe_dsn(dsn)}; "
            "ask an administrator to run it once in this database"
        ) from exc


def _connect(dsn: str) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(dsn, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise StoreUnavailable(
            f"cannot connect to PostgreSQL at {describe_dsn(dsn)}: {str(exc).strip()}"
        ) from exc


def _is_empty(conn: psycopg.Connection[Any]) -> bool:
    return conn.execute("SELECT to_regclass('memories')").fetchone() == (None,)


def _install_fresh(conn: psycopg.Connection[Any], dsn: str) -> None:
    logger.info("installing mnemo's schema into an empty database")
    schema = resources.files("mnemo.store.postgres").joinpath("schema.sql").read_text()
    with conn.transaction():
        conn.execute(schema)
    _run_alembic(dsn, "stamp", HEAD)


def _run_alembic(dsn: str, command_name: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    # Alembic needs SQLAlchemy; ``creator`` lets it use any libpq DSN, URI or key=value.
    engine = create_engine(
        "postgresql+psycopg://", creator=lambda: psycopg.connect(dsn), poolclass=NullPool
    )
    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("mnemo.store.postgres") / "migrations")
    )
    with engine.connect() as sa_conn:
        config.attributes["connection"] = sa_conn
        getattr(command, command_name)(config, revision)
        sa_conn.commit()


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".")[:3] if part.isdigit())
