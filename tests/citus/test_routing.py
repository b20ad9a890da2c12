"""Single-shard routing: every per-user operation runs on the user's shard only.

Citus counts the queries it ran on one shard and on several (``citus_stat_counters``);
each operation below is measured alone (the background writer is kept idle), and must
add no multi-shard query. Lookups by id alone are the documented exception: without
the user, Citus asks every shard (docs/scaling.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import psycopg
import pytest

from mnemo import AsyncMemory, MnemoConfig
from mnemo.providers.embedders.base import Embedder
from tests.support.citus_cluster import shard_query_counts

pytestmark = pytest.mark.citus


async def shards_asked(url: str, operation: Callable[[], Awaitable[Any]]) -> tuple[int, int]:
    """(single-shard, multi-shard) queries Citus ran for ``operation``."""
    before = shard_query_counts(url)
    await operation()
    after = shard_query_counts(url)
    return after[0] - before[0], after[1] - before[1]


@pytest.fixture
async def quiet_memory(database_url: str, embedder: Embedder) -> AsyncIterator[AsyncMemory]:
    """An engine whose background writer (access counts) does not run during a test."""
    config = MnemoConfig(
        database_url=database_url, embedder=embedder, background_flush_seconds=3600
    )
    async with AsyncMemory(config) as memory:
        yield memory


async def test_every_per_user_operation_runs_on_one_shard(
    quiet_memory: AsyncMemory, database_url: str
) -> None:
    memory = quiet_memory
    await memory.add("Warm-up so caches and prepared statements exist", user_id="zoe")
    added = await memory.add("Zoe trains for a marathon in April", user_id="zoe")
    memory_id = added.ids[0]

    operations: dict[str, Callable[[], Awaitable[Any]]] = {
        "add": lambda: memory.add("Zoe's coach is called Ravi", user_id="zoe"),
        "add many": lambda: memory.add_many(
            [{"content": "Long run on Sunday"}, {"content": "Rest on Monday"}], user_id="zoe"
        ),
        "search": lambda: memory.search("marathon", user_id="zoe"),
        "list": lambda: memory.list(user_id="zoe"),
        "add turns": lambda: memory.add_messages(
            [{"role": "user", "content": "I ran 30 km today"}], user_id="zoe", session_id="s"
        ),
        "list turns": lambda: memory.list_messages(user_id="zoe", session_id="s"),
        "context": lambda: memory.context("How is training going?", user_id="zoe"),
        "get by id and user": lambda: memory.get(memory_id, user_id="zoe"),
        "history by id and user": lambda: memory.history(memory_id, user_id="zoe"),
        "update by id and user": lambda: memory.update(
            memory_id, "Zoe trains for a marathon in May", user_id="zoe"
        ),
        "stats": lambda: memory.stats("zoe"),
        "delete by id and user": lambda: memory.delete(memory_id, user_id="zoe"),
        "erase the user": lambda: memory.delete_user("zoe"),
    }
    fanned_out = {}
    for name, operation in operations.items():
        single, multi = await shards_asked(database_url, operation)
        if multi:
            fanned_out[name] = multi
        else:
            assert single >= 1, f"{name} ran no distributed query at all"
    assert fanned_out == {}


async def test_a_lookup_by_id_alone_asks_every_shard(
    quiet_memory: AsyncMemory, database_url: str
) -> None:
    added = await quiet_memory.add("Somebody's note", user_id="yan")
    memory_id = added.ids[0]
    for operation in (
        lambda: quiet_memory.get(memory_id),
        lambda: quiet_memory.history(memory_id),
    ):
        _, multi = await shards_asked(database_url, operation)
        assert multi == 1
    # An update by id alone first finds the user (every shard), then runs on one.
    single, multi = await shards_asked(
        database_url, lambda: quiet_memory.update(memory_id, "Somebody's new note")
    )
    assert multi == 1 and single >= 1


def shard_of(url: str, user_id: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT get_shard_id_for_distribution_column('chunks', %s::text)", (user_id,)
        ).fetchone()
    assert row is not None
    return int(row[0])


async def test_the_shared_corpus_is_searched_apart_one_shard_per_statement(
    quiet_memory: AsyncMemory, database_url: str
) -> None:
    corpus = shard_of(database_url, "")
    user = next(
        u for u in (f"reader-{i}" for i in range(100)) if shard_of(database_url, u) != corpus
    )
    documents = quiet_memory.documents
    await documents.load("hours.md", "# Hours\n\nThe office opens at nine.", shared=True)
    await documents.load("desk.md", "# Desk\n\nThe office desk is by the window.", user_id=user)
    hits = await documents.search("office", user_id=user)
    assert {h.shared for h in hits} == {True, False}
    for operation in (
        lambda: documents.search("when does the office open?", user_id=user),
        lambda: quiet_memory.context("when does the office open?", user_id=user),
    ):
        single, multi = await shards_asked(database_url, operation)
        assert multi == 0 and single >= 2
