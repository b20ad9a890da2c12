"""``POST /api/v1/context``: the orchestrated context through the service — every section,
the budget, tenant walls, and 422 for input that does not parse."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mnemo.core.tokens import default_token_counter
from tests.service.conftest import Service

API = "/api/v1"
QUESTION = "Which tram goes through Alfama?"


async def fill(c: httpx.AsyncClient) -> None:
    """One user with settings, turns, a memory, an entity, a document, working memory."""
    writes = [
        c.put(f"{API}/settings/u1/tone", json={"value": "warm"}),
        c.post(f"{API}/messages", json={"user_id": "u1", "session_id": "s1", "messages": [
            {"role": "user", "content": "We land in Lisbon on Friday."},
            {"role": "assistant", "content": "Great, shall I plan Saturday?"},
        ]}),
        c.post(f"{API}/messages", json={"user_id": "u1", "session_id": "s0", "messages": [
            {"role": "user", "content": "Last spring the tram through Alfama was packed."},
        ]}),
        c.post(f"{API}/memories", json={"user_id": "u1", "type": "preference",
                                        "content": "User hates crowded buses"}),
        c.post(f"{API}/entities/u1/observe", json={"content": "Maria Lopez lives in Lisbon."}),
        c.post(f"{API}/documents/u1", json={"name": "trams.md", "content":
                                            "# Trams\n\nTram 28 goes through Alfama."}),
        c.put(f"{API}/working/u1/plan/day", json={"value": "Saturday"}),
    ]  # fmt: skip
    for write in writes:
        response = await write
        assert response.status_code in (200, 201), response.text


async def test_the_context_route_composes_every_section(service: Service) -> None:
    async with service.client(await service.key("acme")) as c:
        await fill(c)
        response = await c.post(f"{API}/context", json={
            "query": QUESTION, "user_id": "u1", "session_id": "s1", "max_tokens": 800,
        })  # fmt: skip
        assert response.status_code == 200, response.text
        body = response.json()
    text = body["context"]
    assert body["tokens"] == default_token_counter().count(text) <= 800
    assert body["errors"] == {} and body["degraded"] is False
    status = {s["name"]: s["status"] for s in body["sections"]}
    assert status == {"instructions": "ok", "summary": "empty", "recent_conversation": "ok",
                      "vector_search": "ok", "past_turns": "ok", "entities": "ok",
                      "working_memory": "ok", "documents": "ok"}  # fmt: skip
    for expected in ("- tone: warm", "user: We land in Lisbon on Friday.",
                     "session s0] user: Last spring the tram through Alfama was packed.",
                     "User hates crowded buses", "Maria Lopez", "- day: Saturday",
                     "Tram 28 goes through Alfama."):  # fmt: skip
        assert expected in text
    assert set(body["timings_ms"]) >= {"total", "compose", "embed_query", "documents"}


async def test_sections_priorities_and_budget_through_the_route(service: Service) -> None:
    async with service.client(await service.key("acme")) as c:
        await fill(c)
        only = await c.post(f"{API}/context", json={
            "query": QUESTION, "user_id": "u1", "sections": ["vector_search", "key_value_store"],
            "priorities": {"vector_search": 0.9}, "max_tokens": 40,
        })  # fmt: skip
        assert only.status_code == 200, only.text
    body = only.json()
    assert [s["name"] for s in body["sections"]] == ["instructions", "vector_search"]
    assert body["tokens"] <= 40
    async with service.client(await service.key("acme")) as c:
        past = await c.post(f"{API}/context", json={
            "query": QUESTION, "user_id": "u1", "session_id": "s1",
            "sections": ["past_turns", "recent_conversation"], "priorities": {"past_turns": 0},
        })  # fmt: skip
        assert past.status_code == 200, past.text
    sections = {s["name"]: s for s in past.json()["sections"]}
    assert sections["past_turns"]["share"] == 0 and sections["past_turns"]["entries"]
    assert "session s0]" in past.json()["context"]  # the room the turns of s1 left


async def test_another_tenant_sees_nothing_of_this_one(service: Service) -> None:
    async with service.client(await service.key("acme")) as c:
        await fill(c)
    async with service.client(await service.key("evil")) as c:
        response = await c.post(f"{API}/context", json={"query": QUESTION, "user_id": "u1",
                                                        "session_id": "s1"})  # fmt: skip
    assert response.status_code == 200
    assert response.json()["context"] == "" and response.json()["tokens"] == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"max_tokens": -1}, "max_tokens"),
        ({"max_tokens": 10**9}, "max_tokens"),
        ({"max_tokens": "lots"}, "max_tokens"),
        ({"sections": ["vector_search", "horoscope"]}, "unknown context section"),
        ({"sections": []}, "sections"),
        ({"priorities": {"summary": "high"}}, "priorities.summary"),
        ({"priorities": {"summary": -0.5}}, "priorities.summary"),
        ({"priorities": {"astrology": 0.5}}, "unknown section"),
        ({"priorities": [0.4, 0.2]}, "priorities"),
        ({"query": ""}, "query"),
        ({"limit": 5}, "limit"),
    ],
)
async def test_bad_input_is_422_and_changes_nothing(
    service: Service, change: dict[str, Any], message: str
) -> None:
    async with service.client(await service.key("acme")) as c:
        await c.post(f"{API}/memories", json={"user_id": "u1", "content": "a memory"})
        before = (await c.get(f"{API}/users/u1/stats")).json()
        response = await c.post(f"{API}/context",
                                json={"query": QUESTION, "user_id": "u1", **change})  # fmt: skip
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["type"] == "InvalidInput" and message in error["message"]
        assert (await c.get(f"{API}/users/u1/stats")).json() == before


async def test_the_conversation_route_answers_with_the_orchestrated_context(
    service: Service,
) -> None:
    async with service.client(await service.key("acme")) as c:
        await fill(c)
        turn = {"user_id": "u1", "session_id": "s1", "turn_number": 3,
                "message": "Are buses crowded there?", "max_tokens": 600}  # fmt: skip
        body = (await c.post(f"{API}/conversation", json=turn)).json()
        assert "## Recent conversation" in body["context"]
        assert "user: Are buses crowded there?" in body["context"]  # the turn just stored
        assert body["memories"][0]["content"] == "User hates crowded buses"
        assert "User hates crowded buses" in body["context"] and body["context_tokens"] <= 600
        quiet = {**turn, "turn_number": 4, "include_memories": False}
        body = (await c.post(f"{API}/conversation", json=quiet)).json()
        assert body["memories"] == [] and "## Relevant memories" not in body["context"]
        assert "- tone: warm" in body["context"]
