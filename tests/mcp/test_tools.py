"""Every tool through the SDK's client against the server in process, on the real
PostgreSQL: what it stores and returns, its errors, and that it acts for one user."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from mcp import Client

from mnemo import AsyncMemory
from mnemo.mcp import CONFIRM_ERASURE, TOOLS, build_server, fixed_caller
from tests.mcp.conftest import connect, error_text, structured

READ_ONLY = {
    "search_memories", "get_context", "list_memories", "get_memory", "search_all",
    "extraction_status",
}  # fmt: skip
DESTRUCTIVE = {"delete_memory", "delete_all_memories"}


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    return structured(await client.call_tool(tool, arguments))


async def test_the_tools_are_listed_with_hints_and_descriptions(engine: AsyncMemory) -> None:
    async with connect(engine, "alice") as alice:
        listed = {tool.name: tool for tool in (await alice.list_tools()).tools}
        assert set(listed) == {spec.name for spec in TOOLS}
        for name, tool in listed.items():
            hints = tool.annotations
            assert hints is not None
            assert hints.read_only_hint is (name in READ_ONLY), name
            assert hints.destructive_hint is (name in DESTRUCTIVE), name
            assert hints.open_world_hint is False
            assert tool.output_schema is not None, f"{name} has no structured result"
            assert "Call it" in (tool.description or "") or "Only when" in (tool.description or "")
            arguments = tool.input_schema["properties"]
            assert not {"user_id", "tenant_id"} & set(arguments), f"{name} takes an identity"


async def test_add_search_get_update_delete(engine: AsyncMemory) -> None:
    async with connect(engine, "alice") as alice:
        added = await call(
                alice, "add_memory", content="Alice is allergic to peanuts", kind="fact",
                metadata={"topic": "health"}, importance=0.9,
            )  # fmt: skip
        assert added["user_id"] == "alice" and added["kind"] == "fact"
        assert "embedding" not in added
        await call(alice, "add_memory", content="Alice prefers window seats", kind="preference")

        found = await call(alice, "search_memories", query="what food allergies?", limit=5)
        top = found["results"][0]
        assert top["id"] == added["id"]
        assert {"relevance", "recency"} <= set(top["scores"]) and top["score"] > 0
        assert "embedding" not in top
        facts = await call(alice, "search_memories", query="seats", kinds=["preference"])
        assert [hit["kind"] for hit in facts["results"]] == ["preference"]
        filtered = await call(
            alice, "search_memories", query="peanuts", filters={"topic": "health"}
        )
        assert [hit["id"] for hit in filtered["results"]] == [added["id"]]

        changed = await call(
            alice, "update_memory", memory_id=added["id"],
            content="Alice is allergic to peanuts and cashews", pinned=True,
        )  # fmt: skip
        assert changed["pinned"] is True and "cashews" in changed["content"]
        shown = await call(alice, "get_memory", memory_id=added["id"])
        assert shown["memory"]["content"] == changed["content"]
        assert [event["event"] for event in shown["history"]] == ["add", "update"]

        assert await call(alice, "delete_memory", memory_id=added["id"]) == {"deleted": added["id"]}
        gone = await alice.call_tool("get_memory", {"memory_id": added["id"]})
        assert error_text(gone).endswith(f"NotFound: no memory with id {added['id']}")


async def test_search_as_of_sees_the_past(engine: AsyncMemory) -> None:
    async with connect(engine, "alice") as alice:
        old = await call(alice, "add_memory", content="Alice lives in Lyon")
        await engine.update(old["id"], "Alice lives in Porto")
        past = await call(alice, "search_memories", query="where does Alice live?",
                              as_of=old["created_at"])  # fmt: skip
        now = await call(alice, "search_memories", query="where does Alice live?")
        assert [h["content"] for h in now["results"]] == ["Alice lives in Porto"]
        assert past["results"] == [] or past["results"][0]["id"] == old["id"]


async def test_list_pages_and_statuses(engine: AsyncMemory) -> None:
    async with connect(engine, "alice") as alice:
        ids = [
            (await call(alice, "add_memory", content=f"note number {i}"))["id"] for i in range(3)
        ]
        page = await call(alice, "list_memories", limit=2)
        assert len(page["items"]) == 2 and page["next_offset"] == 2
        rest = await call(alice, "list_memories", limit=2, offset=2)
        assert rest["next_offset"] is None
        assert {m["id"] for m in page["items"] + rest["items"]} == set(ids)
        await call(alice, "delete_memory", memory_id=ids[0])
        deleted = await call(alice, "list_memories", status="deleted")
        assert [m["id"] for m in deleted["items"]] == [ids[0]]
        narrowed = await call(alice, "list_memories", contains="number 2")
        assert [m["id"] for m in narrowed["items"]] == [ids[2]]
        too_big = await alice.call_tool("list_memories", {"limit": 201})
        assert "limit must be at most 200" in error_text(too_big)


async def test_conversation_is_stored_and_extracted(engine: AsyncMemory) -> None:
    async with connect(engine, "alice") as alice:
        turns = [
            {"role": "user", "content": "I work as a nurse at the Royal Infirmary."},
            {"role": "assistant", "content": "Noted, that sounds demanding."},
        ]
        stored = await call(alice, "add_conversation", turns=turns, session_id="s1")
        assert len(stored["ids"]) == 2
        assert set(stored["extraction"].values()) <= {"pending", "done"}
        await engine.flush()
        status = await call(alice, "extraction_status", turn_ids=stored["ids"])
        assert status["counts"]["pending"] == 0 and status["counts"]["done"] >= 1
        first = status["turns"][stored["ids"][0]]
        assert first["status"] == "done" and first["memory_ids"]
        context = await call(alice, "get_context", query="Where do I work?", session_id="s1")
        assert "Royal Infirmary" in context["context"]
        assert context["tokens"] <= context["max_tokens"] == 2000
        assert {s["name"] for s in context["sections"]} >= {"recent_conversation", "vector_search"}

        verbatim = await call(alice, "add_conversation", turns=turns[:1], infer=False)
        assert verbatim["extraction"] == {} and len(verbatim["ids"]) == 1


async def test_search_all_merges_memories_and_documents(engine: AsyncMemory) -> None:
    async with connect(engine, "alice") as alice:
        await call(alice, "add_memory", content="Alice deploys the billing service on Fridays")
        await engine.documents.load(
            "deploy.md",
            "# Deploy guide\n\nThe billing service deploys with make ship.",
            user_id="alice",
        )
        found = await call(alice, "search_all", query="how is the billing service deployed?")
        assert {hit["source"] for hit in found["results"]} == {"memories", "documents"}
        doc = next(hit for hit in found["results"] if hit["source"] == "documents")
        assert doc["document"] == "deploy.md" and doc["kind"] is None
        only = await call(alice, "search_all", query="billing", sources=["memories"])
        assert {hit["source"] for hit in only["results"]} == {"memories"}


async def test_one_user_cannot_reach_another(engine: AsyncMemory) -> None:
    async with connect(engine, "alice") as alice, connect(engine, "bob") as bob:
        secret = await call(bob, "add_memory", content="Bob's door code is 4711")
        assert (await call(alice, "search_memories", query="door code"))["results"] == []
        assert (await call(alice, "list_memories"))["items"] == []
        for tool, extra in (
            ("get_memory", {}),
            ("update_memory", {"content": "pwned"}),
            ("delete_memory", {}),
        ):
            refused = await alice.call_tool(tool, {"memory_id": secret["id"], **extra})
            assert f"NotFound: no memory with id {secret['id']}" in error_text(refused), tool
        kept = await call(bob, "get_memory", memory_id=secret["id"])
        assert kept["memory"]["content"] == "Bob's door code is 4711"
        assert [e["event"] for e in kept["history"]] == ["add"]
        # an identity argument is not an argument: it cannot switch the user
        sneaky = await alice.call_tool("list_memories", {"user_id": "bob"})
        assert sneaky.is_error or structured(sneaky)["items"] == []


async def test_delete_all_needs_the_confirmation(engine: AsyncMemory, database_url: str) -> None:
    async with connect(engine, "alice") as alice, connect(engine, "bob") as bob:
        await call(alice, "add_memory", content="Alice's first memory")
        await call(
            alice, "add_conversation", turns=[{"role": "user", "content": "hi"}], infer=False
        )
        await call(bob, "add_memory", content="Bob stays")
        for wrong in ("yes", "DELETE EVERYTHING", ""):
            refused = await alice.call_tool("delete_all_memories", {"confirm": wrong})
            assert "nothing was deleted" in error_text(refused)
        assert len((await call(alice, "list_memories"))["items"]) == 1

        erased = await call(alice, "delete_all_memories", confirm=CONFIRM_ERASURE)
        assert erased["user_id"] == "alice"
        assert erased["deleted"]["memories"] == 1 and erased["deleted"]["messages"] == 1
        assert erased["total"] == sum(erased["deleted"].values())
        with psycopg.connect(database_url) as conn:
            left = conn.execute("SELECT user_id, count(*) FROM memories GROUP BY 1").fetchall()
        assert left == [("bob", 1)]


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("add_memory", {"content": ""}, "content"),
        ("add_memory", {"content": "x", "kind": "secret"}, "kind"),
        ("add_memory", {"content": "x", "importance": 2}, "importance"),
        ("add_memory", {"content": "x" * 100_001}, "content"),
        ("search_memories", {"query": "x", "filters": {"$where": "1=1"}}, "InvalidFilter"),
        ("search_memories", {"query": "x", "as_of": "yesterday"}, "as_of"),
        ("search_memories", {"query": "x", "limit": 101}, "limit"),
        ("get_memory", {"memory_id": "1 OR 1=1"}, "InvalidInput"),
        ("update_memory", {"memory_id": "'; DROP TABLE memories; --"}, "InvalidInput"),
        ("add_conversation", {"turns": []}, "turns"),
        ("add_conversation", {"turns": [{"role": "root", "content": "x"}]}, "InvalidInput"),
        ("get_context", {"query": "x", "max_tokens": 0}, "max_tokens"),
        ("search_all", {"query": "x", "sources": ["passwords"]}, "sources"),
        ("extraction_status", {"turn_ids": ["not-an-id"]}, "InvalidInput"),
    ],
)
async def test_bad_arguments_are_tool_errors_that_store_nothing(
    engine: AsyncMemory, database_url: str, tool: str, arguments: dict[str, Any], message: str
) -> None:
    async with connect(engine, "alice") as alice:
        result = await alice.call_tool(tool, arguments)
        assert message in error_text(result)
        with psycopg.connect(database_url) as conn:
            counts = conn.execute(
                "SELECT (SELECT count(*) FROM memories), (SELECT count(*) FROM messages)"
            ).fetchone()
        assert counts == (0, 0)


async def test_every_tool_call_is_observed_with_its_outcome(engine: AsyncMemory) -> None:
    heard: list[tuple[str, str]] = []
    server = build_server(
        fixed_caller(engine, "olga"), observe=lambda tool, outcome, s: heard.append((tool, outcome))
    )
    async with Client(server) as olga:
        await call(olga, "add_memory", content="Olga bakes rye bread")
        error_text(await olga.call_tool("get_memory", {"memory_id": "1 OR 1=1"}))
        error_text(await olga.call_tool("list_memories", {"limit": "many"}))  # fails validation
        error_text(await olga.call_tool("drop_everything", {}))
    assert heard == [
        ("add_memory", "ok"), ("get_memory", "error"), ("list_memories", "error"),
        ("unknown", "error"),
    ]  # fmt: skip
