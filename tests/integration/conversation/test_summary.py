"""Conversation summary memory against a real PostgreSQL: progressive folding, its token
budget, the LLM path (a local chat-completions server) and its offline fallback, and two
writers folding one session at once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from mnemo import AsyncMemory, InvalidInput, MnemoConfig
from tests.support.fake_chat_server import FakeChatServer, error, reply

pytestmark = pytest.mark.asyncio

FACTS = [
    ("user", "My name is Priya and I live in Porto with my two cats."),
    ("assistant", "Nice to meet you, Priya! How can I help?"),
    ("user", "I am planning a hiking trip to the Azores in September."),
    ("assistant", "The Azores are great for hiking. Which island?"),
    ("user", "Sao Miguel first, then Pico to climb the volcano."),
    ("assistant", "Pico is the highest mountain in Portugal, at 2351 metres."),
    ("user", "I am vegetarian, so restaurant tips should account for that."),
    ("assistant", "Noted: vegetarian options only."),
    ("user", "What should I pack for the climb?"),
    ("assistant", "Layers, rain gear, two litres of water and sturdy boots."),
]


def conversation(count: int = len(FACTS)) -> list[dict]:
    start = datetime(2024, 6, 1, 9, tzinfo=UTC)
    return [
        {"role": role, "content": text, "created_at": start + timedelta(minutes=i)}
        for i, (role, text) in enumerate(FACTS[:count])
    ]


async def test_turns_leaving_the_buffer_are_folded_progressively(memory: AsyncMemory) -> None:
    summary = await memory.conversation_summary(buffer_window_size=3, max_total_tokens=400)
    scope = memory.scope("priya", session_id="trip")
    for message in conversation(6):
        await summary.add(scope, [message])
    first = await summary.summary(scope)
    assert first is not None
    assert (first.through_turn, first.turns_folded, first.method) == (3, 3, "extractive")
    assert "Porto" in first.content
    for message in conversation()[6:]:
        await summary.add(scope, [message])
    second = await summary.summary(scope)
    assert second is not None and (second.through_turn, second.turns_folded) == (7, 7)
    assert "Azores" in second.content or "Pico" in second.content
    context = await summary.get_context(scope)
    assert [m["turn_number"] for m in context["messages"]] == [8, 9, 10]
    assert context["summary"] == second.content
    assert context["summarized_through_turn"] == 7
    assert context["summary_tokens"] <= 0.3 * 400
    assert context["tokens"] == context["summary_tokens"] + context["message_tokens"] <= 400
    stats = await summary.stats(scope)
    assert stats["summary"]["through_turn"] == 7 and stats["messages"] == 10


async def test_fold_every_batches_folds_and_keeps_the_waiting_turns(memory: AsyncMemory) -> None:
    summary = await memory.conversation_summary(buffer_window_size=2, fold_every=3)
    scope = memory.scope("priya", session_id="trip")
    folds = []
    for message in conversation(9):
        await summary.add(scope, [message])
        folded = await summary.summary(scope)
        folds.append(folded.through_turn if folded else 0)
    # Folded when 3 turns had left the last 2: after turns 5 and 8.
    assert folds == [0, 0, 0, 0, 3, 3, 3, 6, 6]
    context = await summary.get_context(scope)
    assert [m["turn_number"] for m in context["messages"]] == [7, 8, 9]


async def test_get_context_keeps_to_the_token_budget(memory: AsyncMemory) -> None:
    summary = await memory.conversation_summary(
        buffer_window_size=4, max_total_tokens=4000, summary_context_weight=0.5
    )
    scope = memory.scope("priya", session_id="trip")
    await summary.add(scope, conversation())
    generous = await summary.get_context(scope)
    assert len(generous["messages"]) == 4 and generous["summary"]
    tight = await summary.get_context(scope, max_total_tokens=60)
    assert tight["tokens"] <= 60 and tight["summary_tokens"] <= 30
    assert tight["messages"] and tight["messages"][-1]["turn_number"] == 10
    assert len(tight["messages"]) < 4
    with pytest.raises(InvalidInput, match="max_total_tokens"):
        await summary.get_context(scope, max_total_tokens=0)


async def test_a_lagging_summary_is_caught_up_before_it_is_read(memory: AsyncMemory) -> None:
    """Turns added through ``add_messages`` (not the summary kind) are folded on read."""
    await memory.add_messages(conversation(), user_id="priya", session_id="trip")
    summary = await memory.conversation_summary(buffer_window_size=2)
    scope = memory.scope("priya", session_id="trip")
    assert await summary.summary(scope) is None
    context = await summary.get_context(scope)
    assert context["summarized_through_turn"] == 8
    assert [m["turn_number"] for m in context["messages"]] == [9, 10]


async def test_two_writers_folding_one_session_fold_each_turn_once(config: MnemoConfig) -> None:
    async with AsyncMemory(config) as one, AsyncMemory(config) as two:
        await one.add_messages(conversation(), user_id="priya", session_id="trip")
        scope = one.scope("priya", session_id="trip")
        summaries = [
            await engine.conversation_summary(buffer_window_size=2) for engine in (one, two)
        ]
        for _ in range(3):
            await asyncio.gather(*(s.refresh(scope) for s in summaries))
        for summary in summaries:  # each engine has its own in-process cache
            stored = await summary.refresh(scope)
            assert stored is not None
            assert (stored.through_turn, stored.turns_folded) == (8, 8)
            context = await summary.get_context(scope)
            assert context["summarized_through_turn"] == 8 and context["summary"] == stored.content


async def test_an_llm_writes_the_summary_and_its_failure_falls_back_offline(
    config: MnemoConfig,
) -> None:
    with FakeChatServer() as server:
        llm_config = replace(
            config,
            llm="openai-compatible:summarizer",
            llm_options={"base_url": server.base_url, "max_retries": 0},
        )
        async with AsyncMemory(llm_config) as engine:
            summary = await engine.conversation_summary(buffer_window_size=2)
            scope = engine.scope("priya", session_id="trip")
            server.script(reply("Priya lives in Porto and is planning a hike on Pico."))
            await summary.add(scope, conversation(4))
            folded = await summary.summary(scope)
            assert folded is not None
            assert folded.content == "Priya lives in Porto and is planning a hike on Pico."
            assert folded.method == "llm:openai-compatible/summarizer"
            prompt = server.requests[0].body["messages"]
            assert prompt[0]["role"] == "system" and "running summary" in prompt[0]["content"]
            assert "My name is Priya" in prompt[1]["content"]
            server.script(error(500, "the model is down"))
            await summary.add(scope, conversation()[4:6])
            fallback = await summary.summary(scope)
            assert fallback is not None and fallback.method == "extractive"
            assert fallback.through_turn == 4
            health = await engine.health(probe_llm=True)
            assert health.dependencies["llm"].status == "down"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"buffer_window_size": 0}, "buffer_window_size"),
        ({"summary_context_weight": 1.5}, "summary_context_weight"),
        ({"max_total_tokens": "lots"}, "max_total_tokens"),
    ],
)
async def test_bad_summary_policies_are_refused(
    memory: AsyncMemory, options: dict, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        await memory.conversation_summary(**options)
