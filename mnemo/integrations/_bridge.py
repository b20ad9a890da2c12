"""One async operation, callable from a framework's sync and async methods.

Frameworks call their integrations both ways (``invoke`` / ``ainvoke``, ``batch`` /
``abatch``). Each adapter writes its operations once, as coroutines over an
``AsyncMemory``, and ``Bridge`` runs them on the face the application gave:

- a ``Memory``: sync calls run on its own loop (``Memory.run``); async calls hop to
  a worker thread that does the same, so any event loop may await them;
- an ``AsyncMemory``: async calls await it on the caller's loop; sync calls are
  refused, since its connections belong to the loop that opened it.

With ``tenant_id`` every operation runs on ``for_tenant(tenant_id)``, a view of the
same engine bound to that tenant; otherwise on the tenant the engine was
configured with. Either way the tenant comes from configuration, never from what
the framework passes at call time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from mnemo.core.validation import require_scope_id
from mnemo.engine import AsyncMemory
from mnemo.errors import ConfigurationError
from mnemo.memory import Memory

R = TypeVar("R")
Operation = Callable[[AsyncMemory], Awaitable[R]]


class Bridge:
    """Runs adapter operations on a ``Memory`` or an ``AsyncMemory`` (module docs)."""

    def __init__(self, memory: Memory | AsyncMemory, *, tenant_id: str | None = None) -> None:
        if not isinstance(memory, (Memory, AsyncMemory)):
            raise ConfigurationError(
                f"memory must be a mnemo Memory or AsyncMemory, got {type(memory).__name__}"
            )
        self.memory = memory
        self.tenant_id = require_scope_id(tenant_id, "tenant_id", required=False)

    def run(self, operation: Operation[R]) -> R:
        """Run ``operation`` and return its result, blocking (needs a ``Memory``)."""
        if not isinstance(self.memory, Memory):
            raise ConfigurationError(
                "this adapter holds an AsyncMemory, whose connections belong to its event "
                "loop: use the framework's async methods, or give the adapter a mnemo.Memory"
            )
        return self.memory.run(self._on_tenant(self.memory.engine, operation))

    async def arun(self, operation: Operation[R]) -> R:
        """Await ``operation`` from any event loop."""
        memory = self.memory
        if isinstance(memory, Memory):
            return await asyncio.to_thread(
                lambda: memory.run(self._on_tenant(memory.engine, operation))
            )
        return await self._on_tenant(memory, operation)

    async def _on_tenant(self, engine: AsyncMemory, operation: Operation[R]) -> R:
        if self.tenant_id is not None:
            await engine.open()
            engine = engine.for_tenant(self.tenant_id)
        return await operation(engine)
