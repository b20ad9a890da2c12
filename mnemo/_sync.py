"""Run the async engine from synchronous code: one event loop on one background thread."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from mnemo.errors import MnemoError

P = ParamSpec("P")
R = TypeVar("R")
Owner = TypeVar("Owner")
Engine = TypeVar("Engine")


class LoopThread:
    """A private event loop running on a daemon thread; ``run`` blocks until a coroutine ends."""

    def __init__(self, name: str = "mnemo-loop") -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, R]) -> R:
        if threading.current_thread() is self._thread:
            coroutine.close()
            raise MnemoError("a sync mnemo call cannot be made from inside mnemo's own loop")
        if self._loop.is_closed():
            coroutine.close()
            raise MnemoError("this Memory is closed")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def stop(self) -> None:
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


def blocking(
    method: Callable[Concatenate[Engine, P], Awaitable[R]],
) -> Callable[Concatenate[Any, P], R]:
    """The sync twin of an async engine method, for a class with ``_engine`` and ``_loop``."""

    def call(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return cast(R, self._loop.run(method(self._engine, *args, **kwargs)))

    functools.update_wrapper(call, method)
    return call


class SyncProxy:
    """A synchronous view of an async object: its coroutine methods block until done.

    ``Memory`` hands these out for the engine's memory kinds (``m.messages``, ...),
    so each kind is written once, async, and used from both faces.
    """

    def __init__(self, target: object, loop: LoopThread) -> None:
        self._target = target
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return value

        @functools.wraps(value)
        def call(*args: Any, **kwargs: Any) -> Any:
            result = value(*args, **kwargs)
            if asyncio.iscoroutine(result):
                return self._loop.run(result)
            return result

        return call

    def __repr__(self) -> str:
        return f"SyncProxy({self._target!r})"
