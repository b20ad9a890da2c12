"""A dedicated thread for a local model, so CPU-bound inference never blocks the event loop."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class ModelThread:
    """Runs a local model's calls one at a time on one long-lived thread.

    One dedicated thread rather than ``asyncio.to_thread``'s shared pool: native
    runtimes (OpenMP, onnxruntime) keep their worker teams attached to the thread
    that calls them, so always calling from the same thread avoids building a
    new team per pool thread, and calls are serialised for free. The thread
    starts on the first call and stops at ``close()``; a later call starts a new one.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._executor: ThreadPoolExecutor | None = None

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(*args, **kwargs)`` on the model thread and await its result."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._name)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        """Let the thread finish the calls already submitted, then stop; never blocks."""
        if self._executor is not None:
            # Not cancel_futures: a caller awaiting a queued call would see a
            # CancelledError it never asked for.
            self._executor.shutdown(wait=False)
            self._executor = None
