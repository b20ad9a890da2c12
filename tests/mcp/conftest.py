"""The MCP server over the SDK's own client: in process, as a process on stdio, over HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest

pytest.importorskip("mcp", reason="the mcp extra is not installed: pip install 'mnemo[mcp]'")

from mcp import Client
from mcp.types import CallToolResult

from mnemo import AsyncMemory, MnemoConfig
from mnemo.config import LifecycleConfig
from mnemo.mcp import build_server, fixed_caller

FAST_WORKER = LifecycleConfig(
    in_process_worker=True, heartbeat_seconds=0.3, wait_timeout_seconds=60, maintenance_cron=None
)


def structured(result: CallToolResult) -> dict[str, Any]:
    """A successful call's structured result (checked against its text twin)."""
    assert not result.is_error, result.content
    assert result.structured_content is not None
    text = result.content[0]
    assert json.loads(getattr(text, "text", "")) == result.structured_content
    return result.structured_content


def error_text(result: CallToolResult) -> str:
    """A failed call's message."""
    assert result.is_error, result.structured_content
    return str(getattr(result.content[0], "text", ""))


@pytest.fixture
async def engine(config: MnemoConfig) -> AsyncIterator[AsyncMemory]:
    """The test database's engine, with an in-process worker for extraction."""
    async with AsyncMemory(replace(config, lifecycle=FAST_WORKER)) as opened:
        yield opened


@asynccontextmanager
async def connect(engine: AsyncMemory, user_id: str) -> AsyncIterator[Client]:
    """The SDK's client on a server acting for ``user_id`` of the engine's tenant.

    (A context manager, not a fixture: the client's task group must be entered and
    left in the same task, the test's.)
    """
    async with Client(build_server(fixed_caller(engine, user_id))) as client:
        yield client
