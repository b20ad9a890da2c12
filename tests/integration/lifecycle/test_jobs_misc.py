"""Smaller jobs and faces: the summary fold as a job, ``mnemo worker --stats``."""

from __future__ import annotations

import asyncio

import pytest

from mnemo import AsyncMemory, InvalidInput, MnemoConfig
from mnemo.cli.main import main
from tests.integration.lifecycle.conftest import rows


async def test_a_session_summary_is_folded_by_a_job(engine: AsyncMemory, database_url: str) -> None:
    turns = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"Turn {i} is about {w}."}
        for i, w in enumerate(
            [
                "tea",
                "maps",
                "kites",
                "jazz",
                "rivers",
                "clocks",
                "owls",
                "bread",
                "ice",
                "moss",
                "salt",
                "fog",
            ]
        )
    ]
    await engine.add_messages(turns, user_id="alice", session_id="s1")
    job_id = await engine.summarize_later(user_id="alice", session_id="s1", buffer_window_size=4)
    assert job_id > 0
    for _ in range(200):
        folded = rows(database_url, "SELECT through_turn FROM summaries WHERE session_id = 's1'")
        if folded:
            break
        await asyncio.sleep(0.05)
    assert folded == [(8,)]  # every turn but the 4 newest


async def test_a_summary_job_needs_a_real_session(engine: AsyncMemory) -> None:
    with pytest.raises(InvalidInput):
        await engine.summarize_later(user_id="alice", session_id="")


def test_worker_stats_prints_the_queue_state(
    lifecycle_config: MnemoConfig, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["worker", "--stats", "--database-url", database_url]) == 0
    printed = capsys.readouterr().out
    assert '"extraction": {}' in printed
    assert '"live_workers": 0' in printed


async def test_a_burst_worker_empties_the_queue_even_behind_user_locks(
    lifecycle_config: MnemoConfig, database_url: str
) -> None:
    from dataclasses import replace

    from mnemo.lifecycle.jobs import WorkerOptions

    off = replace(lifecycle_config, lifecycle=replace(lifecycle_config.lifecycle,
                                                      in_process_worker=False))  # fmt: skip
    async with AsyncMemory(off) as memory:
        for user in ("ann", "ben"):
            for text in ("I love tea.", "I work at a bakery.", "I live in Oslo."):
                await memory.add([{"role": "user", "content": text}], user_id=user, infer=True)
        assert rows(database_url, "SELECT count(*) FROM procrastinate_jobs") == [(6,)]
        await memory.worker(WorkerOptions(burst=True, concurrency=2, poll_seconds=0.5)).run()
        await memory.flush()  # nothing left to wait for, and no worker needed to say so
    assert rows(database_url, "SELECT status::text, count(*) FROM procrastinate_jobs "
                              "GROUP BY 1") == [("succeeded", 6)]  # fmt: skip
    assert rows(database_url, "SELECT count(*) FROM memories") == [(6,)]
