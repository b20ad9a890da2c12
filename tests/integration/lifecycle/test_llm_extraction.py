"""Extraction and reconciliation through an OpenAI-compatible LLM on a real local HTTP server.

The server speaks the chat-completions wire format; each test scripts what the
"model" answers. Malformed JSON is repaired or asked again; a turn whose
extraction keeps failing ends in the visible ``failed`` state, never lost.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from mnemo import AsyncMemory, MnemoConfig
from mnemo.providers.llms.openai_compatible import OpenAICompatibleLLM
from tests.integration.lifecycle.conftest import rows
from tests.support.fake_chat_server import Answer, FakeChatServer, ReceivedRequest, reply

WHEN = datetime(2024, 5, 8, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeChatServer]:
    with FakeChatServer() as running:
        yield running


@pytest.fixture
async def llm_engine(
    server: FakeChatServer, lifecycle_config: MnemoConfig
) -> AsyncIterator[AsyncMemory]:
    llm = OpenAICompatibleLLM(
        "fake-model", base_url=server.base_url, api_key="sk-test", timeout=5, max_retries=1,
        backoff_seconds=0.01,
    )  # fmt: skip
    async with llm, AsyncMemory(replace(lifecycle_config, llm=llm)) as engine:
        yield engine


def is_extraction(request: ReceivedRequest) -> bool:
    return "You extract long-term memories" in request.body["messages"][0]["content"]


def turn_ids(request: ReceivedRequest) -> list[str]:
    """The turn ids shown to the model, as ``[id]`` prefixes of the input lines."""
    text = request.body["messages"][-1]["content"]
    return [line[1:].split("]")[0] for line in text.splitlines() if line.startswith("[")]


def memories_reply(*items: tuple[str, str]) -> Callable[[ReceivedRequest], Answer]:
    """Extraction replies naming the (last) turn shown; reconciliation answers ``add``."""

    def answer(request: ReceivedRequest) -> Answer:
        if not is_extraction(request):
            return reply(json.dumps({"decision": "add", "memory_ids": [], "content": "",
                                     "reason": "new"}))  # fmt: skip
        source = turn_ids(request)[-1]
        memories = [
            {"kind": kind, "content": content, "source_turn_ids": [source], "confidence": 0.9,
             "importance": 0.7, "event_date": None}
            for kind, content in items
        ]  # fmt: skip
        return reply(json.dumps({"memories": memories}))

    return answer


def user_turn(content: str) -> list[dict[str, Any]]:
    return [{"role": "user", "name": "Alice", "content": content, "created_at": WHEN}]


async def test_the_llm_extracts_with_structured_output_and_no_streaming(
    server: FakeChatServer, llm_engine: AsyncMemory
) -> None:
    server.script(memories_reply(("preference", "Alice prefers window seats on flights.")))
    result = await llm_engine.add(
        user_turn("Window seat please, always"), user_id="alice", infer=True, wait=True
    )
    [memory] = result.memories
    assert memory.content == "Alice prefers window seats on flights."
    assert memory.metadata["extracted_by"] == "llm:openai-compatible/fake-model"
    assert memory.source_message_ids == result.ids
    request = server.requests[0]
    assert request.path == "/v1/chat/completions"
    assert request.body.get("stream") in (None, False)
    assert request.body["response_format"]["type"] == "json_schema"
    assert "Window seat please" in request.body["messages"][-1]["content"]


async def test_broken_json_is_repaired(server: FakeChatServer, llm_engine: AsyncMemory) -> None:
    def fenced(request: ReceivedRequest) -> Answer:
        good = memories_reply(("fact", "Alice is a pilot."))(request).body
        text = good["choices"][0]["message"]["content"]
        return reply("Sure! ```json\n" + text[:-2] + ",]}\n``` hope that helps")

    server.script(fenced)
    result = await llm_engine.add(user_turn("I fly planes"), user_id="alice", infer=True, wait=True)
    assert [m.content for m in result.memories] == ["Alice is a pilot."]


async def test_the_llm_decides_a_supersede_between_close_memories(
    server: FakeChatServer, llm_engine: AsyncMemory
) -> None:
    server.script(memories_reply(("fact", "Alice drives a red Tesla.")))
    first = await llm_engine.add(user_turn("My car is a red Tesla"), user_id="alice", infer=True,
                                 wait=True)  # fmt: skip
    [tesla] = first.memories

    def answer(request: ReceivedRequest) -> Answer:
        if is_extraction(request):
            return memories_reply(("fact", "Alice drives a blue Volvo."))(request)
        shown = request.body["messages"][-1]["content"]
        assert "[m1] fact, since 2024-05-08: Alice drives a red Tesla." in shown
        return reply(json.dumps({"decision": "supersede", "memory_ids": ["m1"],
                                 "content": "Alice drives a blue Volvo.",
                                 "reason": "she sold the Tesla"}))  # fmt: skip

    server.script(answer)
    await llm_engine.add(user_turn("Sold the Tesla, I drive a blue Volvo now"), user_id="alice",
                         infer=True, wait=True)  # fmt: skip
    old = await llm_engine.get(tesla.id)
    assert old.status == "superseded"
    supersede = (await llm_engine.history(tesla.id))[-1]
    assert (supersede.event, supersede.reason) == ("supersede", "she sold the Tesla")
    assert supersede.actor == "reconciler:llm:openai-compatible/fake-model"


async def test_a_turn_whose_extraction_keeps_failing_is_dead_lettered_then_retried(
    server: FakeChatServer, llm_engine: AsyncMemory, database_url: str
) -> None:
    server.script(reply("I'm sorry, I cannot produce JSON today."))
    result = await llm_engine.add(user_turn("I'm vegan"), user_id="alice", infer=True, wait=True)
    assert result.extraction == {result.ids[0]: "failed"}
    assert result.memories == []
    [failed] = await llm_engine.failed_extractions(user_id="alice")
    assert failed.message_id == result.ids[0]
    assert failed.attempts == 3
    assert failed.last_error is not None and "LLMError" in failed.last_error
    stats = await llm_engine.job_stats()
    assert stats["extraction"] == {"failed": 1}
    assert rows(database_url, "SELECT content FROM messages") == [("I'm vegan",)]  # kept

    server.script(memories_reply(("fact", "Alice is vegan.")))
    assert await llm_engine.retry_failed_extractions(user_id="alice") == 1
    await llm_engine.flush()
    assert [m.content for m in await llm_engine.list(user_id="alice")] == ["Alice is vegan."]
    states = await llm_engine.extraction_status(result.ids, user_id="alice")
    assert states[result.ids[0]].status == "done"


async def test_a_reply_cut_off_by_max_tokens_is_used_and_the_turn_marked_truncated(
    server: FakeChatServer, llm_engine: AsyncMemory
) -> None:
    def cut_off(request: ReceivedRequest) -> Answer:
        if not is_extraction(request):
            return memories_reply()(request)
        whole = memories_reply(("fact", "Alice is a pilot."), ("fact", "Alice flies at night."))
        text = whole(request).body["choices"][0]["message"]["content"]
        return reply(text[: text.index("Alice flies")], finish="length")

    server.script(cut_off)
    result = await llm_engine.add(user_turn("I fly planes at night"), user_id="alice",
                                  infer=True, wait=True)  # fmt: skip
    assert [m.content for m in result.memories] == ["Alice is a pilot."]
    state = (await llm_engine.extraction_status(result.ids, user_id="alice"))[result.ids[0]]
    assert (state.status, state.truncated) == ("done", True)
    stats = await llm_engine.job_stats(user_id="alice")
    assert stats["extraction"] == {"done": 1}
    assert stats["extraction_truncated"] == 1

    server.script(memories_reply(("fact", "Alice likes tea.")))
    second = await llm_engine.add(user_turn("I like tea"), user_id="alice", infer=True, wait=True)
    state = (await llm_engine.extraction_status(second.ids, user_id="alice"))[second.ids[0]]
    assert (state.status, state.truncated) == ("done", False)
    assert (await llm_engine.job_stats(user_id="alice"))["extraction_truncated"] == 1
