"""After a bulk write the planner's statistics are current at once (no wait for autovacuum)."""

from __future__ import annotations

import numpy as np
import pytest

from mnemo import AsyncMemory

pytestmark = pytest.mark.asyncio


async def reltuples(memory: AsyncMemory, table: str) -> float:
    rows = await memory.db.fetch("SELECT reltuples FROM pg_class WHERE relname = %s", (table,))
    return float(rows[0]["reltuples"])


async def test_a_bulk_add_many_leaves_the_table_analysed(memory: AsyncMemory) -> None:
    vectors = np.random.default_rng(1).normal(size=(1_500, memory.embedder.dimension))
    await memory.add_many([{"content": "small", "embedding": vectors[0]}], user_id="u")
    assert await reltuples(memory, "memories") < 0  # never analysed: the planner guesses
    items = [{"content": f"note {i}", "embedding": v} for i, v in enumerate(vectors[1:1_200])]
    await memory.add_many(items, user_id="u")
    assert await reltuples(memory, "memories") == 1_200
    # The next analysis waits for a tenth of the table (or 1,000 rows) more.
    statistics = memory.db.statistics
    assert statistics.due_after("memories") == 1_000
    await memory.add_many(items[:300], user_id="v")
    assert await reltuples(memory, "memories") == 1_200


async def test_turns_count_towards_the_messages_table(memory: AsyncMemory) -> None:
    statistics = memory.db.statistics
    statistics.min_rows = 50
    turns = [{"role": "user", "content": f"turn {i}"} for i in range(60)]
    await memory.add(turns, user_id="u", session_id="s", infer=True)
    assert await reltuples(memory, "messages") == 60
