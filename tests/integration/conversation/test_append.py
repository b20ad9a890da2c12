"""Appending turns in one round trip (``mnemo_append_turns``): numbering, idempotency and
the extraction ledger under concurrent writers, and all-or-nothing when a step fails."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mnemo import AsyncMemory, Conflict
from mnemo.core.records import Scope
from mnemo.kinds.messages import session_of
from mnemo.lifecycle.jobs import extract_job
from mnemo.store.postgres.jobs import JobRequest

pytestmark = pytest.mark.asyncio


async def scalar(memory: AsyncMemory, statement: str, *params: Any) -> Any:
    rows = await memory.db.fetch(statement, params or None)
    return next(iter(rows[0].values()))


async def test_turns_continue_the_session_and_respect_given_numbers(memory: AsyncMemory) -> None:
    def turn(number: int | None = None) -> dict[str, Any]:
        return {"role": "user", "content": f"turn {number}", "turn_number": number}

    await memory.add_messages([turn(), turn()], user_id="u", session_id="s")
    stored = await memory.add_messages(
        [turn(), turn(10), turn(), turn(4)], user_id="u", session_id="s"
    )
    listed = {m.id: m.turn_number for m in await memory.list_messages(user_id="u", session_id="s")}
    assert [listed[i] for i in stored] == [3, 10, 11, 4]
    with pytest.raises(Conflict, match="turn number 12 is given to two messages"):
        await memory.add_messages([turn(), turn(12)], user_id="u", session_id="s")
    assert len(await memory.list_messages(user_id="u", session_id="s")) == 6


async def test_concurrent_appends_to_one_session_number_turns_once_each(
    memory: AsyncMemory,
) -> None:
    """Twenty writers append three turns each to one session at once, half of them for
    extraction, then all retry with the same idempotency keys: every turn is stored once,
    numbered 1..60 with each call's turns together, and registered for extraction once."""

    def batch(writer: int) -> list[dict[str, Any]]:
        return [
            {
                "role": "user",
                "content": f"writer {writer} turn {j}",
                "idempotency_key": f"{writer}:{j}",
            }
            for j in range(3)
        ]

    async def write(writer: int) -> list[str]:
        if writer % 2:
            result = await memory.add(batch(writer), user_id="u", session_id="s", infer=True)
            return result.ids
        return await memory.add_messages(batch(writer), user_id="u", session_id="s")

    first = await asyncio.gather(*(write(w) for w in range(20)))
    again = await asyncio.gather(*(write(w) for w in range(20)))
    assert again == first
    listed = await memory.list_messages(user_id="u", session_id="s", limit=1_000)
    assert [m.turn_number for m in listed] == list(range(1, 61))
    by_id = {m.id: m for m in listed}
    for writer, ids in enumerate(first):
        turns = [by_id[i].turn_number for i in ids]
        assert turns == list(range(turns[0], turns[0] + 3))
        assert [by_id[i].content for i in ids] == [t["content"] for t in batch(writer)]
    pending = await scalar(memory, "SELECT count(DISTINCT message_id) FROM message_extractions")
    assert pending == 30
    # One job per call for extraction, retries included (a user's job drains all).
    jobs = await scalar(
        memory, "SELECT count(*) FROM procrastinate_jobs WHERE task_name = %s", "mnemo.extract"
    )
    assert jobs == 20
    seqs = await memory.db.fetch("SELECT message_id, seq FROM message_extractions ORDER BY seq")
    assert len({r["seq"] for r in seqs}) == 30


async def test_a_step_failing_midway_leaves_nothing_written(memory: AsyncMemory) -> None:
    """The job insert is the last step: when it fails (a queueing lock already held),
    the turns and ledger rows written before it in the same call are rolled back."""
    await memory.add_messages([], user_id="u")  # opens the engine
    service = memory._messages
    scope = Scope(memory.config.tenant_id, "u", session_id="s")
    store, session, prepare = service.store, session_of(scope), service.prepare
    job = JobRequest(task="mnemo.extract", queue="mnemo.extraction", queueing_lock="only-one")
    first = await store.append(
        session, prepare(scope, [{"role": "user", "content": "one"}]), model=None, extraction=job
    )
    assert first.ledger_seq > 0 and [r.turn_number for r in first.records] == [1]
    with pytest.raises(Conflict):
        await store.append(
            session,
            prepare(
                scope, [{"role": "user", "content": "two"}, {"role": "user", "content": "three"}]
            ),
            model=None,
            extraction=job,
        )
    assert await scalar(memory, "SELECT count(*) FROM messages") == 1
    assert await scalar(memory, "SELECT count(*) FROM message_extractions") == 1
    assert await scalar(memory, "SELECT count(*) FROM procrastinate_jobs") == 1
    # The session lock was released with the rollback: the next append goes through.
    later = await store.append(
        session,
        prepare(scope, [{"role": "user", "content": "two"}]),
        model=None,
        extraction=extract_job(memory.config.tenant_id, "u"),
    )
    assert [r.turn_number for r in later.records] == [2]
    assert later.ledger_seq > first.ledger_seq
