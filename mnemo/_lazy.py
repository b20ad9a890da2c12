"""Memory kinds reachable before the engine is open: the engine opens on first use.

``AsyncMemory`` opens on its first call; its kinds (``m.settings``, ``m.kv``,
``m.working``, ...) are built from the open pool and cache. Until then the
engine's property hands out an ``OpensOnUse`` stand-in: calling one of its
methods opens the engine, then calls the real kind's method.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol


class Opening(Protocol):
    """What ``OpensOnUse`` needs from the engine."""

    async def open(self) -> Any: ...


class OpensOnUse:
    """Stands in for ``getattr(engine, name)`` until the engine is open.

    Only coroutine methods can be reached this way (every kind's public API is).
    """

    def __init__(self, engine: Opening, name: str) -> None:
        self._engine = engine
        self._name = name

    def __getattr__(self, method: str) -> Callable[..., Awaitable[Any]]:
        if method.startswith("_"):
            raise AttributeError(method)

        async def call(*args: Any, **kwargs: Any) -> Any:
            await self._engine.open()
            return await getattr(getattr(self._engine, self._name), method)(*args, **kwargs)

        call.__name__ = call.__qualname__ = method
        return call

    def __repr__(self) -> str:
        return f"OpensOnUse({self._name!r})"
