"""Gather every requested section (concurrently by default), each within a timeout,
then compose them.

The query is embedded once, up front, by ``warm_query`` (which fills the
engine's query-vector cache); the sections that search (memories, entities,
documents) wait for it and then find the vector cached, while the others run
alongside. A section whose source times out or fails with a ``MnemoError``
(PostgreSQL, the embedder, ...) is reported in the result and the context is
composed from the rest; ``InvalidInput`` (bad input) is raised, and so is
anything unexpected — the other sections are cancelled then.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from mnemo.core.tokens import TokenCounter, default_token_counter
from mnemo.errors import InvalidInput, MnemoError
from mnemo.orchestrator.compose import Gathered, compose
from mnemo.orchestrator.request import ContextRequest
from mnemo.orchestrator.result import ContextResult
from mnemo.orchestrator.sources import SOURCES, Plan, Source

if TYPE_CHECKING:
    from mnemo.orchestrator.reader import MemoryReader

__all__ = ["DEFAULT_SECTION_TIMEOUT", "build_context"]

#: Seconds a section may take before the context is composed without it.
DEFAULT_SECTION_TIMEOUT = 2.0


async def build_context(
    engine: MemoryReader,
    request: ContextRequest,
    *,
    warm_query: Callable[[], Awaitable[Any]],
    parallel: bool = True,
    section_timeout: float = DEFAULT_SECTION_TIMEOUT,
    counter: TokenCounter | None = None,
) -> ContextResult:
    """The context ``request`` asks for, from ``engine``'s memory kinds (see module)."""
    if not 0 < section_timeout < float("inf"):
        raise InvalidInput(f"section_timeout must be a positive number, got {section_timeout}")
    started = time.perf_counter()
    scope = engine.scope(request.user_id, agent_id=request.agent_id, session_id=request.session_id)
    plan = Plan(scope, request.query, request.max_total_tokens)
    names = request.section_names
    timings: dict[str, float] = {}
    vector = _Warmup(warm_query, timings) if any(SOURCES[n][1] for n in names) else None
    if vector is not None:
        vector.start()  # first, so the searching sections wait as little as possible
    runs = [_runner(name, plan, engine, vector, section_timeout) for name in names]
    try:
        gathered = await (_concurrently(runs) if parallel else _one_by_one(runs))
    finally:
        if vector is not None:
            vector.cancel()  # nothing of this request outlives it
    composing = time.perf_counter()
    counter = counter or default_token_counter()
    composition = compose(
        gathered, max_tokens=plan.max_tokens, shares=request.shares, counter=counter
    )
    timings.update({g.name: g.elapsed_ms for g in gathered})
    timings["compose"] = _ms_since(composing)
    timings["total"] = _ms_since(started)
    return ContextResult(
        text=composition.text,
        tokens=composition.tokens,
        max_tokens=plan.max_tokens,
        sections=composition.sections,
        dropped=composition.dropped,
        timings_ms=timings,
        query=request.query,
        user_id=scope.user_id,
        session_id=scope.session_id,
        agent_id=scope.agent_id,
        token_counter=counter.name,
    )


class _Warmup:
    """The query's embedding, started before the sections and shared by those that search."""

    def __init__(self, warm: Callable[[], Awaitable[Any]], timings: dict[str, float]) -> None:
        self._warm = warm
        self._timings = timings
        self._task: asyncio.Task[None] | None = None

    def start(self) -> asyncio.Task[None]:
        """Start embedding (once); the task doing it."""
        if self._task is None:
            self._task = asyncio.ensure_future(self._embed())
            self._task.add_done_callback(_retrieve)
        return self._task

    async def ready(self) -> None:
        # Shielded: a section timing out must not cancel what the others await.
        await asyncio.shield(self.start())

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def _embed(self) -> None:
        start = time.perf_counter()
        try:
            await self._warm()
        finally:
            self._timings["embed_query"] = _ms_since(start)


def _retrieve(task: asyncio.Task[None]) -> None:
    """Mark a failed warm-up's error as seen: the sections waiting on it report it."""
    if not task.cancelled():
        task.exception()


Run = Callable[[], Awaitable[Gathered]]


def _runner(
    name: str, plan: Plan, engine: MemoryReader, vector: _Warmup | None, timeout: float
) -> Run:
    source, needs_vector = SOURCES[name]
    return lambda: _run(name, source, needs_vector, plan, engine, vector, timeout)


async def _run(
    name: str,
    source: Source,
    needs_vector: bool,
    plan: Plan,
    engine: MemoryReader,
    vector: _Warmup | None,
    timeout: float,
) -> Gathered:
    start = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            if needs_vector and vector is not None:
                await vector.ready()
            found = await source(engine, plan)
    except TimeoutError:
        error = f"no answer within {timeout:g} s"
        return Gathered(name, status="timeout", error=error, elapsed_ms=_ms_since(start))
    except InvalidInput:
        raise
    except MnemoError as exc:
        error = f"{type(exc).__name__}: {exc.message}"
        return Gathered(name, status="failed", error=error, elapsed_ms=_ms_since(start))
    return Gathered(
        name, tuple(found.candidates), "ok", None, _ms_since(start), found.info, found.records
    )


async def _concurrently(runs: Sequence[Run]) -> list[Gathered]:
    """Every run at once; the first exception cancels the rest and is raised."""
    tasks = [asyncio.ensure_future(run()) for run in runs]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        pending = [task for task in tasks if not task.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    for task in tasks:
        if not task.cancelled() and (error := task.exception()) is not None:
            raise error
    return [task.result() for task in tasks]


async def _one_by_one(runs: Sequence[Run]) -> list[Gathered]:
    return [await run() for run in runs]


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000
