"""The service's LLM metrics with extraction running in-process against a local chat server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from mnemo.config import LifecycleConfig
from mnemo.providers.embedders.base import Embedder
from mnemo.providers.llms.openai_compatible import OpenAICompatibleLLM
from tests.service.conftest import service_config
from tests.support.fake_chat_server import Answer, FakeChatServer, ReceivedRequest, reply

API = "/api/v1"
MEMORY = {"kind": "fact", "content": "Alice is a pilot.", "confidence": 0.9, "importance": 0.5,
          "event_date": None}  # fmt: skip


def cut_off_extraction(request: ReceivedRequest) -> Answer:
    """Extraction replies cut off by max_tokens after one whole memory; reconciliation adds."""
    shown = request.body["messages"][-1]["content"]
    if "You extract long-term memories" not in request.body["messages"][0]["content"]:
        return reply(json.dumps({"decision": "add", "memory_ids": [], "content": "",
                                 "reason": "new"}))  # fmt: skip
    source = next(line[1:].split("]")[0] for line in shown.splitlines() if line.startswith("["))
    whole = json.dumps({"memories": [{**MEMORY, "source_turn_ids": [source]}] * 2})
    return reply(whole[: whole.rindex('{"kind"')], finish="length")


async def test_truncated_replies_are_counted_in_metrics_and_job_stats(
    start_service: Callable[..., Any], database_url: str, embedder: Embedder
) -> None:
    lifecycle = LifecycleConfig(in_process_worker=True, heartbeat_seconds=0.3,
                                maintenance_cron=None)  # fmt: skip
    with FakeChatServer() as chat:
        chat.script(cut_off_extraction)
        llm = OpenAICompatibleLLM("fake-model", base_url=chat.base_url, max_retries=0)
        config = replace(service_config(database_url, embedder), llm=llm, lifecycle=lifecycle)
        async with llm, start_service(config) as service:
            async with service.client(await service.key("acme")) as c:
                body = {"user_id": "u1", "content": "I fly planes", "infer": True}
                assert (await c.post(f"{API}/memories", json=body)).status_code == 202
                jobs = await _extracted(c, "u1")
            async with service.client() as anonymous:
                text = (await anonymous.get("/metrics")).text
    assert jobs["extraction"] == {"done": 1}
    assert jobs["extraction_truncated"] == 1
    assert "mnemo_llm_truncated_replies_total 1.0" in text


async def _extracted(client: Any, user_id: str) -> dict[str, Any]:
    """The user's job stats once nothing is pending any more."""
    for _ in range(200):
        jobs: dict[str, Any] = (await client.get(f"{API}/users/{user_id}/jobs")).json()
        if jobs["extraction"] and "pending" not in jobs["extraction"]:
            return jobs
        await asyncio.sleep(0.05)
    raise AssertionError(f"extraction still pending: {jobs}")
