"""Very large scopes get a vector index of their own (threshold scaled down to 40 rows)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import psycopg
import pytest

from mnemo import AsyncMemory
from mnemo.config import MnemoConfig, SearchConfig
from mnemo.core.records import Scope
from mnemo.errors import ConfigurationError
from mnemo.store.postgres.scope_indexes import index_name

ROWS = 48
TOPICS = ("sailing", "violin", "sourdough", "chess", "orchids", "marathons", "pottery", "birds")


@pytest.fixture
async def large(config: MnemoConfig) -> AsyncIterator[AsyncMemory]:
    search = SearchConfig(indexed_scope_rows=40, scope_index_recheck_seconds=0)
    async with AsyncMemory(replace(config, search=search)) as opened:
        for i in range(ROWS):
            topic = TOPICS[i % len(TOPICS)]
            await opened.add(f"Note {i}: Ann spent week {i} on {topic}", user_id="ann")
        await opened.add("Bob likes sailing too", user_id="bob")
        yield opened


def _index_jobs(url: str) -> list[tuple[str, dict[str, str]]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT status::text, args FROM procrastinate_jobs"
            " WHERE task_name = 'mnemo.index_scope' ORDER BY id"
        ).fetchall()
    return [(status, args) for status, args in rows]


def _index_scans(url: str, name: str) -> int | None:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = %s", (name,)
        ).fetchone()
    return None if row is None else int(row[0])


async def test_a_large_scope_is_indexed_and_searched_through_its_index(
    large: AsyncMemory, database_url: str
) -> None:
    exact = [h.id for h in await large.search("who went sailing?", user_id="ann", limit=8)]
    await large.search("chess openings", user_id="ann")
    await large.search("sailing", user_id="bob")
    jobs = _index_jobs(database_url)
    assert jobs == [("todo", {"tenant_id": "default", "user_id": "ann", "table": "memories"})]

    built = await large.index_large_scopes()
    assert built == [{"tenant_id": "default", "user_id": "ann", "table": "memories", "rows": ROWS}]
    assert await large.index_large_scopes() == []  # registered: nothing left to build
    name = index_name("default", "ann", "memories")
    before = _index_scans(database_url, name)
    assert before is not None

    indexed = [h.id for h in await large.search("who went sailing?", user_id="ann", limit=8)]
    assert indexed == exact
    for _ in range(50):  # statistics reach the view when the searching backend idles
        if (_index_scans(database_url, name) or 0) > before:
            break
        await asyncio.sleep(0.2)
    assert (_index_scans(database_url, name) or 0) > before

    bob = await large.search("sailing", user_id="bob")
    assert [h.content for h in bob] == ["Bob likes sailing too"]


async def test_filters_apply_through_the_index(large: AsyncMemory) -> None:
    target = await large.add("Ann's sailing log is a fact now", user_id="ann", kind="fact")
    await large.index_large_scopes()
    hits = await large.search("sailing", user_id="ann", kinds=["fact"])
    assert [h.id for h in hits] == [target.id]


async def test_deleting_the_user_drops_the_index(large: AsyncMemory, database_url: str) -> None:
    await large.index_large_scopes()
    name = index_name("default", "ann", "memories")
    assert _index_scans(database_url, name) is not None
    await large.delete_user("ann")
    assert _index_scans(database_url, name) is None
    assert await large._scope_indexes.lookup(Scope("default", "ann"), "memories") is None
    assert await large.search("sailing", user_id="ann") == []


async def test_a_missing_index_leaves_searches_working(
    large: AsyncMemory, database_url: str
) -> None:
    expected = [h.id for h in await large.search("violin", user_id="ann", limit=5)]
    await large.index_large_scopes()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'DROP INDEX "{index_name("default", "ann", "memories")}"')
    assert [h.id for h in await large.search("violin", user_id="ann", limit=5)] == expected


async def test_turns_of_a_large_session_are_indexed_too(large: AsyncMemory) -> None:
    scope = Scope("default", "cy", session_id="s1")
    turns = [
        {"role": "user", "content": f"Day {i}: I practised {TOPICS[i % len(TOPICS)]}"}
        for i in range(ROWS)
    ]
    await large.messages.add(scope, turns)
    exact = [h.id for h in await large.messages.search(scope, "orchids", limit=6)]
    built = await large.index_large_scopes()
    assert {(b["user_id"], b["table"]) for b in built} >= {("cy", "messages")}
    assert [h.id for h in await large.messages.search(scope, "orchids", limit=6)] == exact


@pytest.mark.parametrize(
    "bad",
    [
        {"indexed_scope_rows": -1},
        {"term_cap": 0},
        {"ann_ef_search": 0},
        {"scope_index_recheck_seconds": -1},
    ],
)
def test_bad_scope_index_settings_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ConfigurationError):
        SearchConfig(**bad)  # type: ignore[arg-type]
