"""``MnemoSession`` and ``memory_tools`` with the OpenAI Agents SDK and its ScriptedModel."""

from __future__ import annotations

import json
from typing import Any

import pytest
from agents import Agent, Runner, set_tracing_disabled
from agents.exceptions import UserError
from agents.memory import Session, SessionSettings
from agents.testing import ScriptedModel, assistant_message, function_call

from mnemo import AsyncMemory, Memory, MnemoConfig
from mnemo.integrations.openai_agents import MnemoSession, memory_tools

set_tracing_disabled(True)  # the SDK would otherwise export traces over the network

ITEMS: list[dict[str, Any]] = [
    {"role": "user", "content": "Hi, I'm Alice."},
    {"role": "developer", "content": "Answer briefly."},
    {
        "type": "message",
        "role": "user",
        "content": [
            {"type": "input_text", "text": "Two parts:"},
            {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "low"},
            {"type": "input_text", "text": "and a second text."},
        ],
    },
    {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": "Hello Alice!", "annotations": []}],
    },
    {
        "id": "fc_1",
        "type": "function_call",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": '{"city":"Lisbon"}',
        "status": "completed",
    },
    {"type": "function_call_output", "call_id": "call_1", "output": '{"temp_c": 31}'},
    {
        "type": "function_call_output",
        "call_id": "call_2",
        "output": [{"type": "input_text", "text": "sunny"}],
    },
    {"id": "rs_1", "type": "reasoning", "summary": [{"type": "summary_text", "text": "think"}]},
    {"role": "user", "content": [{"type": "input_image", "image_url": "https://x/y.png"}]},
]


async def test_items_come_back_exactly(sync_memory: Memory) -> None:
    session = MnemoSession(sync_memory, session_id="chat", user_id="alice")
    assert isinstance(session, Session)  # the SDK's runtime-checkable protocol
    await session.add_items(ITEMS)  # type: ignore[arg-type]
    assert await session.get_items() == ITEMS
    assert await session.get_items(limit=2) == ITEMS[-2:]
    turns = sync_memory.list_messages(user_id="alice", session_id="chat")
    assert [t.role for t in turns] == [
        "user", "system", "user", "assistant", "assistant", "tool", "tool", "assistant", "user",
    ]  # fmt: skip
    assert turns[2].content == "Two parts:\nand a second text."
    assert turns[4].tool_calls == [
        {"id": "call_1", "name": "get_weather", "arguments": '{"city":"Lisbon"}'}
    ]
    assert turns[5].tool_results == [{"tool_call_id": "call_1", "output": '{"temp_c": 31}'}]
    hits = sync_memory.search_messages("weather in Lisbon", user_id="alice", session_id="chat")
    assert hits and hits[0].role in ("assistant", "tool")


async def test_pop_clear_and_settings(config: MnemoConfig) -> None:
    async with AsyncMemory(config) as engine:
        session = MnemoSession(
            engine, session_id="s", user_id="alice", session_settings=SessionSettings(limit=1)
        )
        await session.add_items([{"role": "user", "content": "one"}])
        await session.add_items([{"role": "assistant", "content": "two"}])
        assert await session.get_items() == [{"role": "assistant", "content": "two"}]
        assert len(await session.get_items(limit=5)) == 2
        assert await session.pop_item() == {"role": "assistant", "content": "two"}
        assert await session.get_items(limit=5) == [{"role": "user", "content": "one"}]
        other = MnemoSession(engine, session_id="s", user_id="bob")
        assert await other.get_items() == [] and await other.pop_item() is None
        await session.clear_session()
        assert await session.get_items(limit=5) == []


async def test_bad_items_raise_user_errors_and_store_nothing(sync_memory: Memory) -> None:
    session = MnemoSession(sync_memory, session_id="s", user_id="alice")
    with pytest.raises(UserError, match="item 1 must be an object"):
        await session.add_items([{"role": "user", "content": "ok"}, "not an item"])  # type: ignore[list-item]
    with pytest.raises(UserError, match="NUL"):
        await session.add_items([{"role": "user", "content": "nul \x00 byte"}])
    with pytest.raises(UserError, match="JSON"):
        await session.add_items([{"type": "custom", "payload": object()}])  # type: ignore[list-item]
    assert await session.get_items() == []


async def test_an_agent_remembers_across_runs(sync_memory: Memory) -> None:
    tools = memory_tools(sync_memory, user_id="alice")
    model = ScriptedModel(
        [
            [
                function_call(
                    "remember",
                    {"content": "Alice is vegetarian", "kind": "preference"},
                    call_id="c1",
                )
            ],
            [assistant_message("Noted: you are vegetarian.")],
            [function_call("recall", {"query": "what does Alice eat?"}, call_id="c2")],
            [assistant_message("You are vegetarian, so: a mushroom risotto.")],
        ]
    )
    agent = Agent(name="chef", instructions="Remember the user.", model=model, tools=tools)
    session = MnemoSession(sync_memory, session_id="dinner", user_id="alice")
    first = await Runner.run(agent, "I'm vegetarian.", session=session)
    assert first.final_output == "Noted: you are vegetarian."
    [stored] = sync_memory.list(user_id="alice")
    assert (stored.content, stored.kind) == ("Alice is vegetarian", "preference")
    second = await Runner.run(agent, "What should I cook?", session=session)
    assert second.final_output.startswith("You are vegetarian")
    recalled = json.loads(model.calls[3].input[-1]["output"])  # the recall tool's answer
    assert recalled[0]["content"] == "Alice is vegetarian"
    sent = [item.get("content") for item in model.calls[2].input if item.get("role") == "user"]
    assert sent == ["I'm vegetarian.", "What should I cook?"]  # history came from mnemo
    items = await session.get_items()
    assert [i.get("type", "message") for i in items].count("function_call") == 2


async def test_tools_report_model_mistakes_and_keep_users_apart(sync_memory: Memory) -> None:
    bob_id = sync_memory.add("Bob's secret", user_id="bob").id
    remember, recall, forget = (
        {t.name: t for t in memory_tools(sync_memory, user_id="alice", tenant_id=None)}[n]
        for n in ("remember", "recall", "forget")
    )
    model = ScriptedModel(
        [
            [function_call("forget", {"memory_id": bob_id}, call_id="c1"),
             function_call("forget", {"memory_id": "not-an-id"}, call_id="c2"),
             function_call("remember", {"content": "   "}, call_id="c3"),
             function_call("recall", {"query": "secret", "limit": 0}, call_id="c4")],
            [assistant_message("done")],
        ]
    )  # fmt: skip
    agent = Agent(name="a", model=model, tools=[remember, recall, forget])
    await Runner.run(agent, "go")
    outputs = [i["output"] for i in model.calls[1].input if i.get("type") == "function_call_output"]
    assert outputs[0] == f"Not forgotten: no memory with id {bob_id}"
    assert outputs[1].startswith("Not forgotten:")
    assert outputs[2] == "Not remembered: content must not be empty"
    assert outputs[3].startswith("Could not search:")
    assert sync_memory.get(bob_id).content == "Bob's secret"  # another user's memory stays
    assert sync_memory.list(user_id="alice") == []


async def test_sessions_and_tools_keep_tenants_apart(sync_memory: Memory) -> None:
    acme = MnemoSession(sync_memory, session_id="s", user_id="u", tenant_id="acme")
    globex = MnemoSession(sync_memory, session_id="s", user_id="u", tenant_id="globex")
    await acme.add_items([{"role": "user", "content": "acme only"}])
    assert await globex.get_items() == []
    acme_recall = memory_tools(sync_memory, user_id="u", tenant_id="acme")[1]
    globex_remember = memory_tools(sync_memory, user_id="u", tenant_id="globex")[0]
    model = ScriptedModel(
        [
            [function_call("remember", {"content": "globex plans"}, call_id="c1")],
            [assistant_message("ok")],
            [function_call("recall", {"query": "plans"}, call_id="c2")],
            [assistant_message("ok")],
        ]
    )
    await Runner.run(Agent(name="g", model=model, tools=[globex_remember]), "x")
    await Runner.run(Agent(name="a", model=model, tools=[acme_recall]), "y")
    assert json.loads(model.calls[3].input[-1]["output"]) == []
