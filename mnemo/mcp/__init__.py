"""mnemo's MCP server: memory tools for agents, over stdio or streamable HTTP.

Needs the ``mcp`` extra (``pip install 'mnemo[mcp]'``). ``build_server`` makes
the server for a ``CallerResolver`` (who each call acts for); ``mnemo mcp
--user U`` serves it on stdio, ``mnemo serve`` at ``/mcp``. See docs/mcp.md.
"""

from __future__ import annotations

from mnemo.mcp.identity import Caller, CallerResolver, fixed_caller
from mnemo.mcp.server import TOOLS, build_server
from mnemo.mcp.tools import CONFIRM_ERASURE, ToolLimits

__all__ = [
    "CONFIRM_ERASURE",
    "TOOLS",
    "Caller",
    "CallerResolver",
    "ToolLimits",
    "build_server",
    "fixed_caller",
]
