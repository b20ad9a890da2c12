"""Running a worker: procrastinate's worker plus the recovery of stalled jobs beside it.

A worker sends a heartbeat every ``heartbeat_seconds``. A worker that stops
sending them (killed, frozen, its machine gone) is *stalled* after
``stalled_after_seconds``; every running worker looks for jobs left ``doing`` by
stalled workers a few times per ``stalled_after_seconds`` and puts them back in
the queue, so a killed worker's job is retried by another. The extraction
ledger (``mnemo.store.postgres.extractions``) makes that retry harmless.

:class:`WorkerRunner` serves both ``mnemo worker`` (``run`` in the foreground)
and the engine's in-process worker (``start`` / ``stop`` in the background).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import procrastinate
from procrastinate import exceptions as queue_errors

from mnemo.errors import MnemoError
from mnemo.lifecycle.cancellation import raise_if_cancelling
from mnemo.lifecycle.jobs.queue import QUEUES

__all__ = ["WorkerOptions", "WorkerRunner"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    """How a worker runs."""

    concurrency: int = 2
    heartbeat_seconds: float = 10.0
    stalled_after_seconds: float = 30.0
    #: Seconds ``stop`` lets running jobs finish before aborting them (they are retried).
    shutdown_seconds: float = 10.0
    #: Polling fallback when a notification is missed.
    poll_seconds: float = 2.0
    name: str = "mnemo-worker"
    queues: tuple[str, ...] = QUEUES
    #: Stop once the queues are empty (after retrying stalled jobs) instead of waiting.
    burst: bool = False


class WorkerRunner:
    """One procrastinate worker (on the app's own pool), with stalled-job recovery."""

    def __init__(
        self,
        app: procrastinate.App,
        options: WorkerOptions,
        *,
        ready_jobs: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        self.app = app
        self.options = options
        self._ready_jobs = ready_jobs
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.error: BaseException | None = None

    @property
    def running(self) -> bool:
        """Whether the background worker is alive."""
        return self._task is not None and not self._task.done()

    async def run(self) -> None:
        """Run in the foreground until cancelled (burst mode: until the queues are empty)."""
        try:
            await self.app.open_async()
            await self._serve()
        finally:
            await self.app.close_async()

    async def start(self) -> None:
        """Open the queue's pool and run in the background (the in-process worker)."""
        await self.app.open_async()
        self._task = asyncio.create_task(self._serve(), name="mnemo-in-process-worker")
        self._task.add_done_callback(self._remember_failure)

    async def stop(self) -> None:
        """Stop the background worker (running jobs get ``shutdown_seconds`` to finish)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()  # ends the recovery loop even if a cancellation gets lost
        task.cancel()
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=self.options.shutdown_seconds + 10)
        except TimeoutError:
            logger.error("the in-process worker did not stop in time; abandoning it")
        finally:
            await self.app.close_async()

    async def _serve(self) -> None:
        if self.options.burst:
            await self._burst()
            return
        async with asyncio.TaskGroup() as group:
            group.create_task(self._work(), name="mnemo-worker")
            group.create_task(self._recover_forever(), name="mnemo-stalled-jobs")

    async def retry_stalled(self) -> int:
        """Put jobs of stalled workers back in the queue; how many."""
        manager = self.app.job_manager
        stalled = await manager.get_stalled_jobs(
            seconds_since_heartbeat=self.options.stalled_after_seconds
        )
        retried = 0
        for job in stalled:
            try:
                await manager.retry_job(job)
                retried += 1
                logger.warning("retrying job %s of a stalled worker (%s)", job.id, job.task_name)
            except queue_errors.ConnectorException as exc:  # another worker got there first
                raise_if_cancelling(exc)
                logger.info("stalled job %s not retried here: %s", job.id, exc)
        await manager.prune_stalled_workers(self.options.stalled_after_seconds)
        return retried

    async def _burst(self) -> None:
        """Work until no job is due. A pass ends when nothing can be fetched, which also
        happens while due jobs wait on a lock held by a running job; so pass again."""
        await self.retry_stalled()
        await self._work()
        while self._ready_jobs is not None and await self._ready_jobs() > 0:
            await asyncio.sleep(self.options.poll_seconds / 10)
            await self._work()

    async def _work(self) -> None:
        options = self.options
        await self.app.run_worker_async(
            queues=list(options.queues),
            concurrency=options.concurrency,
            name=options.name,
            install_signal_handlers=False,
            update_heartbeat_interval=options.heartbeat_seconds,
            stalled_worker_timeout=options.stalled_after_seconds,
            shutdown_graceful_timeout=options.shutdown_seconds,
            fetch_job_polling_interval=options.poll_seconds,
            abort_job_polling_interval=options.poll_seconds,
            delete_jobs="never",
            wait=not options.burst,
        )

    async def _recover_forever(self) -> None:
        interval = max(0.2, self.options.stalled_after_seconds / 3)
        while not self._stopping.is_set():
            try:
                await self.retry_stalled()
            except (queue_errors.ProcrastinateException, MnemoError) as exc:
                raise_if_cancelling(exc)
                # The database may be briefly away; the next round tries again.
                logger.warning("could not look for stalled jobs: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), interval)

    def _remember_failure(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.error = task.exception()
            logger.error("the in-process worker stopped: %r", self.error)
