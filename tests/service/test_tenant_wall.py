"""Row-level security, the second wall: even a query without a tenant condition sees one tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator

import psycopg
import pytest

from mnemo import AsyncMemory
from mnemo.errors import Forbidden, NotFound
from mnemo.service.settings import SERVICE_ROLE
from mnemo.store.postgres.database import Database
from mnemo.store.postgres.pool import open_pool


@pytest.fixture
async def guarded(database_url: str, memory: AsyncMemory) -> AsyncIterator[Database]:
    """Memories of tenants a and b, and the service's kind of connection (role + guard)."""
    await memory.for_tenant("a").add("alpha's secret plan", user_id="u1")
    await memory.for_tenant("b").add("beta's secret plan", user_id="u1")
    await memory.for_tenant("b").add("beta's other note", user_id="u2")
    await memory.flush()
    pool = await open_pool(database_url, min_size=1, max_size=2, role=SERVICE_ROLE)
    try:
        yield Database(pool, tenant_guard=True)
    finally:
        await pool.close()


async def test_an_unscoped_select_returns_only_the_bound_tenants_rows(guarded: Database) -> None:
    rows = await guarded.fetch("SELECT tenant_id, content FROM memories", tenant_id="a")
    assert [(r["tenant_id"], r["content"]) for r in rows] == [("a", "alpha's secret plan")]
    events = await guarded.fetch("SELECT DISTINCT tenant_id FROM memory_events", tenant_id="b")
    assert [r["tenant_id"] for r in events] == ["b"]


async def test_a_connection_bound_to_no_tenant_sees_nothing(guarded: Database) -> None:
    assert await guarded.fetch("SELECT * FROM memories") == []


async def test_writes_into_another_tenant_are_refused_and_change_nothing(
    guarded: Database, database_url: str
) -> None:
    assert await guarded.execute("UPDATE memories SET content = 'owned'", tenant_id="a") == 1
    assert (
        await guarded.execute("DELETE FROM memory_events WHERE tenant_id = 'b'", tenant_id="a") == 0
    )
    with pytest.raises(Forbidden):
        await guarded.execute(
            "UPDATE memories SET tenant_id = 'b' WHERE tenant_id = 'a'", tenant_id="a"
        )
    with psycopg.connect(database_url) as conn:
        contents = conn.execute("SELECT tenant_id, content FROM memories ORDER BY 1, 2").fetchall()
    assert contents == [
        ("a", "owned"),
        ("b", "beta's other note"),
        ("b", "beta's secret plan"),
    ]


async def test_every_table_with_a_tenant_id_is_under_the_policy(database_url: str) -> None:
    """New tables must call mnemo_enable_tenant_rls (docs/contributing.md)."""
    with psycopg.connect(database_url) as conn:
        unprotected = conn.execute(
            """
            SELECT c.relname FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
            WHERE c.relkind = 'r' AND (NOT c.relrowsecurity OR NOT EXISTS (
                SELECT FROM pg_policy p
                WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation'))
            """
        ).fetchall()
        role = conn.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", (SERVICE_ROLE,)
        ).fetchone()
    assert unprotected == []
    assert role == (False, False)


async def test_a_tenant_view_cannot_reach_another_tenants_memory(memory: AsyncMemory) -> None:
    other = await memory.for_tenant("b").add("beta only", user_id="u1")
    view = memory.for_tenant("a")
    with pytest.raises(NotFound):
        await view.get(other.id)
    with pytest.raises(NotFound):
        await view.delete(other.id)
    assert await view.search("beta only", user_id="u1") == []
    assert (await memory.for_tenant("b").get(other.id)).content == "beta only"


async def test_closing_a_view_leaves_the_engine_open(memory: AsyncMemory) -> None:
    view = memory.for_tenant("a")
    await view.close()
    assert (await memory.add("still works", user_id="u1")).id
    assert view.config.tenant_id == "a" and memory.config.tenant_id == "default"
