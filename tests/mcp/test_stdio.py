"""``mnemo mcp --user U`` as a real process, driven over stdio by the SDK's client."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest
from mcp import Client, StdioServerParameters

from mnemo.mcp import TOOLS
from tests.mcp.conftest import error_text, structured

pytestmark = pytest.mark.slow


def mnemo_mcp(user: str, **env: str) -> StdioServerParameters:
    """``mnemo mcp --user <user>`` with only this configuration (no network provider)."""
    inherited = {
        name: value for name, value in os.environ.items()
        if not name.startswith(("MNEMO_", "POSTGRES_")) and not name.endswith("_API_KEY")
    }  # fmt: skip
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "mnemo.cli.main", "mcp", "--user", user],
        env={**inherited, "HF_HUB_OFFLINE": "1", **env},
    )


async def test_stdio_serves_one_user(database_url: str) -> None:
    env = {"MNEMO_DATABASE_URL": database_url, "MNEMO_IN_PROCESS_WORKER": "true"}
    async with Client(mnemo_mcp("alice", **env), read_timeout_seconds=120) as alice:
        assert {t.name for t in (await alice.list_tools()).tools} == {s.name for s in TOOLS}
        added = structured(
            await alice.call_tool("add_memory", {"content": "Alice flies to Oslo on May 3"})
        )
        assert added["user_id"] == "alice"
        hits = structured(await alice.call_tool("search_memories", {"query": "trip to Oslo"}))
        assert hits["results"][0]["id"] == added["id"]
        turns = [{"role": "user", "content": "My sister Ines lives in Lisbon."}]
        stored = structured(await alice.call_tool("add_conversation", {"turns": turns}))
        assert len(stored["ids"]) == 1
    async with Client(mnemo_mcp("bob", **env), read_timeout_seconds=120) as bob:
        refused = await bob.call_tool("get_memory", {"memory_id": added["id"]})
        assert "NotFound" in error_text(refused)
        assert structured(await bob.call_tool("list_memories", {}))["items"] == []
    with psycopg.connect(database_url) as conn:
        owners = conn.execute("SELECT DISTINCT user_id FROM messages").fetchall()
    assert owners == [("alice",)]


async def test_stdio_on_the_embedded_default() -> None:
    """No database configured: the embedded PostgreSQL starts, and nothing it prints
    reaches the protocol on stdout."""
    # Not under pytest's temp root, which another session may make unreachable to the
    # server's own OS user (see tests/conftest.py).
    data_dir = Path(tempfile.mkdtemp(prefix="mnemo-mcp-test-"))
    env = {"MNEMO_DATA_DIR": str(data_dir)}
    async with Client(mnemo_mcp("carol", **env), read_timeout_seconds=180) as carol:
        added = structured(await carol.call_tool("add_memory", {"content": "Carol likes tea"}))
        found = structured(await carol.call_tool("search_memories", {"query": "tea"}))
        assert found["results"][0]["id"] == added["id"]
    shutil.rmtree(data_dir, ignore_errors=True)


def test_a_blank_user_is_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mnemo.cli.main", "mcp", "--user", " "],
        capture_output=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert b"--user must be a non-empty string" in done.stderr
    assert done.stdout == b""
