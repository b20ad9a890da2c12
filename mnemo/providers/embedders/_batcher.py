"""Concurrent embedding calls gathered into one model run, without a waiting window.

A call that finds the model idle runs at once, alone: no latency is added when
nothing else is in flight. Calls that arrive while a run is in progress queue
up, and when it ends they go together as the next run (up to ``max_texts``
texts). Under load the batches grow by themselves; idle, they are single calls.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import numpy as np

from mnemo.providers.embedders.base import Vectors

RunBatch = Callable[[list[str]], Awaitable[Vectors]]


@dataclass(slots=True)
class _Call:
    texts: list[str]
    result: asyncio.Future[Vectors]


class MicroBatcher:
    """Runs ``run_batch`` over the texts of all calls waiting while the previous run lasts.

    Bound to the event loop of its first call; a call from another loop runs on its own.
    """

    def __init__(self, run_batch: RunBatch, max_texts: int = 16) -> None:
        self._run_batch = run_batch
        self._max_texts = max_texts
        self._queue: deque[_Call] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._draining: asyncio.Task[None] | None = None
        #: Runs made and calls served, for the benchmark and tests.
        self.runs = 0
        self.calls = 0

    async def embed(self, texts: list[str]) -> Vectors:
        """The vectors of ``texts``, computed in the next run with whatever else is waiting."""
        loop = asyncio.get_running_loop()
        if self._loop is None or self._loop.is_closed():
            self._loop = loop
        if loop is not self._loop:
            return await self._run_batch(texts)
        call = _Call(texts, loop.create_future())
        self._queue.append(call)
        if self._draining is None or self._draining.done():
            self._draining = loop.create_task(self._drain())
        return await call.result

    async def _drain(self) -> None:
        while self._queue:
            batch = self._next_batch()
            if not batch:
                continue
            texts = [text for call in batch for text in call.texts]
            try:
                vectors = await self._run_batch(texts)
            except asyncio.CancelledError:  # the loop is going away: so are the waiting calls
                for call in [*batch, *self._queue]:
                    call.result.cancel()
                raise
            except Exception as exc:  # every caller of the run sees its failure, typed as is
                for call in batch:
                    if not call.result.done():
                        call.result.set_exception(exc)
                continue
            self.runs += 1
            self.calls += len(batch)
            bounds = np.cumsum([0] + [len(call.texts) for call in batch])
            for call, start, end in zip(batch, bounds[:-1], bounds[1:], strict=True):
                if not call.result.done():  # a caller cancelled while waiting is skipped
                    call.result.set_result(vectors[start:end])

    def _next_batch(self) -> list[_Call]:
        """Waiting calls, oldest first, up to ``max_texts`` texts (always at least one call)."""
        batch: list[_Call] = []
        size = 0
        while self._queue:
            call = self._queue[0]
            if call.result.done():  # cancelled before its turn
                self._queue.popleft()
                continue
            if batch and size + len(call.texts) > self._max_texts:
                break
            batch.append(self._queue.popleft())
            size += len(call.texts)
        return batch
