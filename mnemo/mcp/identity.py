"""Who a tool call acts for: a tenant's engine view and one user, never a tool argument.

A prompt can make an agent pass any argument, so no tool takes a user or tenant
id. The transport decides: on stdio the user given to ``mnemo mcp --user``; over
HTTP the tenant of the API key and the user the key is bound to, or the one a
tenant-wide key names in the ``X-Mnemo-User`` header (see ``mnemo.mcp.http``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import Context

from mnemo.core.validation import require_scope_id
from mnemo.engine import AsyncMemory


@dataclass(frozen=True, slots=True)
class Caller:
    """The engine viewed as the caller's tenant, and the one user tools act for."""

    memory: AsyncMemory
    user_id: str

    def __post_init__(self) -> None:
        require_scope_id(self.user_id, "user_id")


#: Finds the caller of one tool call from its MCP request context.
CallerResolver = Callable[[Context[Any, Any]], Awaitable[Caller]]


def fixed_caller(memory: AsyncMemory, user_id: str) -> CallerResolver:
    """Every call acts for ``user_id`` of ``memory``'s tenant (stdio, in-process)."""
    caller = Caller(memory, user_id)

    async def resolve(_: Context[Any, Any]) -> Caller:
        return caller

    return resolve
