"""Run mnemo's job worker as a process: until SIGINT / SIGTERM, or until the queue is empty.

The engine is opened with its in-process worker off (this process *is* the
worker), pending turns whose job was lost are re-queued, and a
:class:`~mnemo.lifecycle.jobs.WorkerRunner` runs. On SIGINT / SIGTERM running
jobs get ``shutdown_seconds`` to finish; jobs still running are aborted and
retried later. A SIGKILL leaves them ``doing``: another worker retries them once
this one's heartbeat is ``stalled_after_seconds`` old.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from dataclasses import replace

from mnemo.config import MnemoConfig
from mnemo.engine import AsyncMemory
from mnemo.lifecycle.jobs import WorkerOptions

__all__ = ["run_worker"]

logger = logging.getLogger(__name__)


async def run_worker(config: MnemoConfig, options: WorkerOptions) -> None:
    """Run a worker on ``config``'s database with ``options`` (see the module docstring)."""
    lifecycle = replace(config.lifecycle, in_process_worker=False)
    async with AsyncMemory(replace(config, lifecycle=lifecycle)) as memory:
        requeued = await memory.requeue_pending()
        if requeued:
            logger.info("re-queued extraction for %d user(s) with pending turns", requeued)
        runner = memory.worker(options)
        task = asyncio.create_task(runner.run(), name="mnemo-worker")
        with _stopping_on_signals(task), contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.contextmanager
def _stopping_on_signals(task: asyncio.Task[None]) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, task.cancel)
    try:
        yield
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
