"""The MCP face under attack, in the style of ``test_attacks.py``: every case is refused
(an HTTP 4xx before any tool runs, or a tool error), or answered with nothing of the
victims; in every case no row of the victim tenant, nor of the victim user of the
attacker's own tenant, is read or changed.

Victims: tenant ``beta`` (user ``victim-user``: a memory, a document) and user
``neighbour`` of the attacker's tenant ``alpha``. The attacker holds a tenant-wide key
of ``alpha`` (acting as ``mallory`` through ``X-Mnemo-User``), a key of ``alpha`` bound
to ``mallory``, a revoked key, or no valid key at all.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest

pytest.importorskip("mcp", reason="the mcp extra is not installed: pip install 'mnemo[mcp]'")

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from mnemo.mcp import CONFIRM_ERASURE
from tests.conftest import copied_database
from tests.service.conftest import Service, attack_service
from tests.service.test_attacks import snapshot

SECRET = "beta-secret-launch-code-7731"
NEIGHBOUR_SECRET = "neighbour-safe-combination-0451"
VICTIM_USER = "victim-user"
ATTACKER = "mallory"
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@dataclass
class Arena:
    service: Service
    keys: dict[str, str]
    victim_memory_id: str
    neighbour_memory_id: str
    database_url: str


@dataclass(frozen=True)
class Knock:
    """A request to /mcp refused before any tool runs."""

    name: str
    statuses: tuple[int, ...]
    key: str | None = "attacker"  # a key's name in the arena, or a raw value
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass(frozen=True)
class Attack:
    """A tool call; ``refused`` is text its tool error must hold (``None``: it may
    succeed, but must show nothing of the victims)."""

    name: str
    tool: str
    arguments: Callable[[Arena], dict[str, Any]]
    refused: str | None
    key: str = "attacker"


def args(**values: Any) -> Callable[[Arena], dict[str, Any]]:
    """Arguments in which ``"{victim}"`` / ``"{neighbour}"`` name the victims' memory ids."""

    def build(arena: Arena) -> dict[str, Any]:
        ids = {"victim": arena.victim_memory_id, "neighbour": arena.neighbour_memory_id}
        return {k: v.format(**ids) if isinstance(v, str) else v for k, v in values.items()}

    return build


def rpc(method: str = "tools/list", params: dict[str, Any] | None = None) -> bytes:
    return json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
    ).encode()


KNOCKS: list[Knock] = [
    Knock("no key", (401,), key=None, headers={"X-Mnemo-User": ATTACKER}),
    Knock("forged key", (401,), key="forged", headers={"X-Mnemo-User": ATTACKER}),
    Knock("revoked key", (401,), key="revoked", headers={"X-Mnemo-User": ATTACKER}),
    Knock("malformed key", (401,), key="mk_' OR '1'='1", headers={"X-Mnemo-User": ATTACKER}),
    Knock("basic auth", (401,), key=None, headers={"Authorization": "Basic YWRtaW46YWRtaW4="}),
    Knock("victim tenant's user without a key", (401,), key=None,
          headers={"X-Mnemo-User": VICTIM_USER}),
    Knock("tenant-wide key naming no user", (422,)),
    Knock("user header too long", (422,), headers={"X-Mnemo-User": "u" * 256}),
    Knock("blank user header", (422,), headers={"X-Mnemo-User": "  "}),
    Knock("bound key naming the neighbour", (403,), key="bound",
          headers={"X-Mnemo-User": "neighbour"}),
    Knock("bound key naming the victim", (403,), key="bound",
          headers={"X-Mnemo-User": VICTIM_USER}),
    Knock("body over 1 MiB", (413,), headers={"X-Mnemo-User": ATTACKER},
          body=rpc("tools/call", {"name": "add_memory",
                                  "arguments": {"content": "x" * 1_100_000}})),
    Knock("tool call without a key", (401,), key=None, headers={"X-Mnemo-User": VICTIM_USER},
          body=rpc("tools/call", {"name": "list_memories", "arguments": {}})),
]  # fmt: skip

ATTACKS: list[Attack] = [
    # -- ids of other tenants and other users ---------------------------------------------
    Attack("read the victim tenant's memory", "get_memory", args(memory_id="{victim}"),
           "NotFound"),
    Attack("update the victim tenant's memory", "update_memory",
           args(memory_id="{victim}", content="pwned"), "NotFound"),
    Attack("delete the victim tenant's memory", "delete_memory", args(memory_id="{victim}"),
           "NotFound"),
    Attack("read the neighbour's memory", "get_memory", args(memory_id="{neighbour}"),
           "NotFound"),
    Attack("pin the neighbour's memory", "update_memory",
           args(memory_id="{neighbour}", pinned=True), "NotFound"),
    Attack("delete the neighbour's memory", "delete_memory", args(memory_id="{neighbour}"),
           "NotFound"),
    Attack("bound key reads the neighbour's memory", "get_memory",
           args(memory_id="{neighbour}"), "NotFound", key="bound"),
    Attack("bound key deletes the neighbour's memory", "delete_memory",
           args(memory_id="{neighbour}"), "NotFound", key="bound"),
    Attack("extraction state of the neighbour's memory id", "extraction_status",
           args(turn_ids=["{neighbour}"]), None),
    # -- identity smuggled in as arguments ------------------------------------------------
    Attack("user_id argument on search", "search_memories",
           args(query="safe combination", user_id="neighbour"), None),
    Attack("tenant_id argument on search", "search_memories",
           args(query="launch code", tenant_id="beta", user_id=VICTIM_USER), None),
    Attack("user_id argument on list", "list_memories", args(user_id=VICTIM_USER), None),
    Attack("user_id argument on erasure", "delete_all_memories",
           args(confirm=CONFIRM_ERASURE, user_id="neighbour"), None),
    Attack("victim's session as a scope", "search_memories",
           args(query="launch code", session_id=VICTIM_USER), None),
    Attack("search everything for the launch code", "search_all",
           args(query="the launch code"), None),
    Attack("context for the launch code", "get_context", args(query="what is the launch code?"),
           None),
    # -- confirmation, malformed and oversized input ----------------------------------------
    Attack("erasure without confirmation", "delete_all_memories", args(confirm="yes"),
           "nothing was deleted"),
    Attack("erasure with a near-miss confirmation", "delete_all_memories",
           args(confirm=CONFIRM_ERASURE.upper()), "nothing was deleted"),
    Attack("sql in a memory id", "get_memory", args(memory_id="1 OR 1=1"), "InvalidInput"),
    Attack("sql in an update's id", "update_memory",
           args(memory_id="'; DROP TABLE memories; --", content="x"), "InvalidInput"),
    Attack("sql operator in a filter", "search_memories",
           args(query="x", filters={"$where": "1=1"}), "InvalidFilter"),
    Attack("sql in a filter key (a bound parameter)", "list_memories",
           args(filters={"a'; DROP TABLE x; --": 1}), None),
    Attack("sql in as_of", "search_memories",
           args(query="x", as_of="now()); DROP TABLE memories; --"), "as_of"),
    Attack("sql in a kind", "add_memory", args(content="x", kind="note'; DROP TABLE m; --"),
           "kind"),
    Attack("content over the limit", "add_memory", args(content="x" * 100_001), "content"),
    Attack("metadata over 64 kB", "add_memory", args(content="x", metadata={"k": "x" * 70_000}),
           "InvalidInput"),
    Attack("page over the limit", "list_memories", args(limit=201), "limit"),
    Attack("more turns than a batch", "add_conversation",
           args(turns=[{"role": "user", "content": "x"}] * 1001), "at most 1000 turns"),
    Attack("a turn with an unknown role", "add_conversation",
           args(turns=[{"role": "root", "content": "x"}]), "InvalidInput"),
    Attack("context budget over the limit", "get_context",
           args(query="x", max_tokens=10**9), "max_tokens"),
    Attack("unknown source", "search_all", args(query="x", sources=["passwords"]), "sources"),
    Attack("a tool that does not exist", "run_sql", args(sql="SELECT * FROM memories"),
           "run_sql"),
]  # fmt: skip


@pytest.fixture(scope="module")
async def arena(server_url: str, template_url: str, embedder: Any) -> AsyncIterator[Arena]:
    with copied_database(server_url, template_url, "mnemo_mcp_attack") as url:
        async with attack_service(url, embedder) as (service, keys):
            keys["bound"] = await service.key("alpha", user_id=ATTACKER)
            engine = service.app.state.mnemo.engine
            beta, alpha = engine.for_tenant("beta"), engine.for_tenant("alpha")
            victim = await beta.add(SECRET, user_id=VICTIM_USER)
            await beta.documents.load("plan.md", f"The launch code is {SECRET}.",
                                      user_id=VICTIM_USER)  # fmt: skip
            neighbour = await alpha.add(NEIGHBOUR_SECRET, user_id="neighbour")
            await alpha.add("Mallory's own note", user_id=ATTACKER)
            await engine.flush()
            yield Arena(service, keys, victim.id, neighbour.id, url)


def victims(url: str) -> dict[str, Any]:
    """What must not change: every row of tenant beta, and the neighbour's rows."""
    with psycopg.connect(url) as conn:
        neighbour = conn.execute(
            "SELECT id, content, status, pinned, updated_at FROM memories"
            " WHERE tenant_id = 'alpha' AND user_id = 'neighbour' ORDER BY id"
        ).fetchall()
    return {"beta": snapshot(url, "beta"), "neighbour": neighbour}


@asynccontextmanager
async def mcp_client(arena: Arena, key: str) -> AsyncIterator[Client]:
    """The SDK's client on the app's /mcp, in process."""
    headers = {"Authorization": f"Bearer {arena.keys[key]}"}
    if key != "bound":
        headers["X-Mnemo-User"] = ATTACKER
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=arena.service.app),
            base_url="http://mnemo", headers=headers,
        ))  # fmt: skip
        transport = streamable_http_client("http://mnemo/mcp", http_client=http)
        yield await stack.enter_async_context(Client(transport))


@pytest.mark.parametrize("case", KNOCKS, ids=[c.name for c in KNOCKS])
async def test_refused_at_the_door_and_nothing_changed(arena: Arena, case: Knock) -> None:
    before = snapshot(arena.database_url)
    key = arena.keys.get(case.key, case.key) if case.key else None
    headers = {**ACCEPT, **({"Authorization": f"Bearer {key}"} if key else {}), **case.headers}
    async with arena.service.client() as client:
        response = await client.post("/mcp", content=case.body or rpc(), headers=headers)
    assert response.status_code in case.statuses, response.text[:300]
    assert response.json()["error"]["message"]
    assert SECRET not in response.text and NEIGHBOUR_SECRET not in response.text
    await arena.service.app.state.mnemo.engine.flush()
    assert snapshot(arena.database_url) == before


@pytest.mark.parametrize("case", ATTACKS, ids=[c.name for c in ATTACKS])
async def test_tool_attacks_reach_nothing_of_the_victims(arena: Arena, case: Attack) -> None:
    before = victims(arena.database_url)
    async with mcp_client(arena, case.key) as client:
        result = await client.call_tool(case.tool, case.arguments(arena))
    shown = json.dumps([c.model_dump() for c in result.content]) + json.dumps(
        result.structured_content
    )
    if case.refused is not None:
        assert result.is_error, shown[:300]
        assert case.refused in shown, shown[:300]
    assert SECRET not in shown and NEIGHBOUR_SECRET not in shown
    await arena.service.app.state.mnemo.engine.flush()
    assert victims(arena.database_url) == before


def test_the_suite_counts_its_cases() -> None:
    assert len(KNOCKS) + len(ATTACKS) >= 40
