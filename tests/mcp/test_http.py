"""``/mcp`` of a real ``mnemo serve`` process, driven by the SDK's client over HTTP:
API keys, tenants, users bound to keys, ids of other users, metrics."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from psycopg.conninfo import conninfo_to_dict

from tests.conftest import create_database, drop_database, with_database
from tests.mcp.conftest import error_text, structured
from tests.service.conftest import PEPPER
from tests.service.test_serve import free_port, run_cli, wait_until_ready

pytestmark = pytest.mark.slow
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "probe", "version": "0"},
    },
}
ACCEPT = {"Accept": "application/json, text/event-stream"}


@dataclass
class Served:
    url: str
    keys: dict[str, str]  # alpha, beta (tenant-wide), alice (alpha, bound to alice)


@pytest.fixture(scope="module")
def served(
    server_url: str, template_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    name = f"mnemo_mcp_{uuid.uuid4().hex[:12]}"
    create_database(server_url, name, template=conninfo_to_dict(template_url)["dbname"])
    database_url = with_database(server_url, name)
    env = {
        **os.environ,
        "MNEMO_API_KEY_PEPPER": PEPPER,
        "MNEMO_AUTH": "keys",
        "MNEMO_DATABASE_URL": database_url,
        "MNEMO_AUTH_CACHE_SECONDS": "0",
    }

    def key(*args: str) -> str:
        return run_cli("keys", "create", *args, env=env).split()[0]

    keys = {
        "alpha": key("--tenant", "alpha"),
        "beta": key("--tenant", "beta"),
        "alice": key("--tenant", "alpha", "--user", "alice"),
    }
    port = free_port()
    log = tmp_path_factory.mktemp("mcp-serve") / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "mnemo.cli.main", "serve", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base, process, log)
        yield Served(base, keys)
    finally:
        process.terminate()
        process.wait(timeout=60)
        drop_database(server_url, name)
    assert "Traceback" not in Path(log).read_text(), Path(log).read_text()[-3000:]


@asynccontextmanager
async def connect(
    served: Served, key: str | None, user: str | None = None
) -> AsyncIterator[Client]:
    """The SDK's client on ``/mcp`` with this key (by name) and ``X-Mnemo-User``."""
    headers = {"Authorization": f"Bearer {served.keys.get(key, key)}"} if key else {}
    if user is not None:
        headers["X-Mnemo-User"] = user
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(
            httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60.0))
        )
        transport = streamable_http_client(f"{served.url}/mcp", http_client=http)
        yield await stack.enter_async_context(Client(transport))


def post(served: Served, key: str | None, **headers: str) -> httpx.Response:
    """A raw MCP initialize request."""
    if key:
        headers["Authorization"] = f"Bearer {served.keys.get(key, key)}"
    return httpx.post(f"{served.url}/mcp", json=INITIALIZE, headers={**ACCEPT, **headers})


def test_without_a_valid_key_the_answer_is_401(served: Served) -> None:
    for key in (None, "mk_" + "a" * 12 + "_" + "b" * 43, "not-a-key"):
        answer = post(served, key, **{"X-Mnemo-User": "alice"})
        assert answer.status_code == 401, key
        assert answer.json()["error"]["type"] == "Unauthenticated"
        assert answer.headers["www-authenticate"] == "Bearer"
    assert post(served, "alpha", **{"X-Mnemo-User": "alice"}).status_code == 200


async def test_the_sdk_client_without_a_key_cannot_connect(served: Served) -> None:
    with pytest.raises((MCPError, httpx2.HTTPStatusError, ExceptionGroup)):
        async with connect(served, None, "alice") as client:
            await client.list_tools()


async def test_a_tenant_cannot_see_another_tenant(served: Served) -> None:
    async with connect(served, "alpha", "dana") as alpha:
        secret = structured(
            await alpha.call_tool("add_memory", {"content": "Dana's locker code is 2231"})
        )
        assert secret["user_id"] == "dana"
    async with connect(served, "beta", "dana") as beta:
        found = structured(await beta.call_tool("search_memories", {"query": "locker code"}))
        assert found["results"] == []
        assert structured(await beta.call_tool("list_memories", {}))["items"] == []
        for tool in ("get_memory", "delete_memory"):
            refused = await beta.call_tool(tool, {"memory_id": secret["id"]})
            assert "NotFound" in error_text(refused), tool
    async with connect(served, "alpha", "dana") as alpha:
        kept = structured(await alpha.call_tool("get_memory", {"memory_id": secret["id"]}))
        assert kept["memory"]["content"] == "Dana's locker code is 2231"


async def test_a_user_bound_key_acts_for_its_user_only(served: Served) -> None:
    async with connect(served, "alice") as alice:  # no header needed
        mine = structured(await alice.call_tool("add_memory", {"content": "Alice owns a kayak"}))
        assert mine["user_id"] == "alice"
    async with connect(served, "alice", "alice") as alice:  # naming herself is fine
        assert structured(await alice.call_tool("get_memory", {"memory_id": mine["id"]}))
    answer = post(served, "alice", **{"X-Mnemo-User": "bob"})
    assert answer.status_code == 403
    assert answer.json()["error"]["message"] == "this API key acts for one user only, not 'bob'"
    async with connect(served, "alpha", "alice") as tenant_wide:
        seen = structured(await tenant_wide.call_tool("search_memories", {"query": "kayak"}))
        assert [hit["id"] for hit in seen["results"]] == [mine["id"]]


async def test_an_id_of_another_user_is_refused(served: Served) -> None:
    async with connect(served, "alpha", "erin") as erin:
        theirs = structured(await erin.call_tool("add_memory", {"content": "Erin's PIN is 9981"}))
    async with connect(served, "alpha", "frank") as frank:
        for tool, extra in (("get_memory", {}), ("update_memory", {"content": "x"}),
                            ("delete_memory", {})):  # fmt: skip
            refused = await frank.call_tool(tool, {"memory_id": theirs["id"], **extra})
            assert f"NotFound: no memory with id {theirs['id']}" in error_text(refused)
    async with connect(served, "alpha", "erin") as erin:
        kept = structured(await erin.call_tool("get_memory", {"memory_id": theirs["id"]}))
        assert kept["memory"]["content"] == "Erin's PIN is 9981"
        assert [event["event"] for event in kept["history"]] == ["add"]


def test_a_user_bound_key_is_refused_by_the_rest_api(served: Served) -> None:
    rest = httpx.get(
        f"{served.url}/api/v1/memories",
        params={"user_id": "bob"},
        headers={"Authorization": f"Bearer {served.keys['alice']}"},
    )
    assert rest.status_code == 403 and "serves only /mcp" in rest.json()["error"]["message"]


def test_a_tenant_wide_key_must_name_the_user(served: Served) -> None:
    answer = post(served, "alpha")
    assert answer.status_code == 422
    assert "X-Mnemo-User" in answer.json()["error"]["message"]
    too_long = post(served, "alpha", **{"X-Mnemo-User": "u" * 256})
    assert too_long.status_code == 422


async def test_mcp_requests_and_tool_calls_are_in_the_metrics(served: Served) -> None:
    await asyncio.to_thread(post, served, "alpha", **{"X-Mnemo-User": "gail"})
    await asyncio.to_thread(post, served, None, **{"X-Mnemo-User": "gail"})  # 401
    async with connect(served, "alpha", "gail") as gail:
        structured(await gail.call_tool("add_memory", {"content": "Gail swims on Tuesdays"}))
        structured(await gail.call_tool("search_memories", {"query": "swimming"}))
        error_text(await gail.call_tool("get_memory", {"memory_id": "not-an-id"}))
        error_text(await gail.call_tool("search_memories", {"query": ""}))  # fails validation
        error_text(await gail.call_tool("drop_everything", {}))
    async with httpx2.AsyncClient() as http:
        metrics = (await http.get(f"{served.url}/metrics")).text
    assert 'mnemo_http_requests_total{method="POST",route="/mcp",status="200"}' in metrics
    assert 'route="/mcp",status="401"' in metrics, [
        line for line in metrics.splitlines() if "401" in line or "auth_fail" in line
    ]
    calls = {
        line.split("{")[1].split("}")[0]: float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("mnemo_mcp_tool_calls_total{")
    }
    assert calls['outcome="ok",tool="add_memory"'] >= 1
    assert calls['outcome="ok",tool="search_memories"'] >= 1
    assert calls['outcome="error",tool="search_memories"'] >= 1
    assert calls['outcome="error",tool="get_memory"'] >= 1
    assert calls['outcome="error",tool="unknown"'] >= 1  # no label per made-up name
    assert "drop_everything" not in metrics
    assert 'mnemo_mcp_tool_duration_seconds_count{tool="add_memory"}' in metrics
