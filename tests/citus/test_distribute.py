"""``mnemo db distribute`` on a real cluster: placement, existing rows, idempotence,
refused shapes, and a revision applied after distribution."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from mnemo import AsyncMemory, MnemoConfig, UnsupportedSchema, distribute
from mnemo.cli.main import main
from mnemo.providers.embedders.base import Embedder
from mnemo.store.postgres.distribute import REFERENCE_TABLES, plan
from mnemo.store.postgres.migrate import migrate
from mnemo.store.postgres.migrations import HEAD

pytestmark = pytest.mark.citus


def placement(url: str) -> dict[str, tuple[str, str | None, int]]:
    """``table -> (kind, distribution column, shards)`` as Citus holds them."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name::text, citus_table_type, distribution_column, shard_count"
            " FROM citus_tables"
        ).fetchall()
    return {r[0]: (r[1], None if r[2] == "<none>" else r[2], r[3]) for r in rows}


def colocation_groups(url: str) -> set[int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT DISTINCT colocation_id FROM citus_tables WHERE citus_table_type = 'distributed'"
        ).fetchall()
    return {r[0] for r in rows}


async def test_rows_stored_before_distributing_are_found_after_and_it_runs_once(
    new_citus_database: str, embedder: Embedder, capsys: pytest.CaptureFixture[str]
) -> None:
    url = new_citus_database
    config = MnemoConfig(database_url=url, embedder=embedder)
    async with AsyncMemory(config) as memory:
        added = await memory.add("I keep bees on the roof", user_id="ann")
        await memory.add_messages(
            [{"role": "user", "content": "The hives need checking in May"}],
            user_id="ann", session_id="s1",
        )  # fmt: skip
        await memory.kv.set("prefs", "colour", "green", user_id="ann")

    assert main(["db", "distribute", "--database-url", url, "--shard-count", "4"]) == 0
    out = capsys.readouterr().out
    assert "tables distributed by user_id: memories" in out
    placed = placement(url)
    with psycopg.connect(url) as conn:
        wanted = plan(conn)
    for table in wanted.distributed:
        assert placed[table] == ("distributed", "user_id", 4), table
    for table in REFERENCE_TABLES:
        assert placed[table][0] == "reference"
    for table in wanted.local:  # the job queue and alembic_version stay plain local tables
        assert table not in placed
    assert len(colocation_groups(url)) == 1  # one user's rows of every table share a shard

    async with AsyncMemory(config) as memory:
        assert (await memory.get(added.ids[0])).content == "I keep bees on the roof"
        hits = await memory.search("bees", user_id="ann")
        assert [h.id for h in hits] == added.ids
        turns = await memory.list_messages(user_id="ann", session_id="s1")
        assert [m.content for m in turns] == ["The hives need checking in May"]
        assert await memory.kv.get("prefs", "colour", user_id="ann") == "green"

    # The originals left on the coordinator were removed, not counted twice.
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM ONLY memories").fetchone() == (1,)
        local = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relname = 'memories' AND n.nspname = 'public'"
        ).fetchone()
        assert local == (1,)

    again = distribute(url)
    assert not again.changed
    assert set(again.already) == set(wanted.distributed) | set(REFERENCE_TABLES)
    assert again.shard_count == 4 and again.workers == 2
    assert placement(url) == placed


def test_shapes_mnemo_does_not_support_are_refused(new_citus_database: str) -> None:
    url = new_citus_database
    migrate(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT create_distributed_table('summaries', 'session_id')")
    with pytest.raises(UnsupportedSchema, match="'summaries' is already a Citus distributed by"):
        distribute(url, shard_count=4)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT undistribute_table('summaries')")
        conn.execute("SELECT create_reference_table('kv_history')")
    with pytest.raises(UnsupportedSchema, match="'kv_history' is already a Citus reference"):
        distribute(url, shard_count=4)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT undistribute_table('kv_history')")
        conn.execute("CREATE TABLE mystery (payload text)")
    with pytest.raises(UnsupportedSchema, match="'mystery' has no user_id column"):
        distribute(url, shard_count=4)
    assert placement(url) == {}  # refused before anything was changed


def _previous_revision() -> str:
    from importlib import resources

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("mnemo.store.postgres") / "migrations")
    )
    previous = ScriptDirectory.from_config(config).get_revision(HEAD).down_revision
    assert isinstance(previous, str)
    return previous


async def test_a_revision_applied_after_distribution_reaches_the_shards(
    new_citus_database: str, embedder: Embedder
) -> None:
    url = new_citus_database
    previous = _previous_revision()
    assert migrate(url, previous) == previous
    distribute(url, shard_count=4)

    assert migrate(url) == HEAD  # AsyncMemory.open does this too
    with psycopg.connect(url) as conn:
        wanted = plan(conn)
    placed = placement(url)
    for table in wanted.distributed:  # tables the newer revisions made are placed too
        assert placed[table][:2] == ("distributed", "user_id"), table
    assert len(colocation_groups(url)) == 1

    async with AsyncMemory(MnemoConfig(database_url=url, embedder=embedder)) as memory:
        added = await memory.add("Revision test", user_id="rev")
        assert (await memory.get(added.ids[0])).content == "Revision test"
    # Each shard has every column the chain added, not only the coordinator's table.
    with psycopg.connect(url) as conn:
        columns: list[Any] = conn.execute(
            "SELECT DISTINCT result FROM run_command_on_shards('message_extractions',"
            " $$SELECT count(*) FROM information_schema.columns WHERE table_name = '%s'$$)"
        ).fetchall()
        coordinator = conn.execute(
            "SELECT count(*) FROM information_schema.columns"
            " WHERE table_name = 'message_extractions' AND table_schema = 'public'"
        ).fetchone()
    assert coordinator is not None
    assert columns == [(str(coordinator[0]),)]
