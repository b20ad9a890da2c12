"""The routes the inspector reads: users, memories in any state, provenance, sessions,
the extraction queue and its retry, setting rollback — each behind the tenant wall."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from mnemo import AsyncMemory
from mnemo.providers.embedders.base import Embedder
from tests.integration.lifecycle.conftest import FAST
from tests.service.conftest import Service, service_config
from tests.support.dead_letters import dead_letter

API = "/api/v1"
MARCH = datetime(2024, 3, 10, 9, 0, tzinfo=UTC)
JUNE = datetime(2024, 6, 2, 18, 30, tzinfo=UTC)


@dataclass
class Seeded:
    service: Service
    client: httpx.AsyncClient
    stranger: httpx.AsyncClient
    engine: AsyncMemory
    paris: str
    berlin: str
    turns: list[str]


def turn(content: str, when: datetime, **extra: Any) -> dict[str, Any]:
    return {"role": "user", "name": "Alice", "content": content, "created_at": when, **extra}


@pytest.fixture
async def seeded(
    start_service: Callable[..., Any], database_url: str, embedder: Embedder
) -> AsyncIterator[Seeded]:
    config = replace(service_config(database_url, embedder), lifecycle=FAST)
    async with start_service(config) as service:
        engine = service.app.state.mnemo.engine.for_tenant("acme")
        first = await engine.add([turn("I live in Paris.", MARCH)], user_id="alice",
                                 session_id="trip", infer=True, wait=True)  # fmt: skip
        second = await engine.add(
            [turn("I moved to Berlin last week.", JUNE),
             {"role": "assistant", "content": "Noted.",
              "tool_calls": [{"id": "c1", "type": "function",
                              "function": {"name": "save_city", "arguments": "{}"}}]}],
            user_id="alice", session_id="trip", infer=True, wait=True,
        )  # fmt: skip
        [paris] = first.memories
        berlin = next(m for m in second.memories if "Berlin" in m.content)
        await engine.add("Bob's note", user_id="bob")
        await service.app.state.mnemo.engine.for_tenant("other").add("secret", user_id="zed")
        key, other_key = await service.key("acme"), await service.key("other")
        async with service.client(key) as client, service.client(other_key) as stranger:
            yield Seeded(service, client, stranger, engine, paris.id, berlin.id,
                         first.ids + second.ids)  # fmt: skip


async def test_users_page_counts_kinds_and_stays_in_the_tenant(seeded: Seeded) -> None:
    page = (await seeded.client.get(f"{API}/users")).json()
    assert [u["user_id"] for u in page["items"]] == ["alice", "bob"]
    alice = page["items"][0]
    assert alice["superseded"] == 1 and alice["messages"] == 3
    assert alice["memories"] == sum(alice["kinds"].values()) >= 1
    assert alice["last_activity"] is not None
    assert page["next_after"] is None
    first = (await seeded.client.get(f"{API}/users", params={"limit": 1})).json()
    assert [u["user_id"] for u in first["items"]] == ["alice"] and first["next_after"] == "alice"
    rest = (await seeded.client.get(f"{API}/users", params={"after": "alice"})).json()
    assert [u["user_id"] for u in rest["items"]] == ["bob"]
    theirs = (await seeded.stranger.get(f"{API}/users")).json()
    assert [u["user_id"] for u in theirs["items"]] == ["zed"]


async def test_memories_by_status_text_and_as_of(seeded: Seeded) -> None:
    async def contents(**params: Any) -> list[str]:
        response = await seeded.client.get(f"{API}/memories", params={"user_id": "alice", **params})
        assert response.status_code == 200, response.text
        return [m["content"] for m in response.json()["items"]]

    current = await contents()
    assert "Alice lives in Paris." not in current and any("Berlin" in c for c in current)
    assert await contents(status="superseded") == ["Alice lives in Paris."]
    assert await contents(as_of="2024-04-01T00:00:00Z") == ["Alice lives in Paris."]
    assert await contents(contains="BERLIN") == [c for c in current if "Berlin" in c]
    assert await contents(contains="50%_off") == []  # wildcards are literal
    await seeded.client.delete(f"{API}/memories/{seeded.berlin}")
    listing = {"user_id": "alice", "status": "deleted"}
    [gone] = (await seeded.client.get(f"{API}/memories", params=listing)).json()["items"]
    assert (gone["id"], gone["status"]) == (seeded.berlin, "deleted")
    assert gone["valid_to"] is not None and gone["source_message_ids"]


async def test_bad_listing_input_is_a_clear_422(seeded: Seeded) -> None:
    for params in (
        {"status": "gone"},
        {"status": "active", "as_of": "2024-04-01T00:00:00Z"},
        {"contains": ""},
        {"contains": "x" * 1001},
        {"as_of": "yesterday"},
    ):
        response = await seeded.client.get(f"{API}/memories", params={"user_id": "alice", **params})
        assert response.status_code == 422, params
        assert response.json()["error"]["message"]


async def test_provenance_links_turns_successor_and_predecessor(seeded: Seeded) -> None:
    old = (await seeded.client.get(f"{API}/memories/{seeded.paris}/provenance")).json()
    assert old["memory"]["status"] == "superseded"
    assert [t["content"] for t in old["sources"]] == ["I live in Paris."]
    assert old["sources"][0]["session_id"] == "trip" and old["sources"][0]["turn_number"] == 1
    assert old["extraction"] == {seeded.turns[0]: "done"}
    assert old["superseded_by"]["id"] == seeded.berlin
    new = (await seeded.client.get(f"{API}/memories/{seeded.berlin}/provenance")).json()
    assert [m["id"] for m in new["supersedes"]] == [seeded.paris]
    assert new["superseded_by"] is None
    await seeded.client.delete(f"{API}/memories/{seeded.berlin}")
    after = (await seeded.client.get(f"{API}/memories/{seeded.berlin}/provenance")).json()
    assert after["memory"]["status"] == "deleted" and after["sources"]
    refused = await seeded.stranger.get(f"{API}/memories/{seeded.paris}/provenance")
    assert refused.status_code == 404


async def test_sessions_and_turn_states(seeded: Seeded) -> None:
    [trip] = (await seeded.client.get(f"{API}/users/alice/sessions")).json()
    assert (trip["session_id"], trip["turns"], trip["tool_calls"]) == ("trip", 3, 1)
    assert trip["extraction"] == {"done": 3}
    states = await seeded.client.get(
        f"{API}/users/alice/extractions", params={"message_id": seeded.turns[:2]}
    )
    assert {s["status"] for s in states.json().values()} == {"done"}
    assert (await seeded.stranger.get(f"{API}/users/alice/sessions")).json() == []
    theirs = await seeded.stranger.get(
        f"{API}/users/alice/extractions", params={"message_id": seeded.turns[:1]}
    )
    assert theirs.json() == {}


async def test_the_queue_shows_failed_turns_and_retry_requeues_them(
    start_service: Callable[..., Any], database_url: str, embedder: Embedder
) -> None:
    config = replace(service_config(database_url, embedder), lifecycle=FAST)
    failing = await dead_letter(replace(config, tenant_id="acme"), turn("I'm vegan.", JUNE),
                                user_id="alice", session_id="trip")  # fmt: skip
    async with start_service(config) as service:
        key, other_key = await service.key("acme"), await service.key("other")
        async with service.client(key) as client, service.client(other_key) as stranger:
            queue = (await client.get(f"{API}/extractions")).json()
            assert queue["counts"] == {"failed": 1} and queue["live_workers"] == 1  # in process
            [item] = queue["items"]
            assert item["message_id"] == failing and "LLMError" in item["last_error"]
            assert (item["content"], item["session_id"], item["attempts"]) == (
                "I'm vegan.", "trip", 3)  # fmt: skip
            assert (await stranger.get(f"{API}/extractions")).json()["items"] == []
            assert (await stranger.post(f"{API}/extractions/retry")).json() == {"retried": 0}
            retried = await client.post(f"{API}/extractions/retry", json={"user_id": "alice"})
            assert retried.json() == {"retried": 1}
            await service.app.state.mnemo.engine.flush()
            after = (await client.get(f"{API}/extractions")).json()
            assert after["items"] == [] and after["counts"] == {"done": 1}
            done = (await client.get(f"{API}/extractions", params={"status": "done"})).json()
            assert [i["message_id"] for i in done["items"]] == [failing]
            bad = await client.get(f"{API}/extractions", params={"status": "lost"})
            assert bad.status_code == 422


async def test_setting_rollback_records_a_new_version(seeded: Seeded) -> None:
    path = f"{API}/settings/alice/voice"
    for value in ("calm", "cheerful"):
        assert (await seeded.client.put(path, json={"value": value})).status_code == 200
    rolled = await seeded.client.post(f"{path}/rollback", json={"to_version": 1})
    assert rolled.status_code == 200, rolled.text
    assert (rolled.json()["value"], rolled.json()["version"]) == ("calm", 3)
    history = (await seeded.client.get(f"{path}/history")).json()
    assert [h["new"] for h in history] == ["calm", "cheerful", "calm"]
    assert history[-1]["reason"] == "rollback to version 1"
    missing = await seeded.client.post(f"{path}/rollback", json={"to_version": 9})
    assert missing.status_code == 404
    stale = await seeded.client.post(f"{path}/rollback", json={"to_version": 1,
                                                               "expected_version": 1})  # fmt: skip
    assert stale.status_code == 409
    theirs = await seeded.stranger.post(f"{path}/rollback", json={"to_version": 1})
    assert theirs.status_code == 404
    assert (await seeded.client.get(path)).json()["value"] == "calm"
