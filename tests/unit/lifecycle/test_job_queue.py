"""Job definitions: back-off, locks, requests (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from procrastinate.jobs import Job

from mnemo.config import LifecycleConfig
from mnemo.lifecycle.jobs import (
    EXTRACT,
    EXTRACTION_QUEUE,
    BackoffRetry,
    extract_job,
    optimize_job,
    user_lock,
)


def job(attempts: int) -> Job:
    return Job(id=1, queue="q", lock=None, queueing_lock=None, task_name="t", attempts=attempts)


def test_retries_back_off_exponentially_up_to_a_cap_then_stop() -> None:
    retry = BackoffRetry(attempts=4, base_seconds=2, max_seconds=5)
    delays = [retry.delay(a) for a in range(4)]
    assert delays == [2, 4, 5, 5]
    before = datetime.now(UTC)
    decision = retry.get_retry_decision(exception=RuntimeError(), job=job(1))
    assert decision is not None and decision.retry_at is not None
    assert 3.5 <= (decision.retry_at - before).total_seconds() <= 5
    assert retry.get_retry_decision(exception=RuntimeError(), job=job(3)) is None


def test_retry_follows_the_configuration() -> None:
    retry = BackoffRetry.from_config(LifecycleConfig(job_attempts=2, retry_base_seconds=0.5))
    assert retry.get_retry_decision(exception=RuntimeError(), job=job(0)) is not None
    assert retry.get_retry_decision(exception=RuntimeError(), job=job(1)) is None


def test_a_users_jobs_share_one_lock_that_no_name_can_forge() -> None:
    assert extract_job("t", "u").lock == optimize_job("t", "u").lock == user_lock("t", "u")
    assert user_lock("a:b", "c") != user_lock("a", "b:c")
    request = extract_job("t", "u")
    assert (request.task, request.queue, request.args) == (
        EXTRACT,
        EXTRACTION_QUEUE,
        {"tenant_id": "t", "user_id": "u"},
    )


@pytest.mark.parametrize("attempts", [0, 5, 1_000])
def test_delay_never_exceeds_the_cap(attempts: int) -> None:
    assert BackoffRetry(attempts=9, base_seconds=1, max_seconds=60).delay(attempts) <= 60


async def test_a_driver_error_raised_by_a_cancellation_still_cancels() -> None:
    import asyncio

    from mnemo.lifecycle.cancellation import raise_if_cancelling

    async def query() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError as cancelled:
            try:
                raise RuntimeError("canceling statement due to user request") from cancelled
            except RuntimeError as driver_error:  # what a retry loop would catch
                raise_if_cancelling(driver_error)
                raise AssertionError("swallowed the cancellation") from driver_error

    task = asyncio.create_task(query())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    raise_if_cancelling(RuntimeError("an ordinary failure"))  # not cancelling: no effect
