"""The engine's record collections: the HNSW index built as a collection grows, and the
tenant wall of row-level security."""

from __future__ import annotations

import dataclasses

import psycopg
import pytest

from mnemo import AsyncMemory, MnemoConfig
from mnemo.config import RecordConfig

pytestmark = pytest.mark.asyncio


async def index_names(database_url: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        found = conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'records'"
            " AND indexname LIKE 'records_hnsw_%' ORDER BY indexname"
        )
        return [row[0] for row in found.fetchall()]


async def test_hnsw_index_is_built_when_a_collection_grows(config: MnemoConfig) -> None:
    grown = dataclasses.replace(config, records=RecordConfig(hnsw_min_rows=3))
    async with AsyncMemory(grown) as memory:
        scope = memory.scope("u")
        for i in range(2):
            await memory.records.put(scope, "personas", {"name": f"p{i}", "embedding": [1, i, 0]})
        await memory.records.put(scope, "toolbox", {"name": "t", "embedding": [1.0, 2.0]})
        assert await index_names(memory.database_url) == []
        await memory.records.put(scope, "personas", {"name": "p2", "embedding": [0, 0, 1]})
        assert await index_names(memory.database_url) == ["records_hnsw_3"]
        with psycopg.connect(memory.database_url) as conn:
            conn.execute("SET enable_seqscan = off")
            plan = conn.execute(
                "EXPLAIN SELECT id FROM records WHERE vector_dims(caller_embedding) = 3"
                " ORDER BY caller_embedding::vector(3) <=> '[1,0,0]'::vector(3) LIMIT 2"
            ).fetchall()
            assert "records_hnsw_3" in " ".join(row[0] for row in plan)
        nearest = await memory.records.nearest(scope, "personas", [1, 0.1, 0], limit=2)
        assert [r["name"] for r in nearest] == ["p0", "p1"]


async def test_records_stay_behind_the_tenant_wall(config: MnemoConfig) -> None:
    """With the REST service's role, row-level security checks every statement."""
    guarded = dataclasses.replace(config, database_role="mnemo_service")
    async with AsyncMemory(guarded) as memory:
        a, b = memory.for_tenant("tenant-a"), memory.for_tenant("tenant-b")
        scope_a, scope_b = a.scope("u1"), b.scope("u1")
        record_id = await a.records.put(scope_a, "personas", {"name": "A", "embedding": [1, 0]})
        assert (await a.records.get(scope_a, "personas", record_id))["name"] == "A"  # type: ignore[index]
        assert await b.records.get(scope_b, "personas", record_id) is None
        assert await b.records.list(scope_b, "personas") == []
        assert await b.records.nearest(scope_b, "personas", [1, 0], limit=5) == []
        assert await b.records.search(scope_b, "personas", "A", limit=5) == []
        assert not await b.records.delete(scope_b, "personas", record_id)
        assert await a.records.delete_all(scope_a, "personas") == 1
    with psycopg.connect(memory.database_url) as conn:
        policy = conn.execute("SELECT policyname FROM pg_policies WHERE tablename = 'records'")
        assert policy.fetchall() == [("tenant_isolation",)]
