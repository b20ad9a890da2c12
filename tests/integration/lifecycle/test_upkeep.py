"""optimize(): decay, consolidation and clean-up on the real store, dry run then for real."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from mnemo import AsyncMemory, InvalidInput, NotFound
from tests.integration.lifecycle.conftest import rows

NOW = datetime(2026, 6, 1, tzinfo=UTC)


async def seed(engine: AsyncMemory) -> dict[str, str]:
    """Two duplicates, a stale extracted fact, a stale pinned one, a stale note, a fresh one."""
    day = timedelta(days=1)
    sources = [str(uuid.uuid4()) for _ in range(2)]
    items = [
        {"content": "Alice loves hiking.", "kind": "preference", "created_at": NOW - 30 * day,
         "source_message_ids": [sources[0]], "importance": 0.6},
        {"content": "Alice loves hiking.", "kind": "preference", "created_at": NOW - 20 * day,
         "source_message_ids": [sources[1]], "importance": 0.4},
        {"content": "Alice once owned a red bicycle.", "kind": "fact",
         "created_at": NOW - 900 * day},
        {"content": "Alice's passport number ends in 42.", "kind": "fact",
         "created_at": NOW - 900 * day},
        {"content": "Buy stamps", "kind": "note", "created_at": NOW - 900 * day},
        {"content": "Alice is training for a marathon.", "kind": "fact", "created_at": NOW},
    ]  # fmt: skip
    ids = await engine.add_many(items, user_id="alice", contextual=False)
    names = ["keep", "dup", "stale", "pinned", "note", "fresh"]
    named = dict(zip(names, ids, strict=True))
    await engine.update(named["pinned"], pinned=True)
    return named | {"source_keep": sources[0], "source_dup": sources[1]}


async def test_a_dry_run_reports_and_changes_nothing(
    engine: AsyncMemory, database_url: str
) -> None:
    ids = await seed(engine)
    before = rows(database_url, "SELECT id, decay_score FROM memories ORDER BY id")
    report = await engine.optimize("alice", now=NOW)
    assert report.dry_run
    assert report.counts == {"examined": 6, "protected": 1, "decayed": 3, "merged": 1,
                             "removed": 1}  # fmt: skip
    assert [r.memory_id for r in report.removed] == [ids["stale"]]
    assert report.merges[0].survivor_id == ids["keep"]
    assert rows(database_url, "SELECT id, decay_score FROM memories ORDER BY id") == before
    assert rows(database_url, "SELECT count(*) FROM memory_events WHERE event <> 'add' "
                              "AND event <> 'update'") == [(0,)]  # fmt: skip


async def test_optimize_applies_decay_merges_and_removals_with_history(
    engine: AsyncMemory, database_url: str
) -> None:
    ids = await seed(engine)
    report = await engine.optimize("alice", dry_run=False, now=NOW)
    assert report.counts["merged"] == 1 and report.counts["removed"] == 1
    scores = dict(rows(database_url, "SELECT id::text, decay_score FROM memories"))
    assert scores[ids["pinned"]] == 1.0  # protected
    assert scores[ids["fresh"]] == 1.0
    assert scores[ids["note"]] < 0.01  # notes decay but are not removed by policy
    assert scores[ids["keep"]] == pytest.approx(0.5 ** (30 / 90), abs=1e-3)
    survivor = await engine.get(ids["keep"])
    assert survivor.source_message_ids == [ids["source_keep"], ids["source_dup"]]
    with pytest.raises(NotFound):
        await engine.get(ids["dup"])
    merged = await engine.history(ids["dup"])
    assert merged[-1].event == "merge" and merged[-1].after == {"merged_into": ids["keep"]}
    removed = await engine.history(ids["stale"])
    assert removed[-1].event == "delete"
    assert removed[-1].reason == "decay score fell below 0.05"
    assert removed[-1].before is not None
    assert removed[-1].before["content"] == "Alice once owned a red bicycle."
    decay = [e for e in await engine.history(ids["note"]) if e.event == "decay"]
    assert decay and decay[0].after is not None and decay[0].after["decay_score"] < 0.01

    again = await engine.optimize("alice", dry_run=False, now=NOW)
    assert again.counts == {"examined": 4, "protected": 1, "decayed": 0, "merged": 0,
                            "removed": 0}  # fmt: skip


async def test_reading_a_memory_reinforces_it(engine: AsyncMemory) -> None:
    ids = await seed(engine)
    await engine.search("bicycle", user_id="alice", limit=1)
    await engine.flush()  # access statistics are written off the hot path
    report = await engine.optimize("alice", now=NOW)
    assert ids["stale"] not in {r.memory_id for r in report.removed}


async def test_optimize_refuses_bad_input(engine: AsyncMemory) -> None:
    with pytest.raises(InvalidInput):
        await engine.optimize("")
    with pytest.raises(InvalidInput):
        await engine.optimize("alice", dry_run="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        await engine.extraction_status(["not-an-id"], user_id="alice")


async def test_cleanup_removes_expired_keys_and_the_sweep_queues_upkeep(
    engine: AsyncMemory, database_url: str
) -> None:
    await engine.kv.set("prefs", "short", 1, user_id="alice", ttl_seconds=0.05)
    await engine.kv.set("prefs", "long", 2, user_id="alice")
    await asyncio.sleep(0.1)
    counts = await engine._handlers.cleanup(engine.config.tenant_id)
    assert counts["kv_entries"] == 1
    assert await engine.kv.get("prefs", "long", user_id="alice") == 2

    await seed(engine)
    await engine._handlers.sweep(lambda hours: asyncio.sleep(0))
    queued = rows(
        database_url,
        "SELECT task_name, args->>'user_id' FROM procrastinate_jobs ORDER BY task_name",
    )
    assert queued == [("mnemo.cleanup_tenant", None), ("mnemo.optimize_user", "alice")]
