"""The REST API end to end: real PostgreSQL, real Redis, the app's own lifespan."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import psycopg
import pytest

from tests.integration.lifecycle.conftest import FAST
from tests.service.conftest import Service, service_config

API = "/api/v1"


async def test_memory_lifecycle_create_get_update_history_delete(service: Service) -> None:
    key = await service.key("acme")
    async with service.client(key) as c:
        created = await c.post(
            f"{API}/memories",
            json={
                "user_id": "u1",
                "type": "preference",
                "content": "User prefers dark mode",
                "source_turn": 10,
                "confidence": 0.9,
            },
        )
        assert created.status_code == 201
        memory = created.json()
        assert memory["kind"] == "preference" and memory["metadata"] == {"source_turn": 10}
        assert (await c.get(f"{API}/memories/{memory['id']}")).json()["content"] == memory[
            "content"
        ]
        changed = await c.patch(
            f"{API}/memories/{memory['id']}", json={"content": "User prefers light mode"}
        )
        assert changed.status_code == 200 and changed.json()["content"] == "User prefers light mode"
        history = (await c.get(f"{API}/memories/{memory['id']}/history")).json()
        assert [e["event"] for e in history] == ["add", "update"]
        assert (await c.delete(f"{API}/memories/{memory['id']}")).status_code == 204
        assert (await c.get(f"{API}/memories/{memory['id']}")).status_code == 404
        events = (await c.get(f"{API}/memories/{memory['id']}/history")).json()
        assert [e["event"] for e in events] == ["add", "update", "delete"]


async def test_search_by_query_parameters_and_by_body_with_filters(service: Service) -> None:
    async with service.client(await service.key("acme")) as c:
        batch = await c.post(
            f"{API}/memories/batch",
            json={
                "user_id": "u1",
                "contextual": False,
                "items": [
                    {
                        "content": "I love espresso and dark roast coffee",
                        "kind": "preference",
                        "metadata": {"topic": "coffee"},
                    },
                    {
                        "content": "My sister lives in Lisbon",
                        "kind": "fact",
                        "metadata": {"topic": "family"},
                    },
                    {
                        "content": "Remind me to buy coffee beans on Friday",
                        "kind": "commitment",
                        "metadata": {"topic": "coffee"},
                    },
                ],
            },
        )
        assert batch.status_code == 201 and len(batch.json()["ids"]) == 3
        seed_style = await c.post(
            f"{API}/memories/u1/search", params={"query": "coffee", "top_k": 2}
        )
        assert seed_style.status_code == 200
        results = seed_style.json()["results"]
        assert len(results) == 2 and all("coffee" in r["content"] for r in results)
        assert {"relevance", "recency", "access", "confidence"} <= set(results[0]["scores"])
        # The weights that make each score out of its breakdown come with the results.
        weights = seed_style.json()["weights"]
        assert sum(weights.values()) == pytest.approx(1.0)
        for hit in results:
            mixed = sum(weight * hit["scores"][name] for name, weight in weights.items())
            assert hit["score"] == pytest.approx(mixed)
        body = await c.post(
            f"{API}/memories/u1/search",
            json={
                "query": "what should I buy?",
                "top_k": 5,
                "kinds": ["commitment"],
                "filters": {"topic": "coffee"},
            },
        )
        assert [r["kind"] for r in body.json()["results"]] == ["commitment"]
        past = await c.post(
            f"{API}/memories/u1/search", json={"query": "coffee", "as_of": "2000-01-01T00:00:00Z"}
        )
        assert past.json()["results"] == []


async def test_listing_pages_through_a_users_memories(service: Service) -> None:
    async with service.client(await service.key("acme")) as c:
        items = [{"content": f"note number {i}"} for i in range(5)]
        await c.post(f"{API}/memories/batch", json={"user_id": "u1", "items": items})
        first = (await c.get(f"{API}/memories", params={"user_id": "u1", "limit": 2})).json()
        assert len(first["items"]) == 2 and first["next_offset"] == 2
        seen = [m["content"] for m in first["items"]]
        offset = first["next_offset"]
        while offset is not None:
            page = (
                await c.get(
                    f"{API}/memories", params={"user_id": "u1", "limit": 2, "offset": offset}
                )
            ).json()
            seen += [m["content"] for m in page["items"]]
            offset = page["next_offset"]
        assert sorted(seen) == sorted(i["content"] for i in items)
        too_big = await c.get(f"{API}/memories", params={"user_id": "u1", "limit": 10_000})
        assert too_big.status_code == 422


async def test_stats_and_gdpr_erasure_with_per_table_counts(service: Service) -> None:
    async with service.client(await service.key("acme")) as c:
        await c.post(
            f"{API}/memories/batch",
            json={
                "user_id": "u1",
                "items": [
                    {"content": "likes tea", "kind": "preference"},
                    {"content": "works at ACME", "kind": "fact"},
                ],
            },
        )
        await c.post(f"{API}/memories/u1/search", params={"query": "tea"})
        stats = (await c.get(f"{API}/memories/u1/stats")).json()
        assert stats["memories"]["active"] == 2
        assert stats["memories"]["by_kind"] == {"fact": 1, "preference": 1}
        assert stats["rows"]["memories"] == 2 and stats["rows"]["memory_events"] == 2
        erased = (await c.delete(f"{API}/memories/u1/all")).json()
        assert erased["deleted"]["memories"] == 2 and erased["deleted"]["memory_events"] == 2
        assert erased["total"] == sum(erased["deleted"].values())
        after = (await c.get(f"{API}/memories/u1/stats")).json()
        assert after["memories"]["active"] == 0 and not any(after["rows"].values())
        search = await c.post(f"{API}/memories/u1/search", params={"query": "tea"})
        assert search.json()["results"] == []


async def test_export_then_import_into_another_user(service: Service) -> None:
    async with service.client(await service.key("acme")) as c:
        await c.post(
            f"{API}/memories/batch",
            json={
                "user_id": "u1",
                "items": [
                    {"content": "likes tea", "kind": "preference", "metadata": {"k": 1}},
                    {"content": "works at ACME", "kind": "fact"},
                ],
            },
        )
        export = await c.get(f"{API}/users/u1/export")
        assert export.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in export.text.splitlines()]
        assert lines[0]["type"] == "export" and lines[0]["user_id"] == "u1"
        tables = {line["table"] for line in lines[1:]}
        assert {"memories", "memory_events"} <= tables and "embedding_cache" not in tables
        assert all("embedding" not in line["data"] for line in lines[1:])
        imported = await c.post(f"{API}/users/u2/import", content=export.content)
        assert imported.status_code == 200
        assert imported.json()["imported"] == {"memories": 2}
        assert imported.json()["skipped"] == {"memory_events": 2}
        copied = (await c.get(f"{API}/memories", params={"user_id": "u2"})).json()["items"]
        assert sorted(m["content"] for m in copied) == ["likes tea", "works at ACME"]
        bad = await c.post(f"{API}/users/u3/import", content=b'{"type": "row"}\nnot json\n')
        assert bad.status_code == 422
        assert (await c.get(f"{API}/memories", params={"user_id": "u3"})).json()["items"] == []


async def test_revoked_and_unknown_keys_are_refused(service: Service) -> None:
    key = await service.key("acme")
    async with service.client(key) as c:
        assert (await c.get(f"{API}/memories", params={"user_id": "u1"})).status_code == 200
    from mnemo.cli.main import main

    prefix = key.split("_")[1]
    revoke = ["keys", "revoke", prefix, "--database-url", service.database_url]
    assert await asyncio.to_thread(main, revoke) == 0
    async with service.client(key) as c:
        refused = await c.get(f"{API}/memories", params={"user_id": "u1"})
    assert refused.status_code == 401 and refused.json()["error"]["type"] == "Unauthenticated"
    assert refused.headers["www-authenticate"] == "Bearer"


async def test_health_readiness_and_metrics(service: Service) -> None:
    async with service.client(await service.key("acme")) as c:
        await c.post(f"{API}/memories", json={"user_id": "u1", "content": "hello there"})
        await c.post(f"{API}/memories/u1/search", params={"query": "hello"})
    async with service.client() as anonymous:
        assert (await anonymous.get(f"{API}/health")).json()["status"] == "ok"
        ready = (await anonymous.get(f"{API}/health/ready")).json()
        assert ready["status"] == "degraded"  # no worker runs in this test
        assert {"postgresql", "cache", "embedder", "llm", "workers"} <= set(ready["checks"])
        assert ready["checks"]["postgresql"]["status"] == "ok"
        assert ready["checks"]["postgresql"]["latency_ms"] > 0
        assert ready["checks"]["workers"]["status"] == "degraded"
        text = (await anonymous.get("/metrics")).text
    for expected in (
        'mnemo_http_requests_total{method="POST",route="/api/v1/memories",status="201"} 1.0',
        'mnemo_memory_operations_total{operation="search"} 1.0',
        'mnemo_engine_duration_seconds_count{operation="search.total"} 1.0',
        'mnemo_embedding_duration_seconds_count{input_type="passage"}',
        "mnemo_cache_misses_total",
    ):
        assert expected in text


async def test_a_worker_inside_the_process_is_counted_once(
    start_service: Callable[..., Any], database_url: str, embedder: Any
) -> None:
    """The in-process worker has a heartbeat row like any worker: readiness and the
    extraction queue count it once, not once more for running here."""
    config = replace(service_config(database_url, embedder), lifecycle=FAST)
    async with start_service(config) as running, running.client() as anonymous:
        for _ in range(200):  # until its heartbeat row is written
            if await asyncio.to_thread(worker_rows, database_url):
                break
            await asyncio.sleep(0.05)
        ready = (await anonymous.get(f"{API}/health/ready")).json()["checks"]["workers"]
        assert (ready["status"], ready["detail"]) == ("ok", "1 live worker(s)")
        async with running.client(await running.key("acme")) as c:
            assert (await c.get(f"{API}/extractions")).json()["live_workers"] == 1


def worker_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone()
    return int(row[0]) if row else 0


async def test_unauthenticated_mode_serves_the_default_tenant(
    start_service: Callable[..., Any],
) -> None:
    from mnemo.errors import ConfigurationError
    from mnemo.service.settings import ServiceSettings

    with pytest.raises(ConfigurationError):
        ServiceSettings(auth="none", database_url="postgresql://db.example/mnemo").auth_mode()
    with pytest.raises(ConfigurationError):
        ServiceSettings(auth="none", host="0.0.0.0").auth_mode()
    assert ServiceSettings(host="127.0.0.1").auth_mode() == "none"
    async with start_service(auth="keys") as running, running.client() as c:
        assert (await c.get(f"{API}/memories", params={"user_id": "u1"})).status_code == 401


async def test_a_conversation_turn_is_stored_once_and_brings_memories(service: Service) -> None:
    async with service.client(await service.key("acme")) as c:
        await c.post(
            f"{API}/memories",
            json={
                "user_id": "u1",
                "type": "preference",
                "content": "User loves espresso and dark roast",
            },
        )
        turn = {
            "user_id": "u1",
            "turn_number": 7,
            "message": "What coffee should I buy?",
            "max_tokens": 200,
        }
        first = await c.post(f"{API}/conversation", json=turn)
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["extraction"] == "pending" and body["session_id"] == "default"
        assert body["memories"][0]["content"] == "User loves espresso and dark roast"
        assert "- (preference, " in body["context"]  # the orchestrated context (dated)
        assert "User loves espresso and dark roast" in body["context"]
        assert "user: What coffee should I buy?" in body["context"]  # the turn just stored
        assert 0 < body["context_tokens"] <= 200
        retried = (await c.post(f"{API}/conversation", json=turn)).json()
        assert retried["message_id"] == body["message_id"]
        turns = (await c.get(f"{API}/messages", params={"user_id": "u1"})).json()
        assert [(t["turn_number"], t["content"]) for t in turns] == [(7, turn["message"])]
        jobs = (await c.get(f"{API}/users/u1/jobs")).json()
        assert sum(jobs["extraction"].values()) == 1
        tiny = (
            await c.post(f"{API}/conversation", json={**turn, "turn_number": 8, "max_tokens": 1})
        ).json()
        assert tiny["context"] == "" and tiny["context_tokens"] == 0


async def test_messages_batch_and_optimize(service: Service) -> None:
    async with service.client(await service.key("acme")) as c:
        added = await c.post(
            f"{API}/messages",
            json={
                "user_id": "u1",
                "session_id": "s1",
                "messages": [
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": "hello, how can I help?"},
                ],
            },
        )
        assert added.status_code == 201 and len(added.json()["ids"]) == 2
        listed = (
            await c.get(f"{API}/messages", params={"user_id": "u1", "session_id": "s1"})
        ).json()
        assert [m["role"] for m in listed] == ["user", "assistant"]
        report = await c.post(
            f"{API}/memories/u1/optimize", params={"current_turn": 500, "dry_run": True}
        )
        assert report.status_code == 200 and report.json()["dry_run"] is True
        assert report.json()["current_turn"] == 500


async def test_settings_with_history_and_key_value_entries(service: Service) -> None:
    async with service.client(await service.key("acme")) as c:
        first = await c.put(f"{API}/settings/u1/voice", json={"value": "calm"})
        assert first.status_code == 200 and first.json()["version"] == 1
        second = await c.put(
            f"{API}/settings/u1/voice",
            json={"value": "cheerful", "expected_version": 1, "reason": "user asked"},
        )
        assert second.json()["version"] == 2
        stale = await c.put(f"{API}/settings/u1/voice", json={"value": "x", "expected_version": 1})
        assert stale.status_code == 409
        assert (await c.get(f"{API}/settings/u1")).json() == {"voice": "cheerful"}
        history = (await c.get(f"{API}/settings/u1/voice/history")).json()
        assert [h["reason"] for h in history][-1] == "user asked"
        assert history[-1]["actor"].startswith("api-key:")
        assert (await c.delete(f"{API}/settings/u1/voice")).status_code == 204
        assert (await c.get(f"{API}/settings/u1/voice")).status_code == 404
        stored = await c.put(f"{API}/kv/u1/prefs/theme", json={"value": {"dark": True}})
        assert stored.status_code == 200
        assert (await c.get(f"{API}/kv/u1/prefs/theme")).json()["value"] == {"dark": True}
        assert [e["key"] for e in (await c.get(f"{API}/kv/u1/prefs")).json()] == ["theme"]
        assert (await c.delete(f"{API}/kv/u1/prefs/theme")).status_code == 204
        assert (await c.delete(f"{API}/kv/u1/prefs/theme")).status_code == 404


async def test_entities_documents_and_working_memory(service: Service) -> None:
    async with service.client(await service.key("acme")) as c:
        observed = await c.post(
            f"{API}/entities/u1/observe",
            json={"content": "Maria Lopez works at Acme Corp in Lisbon."},
        )
        assert observed.status_code == 200, observed.text
        names = [e["name"] for e in (await c.get(f"{API}/entities/u1")).json()]
        assert "Maria Lopez" in names
        assert (await c.get(f"{API}/entities/u1/Maria Lopez")).json()["name"] == "Maria Lopez"
        doc = await c.post(
            f"{API}/documents/u1",
            json={
                "name": "manual.md",
                "content": "# Router\n\nPress the reset button for ten seconds.",
            },
        )
        assert doc.status_code == 201, doc.text
        hits = (await c.post(f"{API}/documents/u1/search", json={"query": "how to reset"})).json()
        assert "reset button" in hits[0]["content"]
        server_file = await c.post(f"{API}/documents/u1", json={"name": "/etc/passwd"})
        assert server_file.status_code == 422
        put = await c.put(f"{API}/working/u1/task-1/plan", json={"value": ["a", "b"]})
        assert put.status_code == 200, put.text
        assert (await c.get(f"{API}/working/u1/task-1/plan")).json()["value"] == ["a", "b"]
        step = await c.post(f"{API}/working/u1/task-1/chain", json={"step": "compare prices"})
        assert step.status_code == 201
        context = (await c.get(f"{API}/working/u1/task-1")).json()
        assert "compare prices" in str(context)


def test_the_keys_commands(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from mnemo.cli.main import main

    url = ["--database-url", database_url]
    assert main(["keys", "create", "--tenant", "acme", "--name", "ci", *url]) == 0
    key = capsys.readouterr().out.split()[0]
    assert key.startswith("mk_")
    assert main(["keys", "list", "--tenant", "acme", *url]) == 0
    listed = capsys.readouterr().out
    assert key.split("_")[1] in listed and "ci" in listed and key not in listed
    assert main(["keys", "create", "--tenant", "not a tenant!", *url]) == 2
    assert main(["keys", "revoke", "nosuchprefix", *url]) == 2
    assert "NotFound" in capsys.readouterr().err
