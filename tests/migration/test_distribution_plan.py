"""How ``mnemo db distribute`` places each table, decided from the catalog (no Citus needed).

A table a later revision adds must be user-scoped (it then follows ``user_id``) or be
classified in distribute.py; otherwise these tests fail, before a Citus user finds out.
"""

from __future__ import annotations

import psycopg
import pytest

from mnemo import CitusMissing, StoreUnavailable, UnsupportedSchema, distribute
from mnemo.store.postgres.distribute import REFERENCE_TABLES, plan


def test_every_table_is_placed_and_every_user_scoped_table_follows_user_id(
    database_url: str,
) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        placed = plan(conn)
        user_scoped = {
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND column_name = 'user_id'"
            )
        }
        every_table = {
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        }
    assert placed.distributed[0] == "memories"
    assert set(placed.distributed) == user_scoped
    assert set(placed.reference) == set(REFERENCE_TABLES)
    assert set(placed.local) == {"alembic_version"} | {
        t for t in every_table if t.startswith("procrastinate_")
    }
    assert set(placed.distributed) | set(placed.reference) | set(placed.local) == every_table
    # A table comes after the tables its foreign keys point at.
    order = placed.distributed.index
    assert order("entities") < order("entity_aliases") < len(placed.distributed)
    assert order("documents") < order("chunks")
    assert placed.reference.index("tenants") < placed.reference.index("api_keys")


def test_a_table_that_is_neither_user_scoped_nor_classified_is_refused(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE mystery (tenant_id text, payload text)")
        with pytest.raises(UnsupportedSchema, match="'mystery' has no user_id column"):
            plan(conn)


def test_a_database_without_the_schema_is_refused(empty_database_url: str) -> None:
    with (
        psycopg.connect(empty_database_url, autocommit=True) as conn,
        pytest.raises(UnsupportedSchema, match="mnemo db upgrade"),
    ):
        plan(conn)


def test_distributing_without_citus_says_how_to_get_it(database_url: str) -> None:
    with pytest.raises(CitusMissing, match="CREATE EXTENSION citus"):
        distribute(database_url)
    with psycopg.connect(database_url) as conn:  # nothing was changed
        assert conn.execute(
            "SELECT count(*) FROM pg_extension WHERE extname = 'citus'"
        ).fetchone() == (0,)


def test_a_bad_shard_count_is_refused_before_connecting() -> None:
    with pytest.raises(UnsupportedSchema, match="shard_count"):
        distribute("postgresql://nobody@127.0.0.1:1/none", shard_count=0)


def test_an_unreachable_database_is_a_clear_error() -> None:
    with pytest.raises(StoreUnavailable, match="cannot connect") as caught:
        distribute("postgresql://nobody@127.0.0.1:1/none")
    assert not isinstance(caught.value, CitusMissing)


def test_the_command_reports_a_missing_citus_and_fails(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from mnemo.cli.main import main

    assert main(["db", "distribute", "--database-url", database_url]) != 0
    assert "no citus extension" in capsys.readouterr().err
