"""The MCP server on stdio for one user: what ``mnemo mcp --user U`` runs.

The engine opens on the configured store (the embedded PostgreSQL by default,
offline) before the server reads its first message, and closes, flushing, when
the client closes stdin. Logs go to stderr; stdout carries only the protocol.
"""

from __future__ import annotations

from mnemo.config import MnemoConfig
from mnemo.engine import AsyncMemory
from mnemo.mcp.identity import fixed_caller
from mnemo.mcp.server import build_server


async def serve_stdio(config: MnemoConfig, user_id: str) -> None:
    """Serve ``user_id``'s memory of ``config``'s tenant until stdin closes."""
    async with AsyncMemory(config) as memory:
        server = build_server(fixed_caller(memory, user_id))
        await server.run_stdio_async()
