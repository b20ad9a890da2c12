"""``mnemo mcp --user U``: the MCP server on stdio, for one user, on the configured store.

An MCP client (Claude Desktop, an IDE, an agent framework) starts this command
and talks to it over stdin/stdout. The user comes from ``--user`` only: no tool
can switch to another one. See docs/mcp.md.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from mnemo.cli._common import add_store_options, config_from
from mnemo.core.validation import require_scope_id
from mnemo.errors import ConfigurationError


def register(subparsers: Any) -> None:
    mcp = subparsers.add_parser("mcp", help="serve the MCP tools on stdio for one user")
    mcp.add_argument("--user", required=True, help="the user every tool call acts for")
    add_store_options(mcp)
    mcp.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    user = require_scope_id(args.user, "--user") or ""
    try:
        from mnemo.mcp.stdio import serve_stdio
    except ImportError as exc:
        raise ConfigurationError(
            f"mnemo mcp needs the mcp extra: pip install 'mnemo[mcp]' ({exc})"
        ) from exc
    asyncio.run(serve_stdio(config_from(args), user))
    return 0
