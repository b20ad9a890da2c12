"""Tier citus: mnemo on a real Citus cluster (a coordinator and two workers).

The cluster is started once per session from the embedded server's binaries with
``../shared/citus`` unpacked into them; each node listens on its own port of 127.0.0.1.
Without the archive the tier skips (fails when ``MNEMO_REQUIRE_TIERS`` names it).

Citus supports no ``CREATE DATABASE ... TEMPLATE``, so the public API tests share one
distributed database and each test starts from empty tables (``TRUNCATE``), while the
distribution tests make their own databases.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from mnemo import distribute
from mnemo.store.postgres.migrate import migrate
from tests.conftest import repo_root
from tests.support.citus_cluster import Cluster, citus_archive, install_citus, start_cluster
from tests.support.tiers import prerequisite_missing

TIER = "citus"
SHARDS = 4  # few shards keep DDL and truncation quick; routing is the same as with 32

pytestmark = pytest.mark.citus


@pytest.fixture(scope="session")
def citus_cluster() -> Iterator[Cluster]:
    archive = citus_archive(repo_root())
    if archive is None:
        prerequisite_missing(TIER, "../shared/citus has no Citus build for the embedded server")
    install_citus(archive)
    cluster = start_cluster(workers=2)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def new_citus_database(citus_cluster: Cluster) -> Iterator[str]:
    """A database of its own with Citus on every node and no mnemo schema yet."""
    name = f"mnemo_citus_{uuid.uuid4().hex[:10]}"
    yield citus_cluster.create_database(name)
    citus_cluster.drop_database(name)


@pytest.fixture(scope="session")
def shared_citus_url(citus_cluster: Cluster) -> str:
    """One distributed database at the newest schema, shared by the public API tests."""
    url = citus_cluster.create_database("mnemo_citus_api")
    migrate(url)
    distribute(url, shard_count=SHARDS)
    return url


@pytest.fixture
def database_url(shared_citus_url: str) -> str:
    """The shared distributed database, emptied for this test."""
    empty_tables(shared_citus_url)
    return shared_citus_url


def empty_tables(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT c.relname FROM pg_class c WHERE c.relkind = 'r'"
                " AND c.relnamespace = current_schema()::regnamespace"
                " AND c.relname <> 'alembic_version'"
            )
        ]
        statement = sql.SQL("TRUNCATE {} CASCADE").format(
            sql.SQL(", ").join(sql.Identifier(n) for n in names)
        )
        conn.execute(statement)
