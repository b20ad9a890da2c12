"""Provider formats through the library against a real PostgreSQL: in unchanged, back
unchanged, searchable by what the tools did, malformed batches refused whole."""

from __future__ import annotations

from typing import Any

import pytest
from psycopg import sql

from mnemo import AsyncMemory, InvalidInput
from mnemo.compat.memory_implementations import (
    ConversationBufferMemory,
    ConversationSummaryMemory,
)
from mnemo.core.formats import plain
from tests.sdk_conversations import CONVERSATIONS

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("fmt", list(CONVERSATIONS))
async def test_an_sdk_conversation_comes_back_unchanged(memory: AsyncMemory, fmt: str) -> None:
    messages = CONVERSATIONS[fmt]()
    ids = await memory.add_messages(messages, user_id="u", session_id="s")
    assert len(ids) == len(messages)
    back = await memory.list_messages(user_id="u", session_id="s", format=fmt)  # type: ignore[call-overload]
    assert back == [plain(m) for m in messages]
    turns = await memory.list_messages(user_id="u", session_id="s")
    assert any(t.tool_calls for t in turns) and any(t.tool_results for t in turns)


@pytest.mark.parametrize("fmt", list(CONVERSATIONS))
async def test_what_the_tools_did_is_searchable(memory: AsyncMemory, fmt: str) -> None:
    await memory.add_messages(CONVERSATIONS[fmt](), user_id="u", session_id="s")
    await memory.add_messages(
        [{"role": "user", "content": "Recommend a novel for the flight"},
         {"role": "assistant", "content": "Try 'The Years' by Annie Ernaux."}],
        user_id="u", session_id="other",
    )  # fmt: skip
    hits = await memory.search_messages("what did the assistant do about widget 42?", user_id="u")
    tool_turns = [h for h in hits[:3] if h.tool_calls or h.tool_results]
    assert tool_turns, [h.content for h in hits]
    calls = await memory.search_messages("reset_widget", user_id="u", roles=["assistant"])
    assert any(c.tool_calls and c.tool_calls[0]["name"] == "reset_widget" for c in calls[:2])


async def test_a_result_added_later_names_its_stored_call(memory: AsyncMemory) -> None:
    call = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_9", "type": "function",
         "function": {"name": "reset_widget", "arguments": '{"id": 42}'}}]}  # fmt: skip
    await memory.add_messages([call], user_id="u", session_id="s")
    await memory.add_messages(
        [{"role": "tool", "tool_call_id": "call_9", "content": "ok"}], user_id="u", session_id="s"
    )
    hits = await memory.search_messages("reset widget 42", user_id="u", roles=["tool"])
    assert hits and hits[0].tool_results == [{"tool_call_id": "call_9", "output": "ok"}]
    assert "called reset_widget(id=42) → ok" in await _search_text(memory, hits[0].id)


@pytest.mark.parametrize(
    ("batch", "error"),
    [
        ([{"role": "user", "content": "hi"},
          {"role": "tool", "tool_call_id": "call_unknown", "content": "ok"}],
         "message 1.tool_call_id 'call_unknown' answers no tool call"),
        ([{"role": "user", "content": "hi"},
          {"role": "assistant", "content": None, "tool_calls": [
              {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{oops"}}]}],
         "message 1.tool_calls[0].function.arguments is not valid JSON"),
        ([{"role": "user", "content": "hi"},
          {"role": "user", "content": [{"type": "hologram", "text": "x"}]}],
         "message 1.content[0].type 'hologram' is not a OpenAI chat content type"),
        ([{"role": "user", "content": "hi"},
          {"type": "function_call_output", "call_id": "nope", "output": "x"}],
         "message 1.call_id 'nope' answers no tool call of this batch or session"),
        ([{"role": "user", "content": "hi"},
          {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_x"}]}],
         "message 1.tool_use_id 'toolu_x' answers no tool call"),
    ],
)  # fmt: skip
async def test_a_malformed_message_stores_nothing_of_its_batch(
    memory: AsyncMemory, batch: list[dict[str, Any]], error: str
) -> None:
    with pytest.raises(InvalidInput, match=error.replace("[", r"\[").replace("]", r"\]")):
        await memory.add_messages(batch, user_id="u", session_id="s")
    assert await memory.list_messages(user_id="u", session_id="s") == []


async def test_a_named_format_is_held_to(memory: AsyncMemory) -> None:
    with pytest.raises(InvalidInput, match=r"message 0\.role 'tool' is not an Anthropic role"):
        await memory.add_messages(
            [{"role": "tool", "tool_call_id": "c", "content": "x"}],
            user_id="u", session_id="s", format="anthropic",
        )  # fmt: skip
    with pytest.raises(InvalidInput, match="format must be one of"):
        await memory.add_messages([{"role": "user", "content": "x"}], user_id="u", format="gpt")


async def test_a_listing_never_cuts_a_call_from_its_result(memory: AsyncMemory) -> None:
    await memory.add_messages(CONVERSATIONS["openai"](), user_id="u", session_id="s")
    # Turns 1-4: the page ends on the call (turn 4); its result (turn 5) is added.
    first = await memory.list_messages(user_id="u", session_id="s", limit=4, format="openai")
    assert [m["role"] for m in first[-2:]] == ["assistant", "tool"]
    # A page starting on the result leaves it out: its call is on the page before.
    rest = await memory.list_messages(user_id="u", session_id="s", after_turn=4, format="openai")
    assert [m["role"] for m in rest] == ["assistant"]
    newest = await memory.list_messages(
        user_id="u", session_id="s", limit=2, newest_first=True, format="anthropic"
    )
    assert newest == [{"role": "assistant", "content": "Widget 42 was reset."}]


async def test_buffer_and_summary_give_a_provider_window(memory: AsyncMemory) -> None:
    buffer = ConversationBufferMemory({"window_size": 2}, memory=memory)
    summary = ConversationSummaryMemory({"buffer_window_size": 3}, memory=memory)
    for message in CONVERSATIONS["anthropic"]():
        await buffer.store({"user_id": "u", "session_id": "b", **plain(message)})
    for message in CONVERSATIONS["responses"]():
        await summary.store({"user_id": "u", "session_id": "r", **plain(message)})
    window = await buffer.get_context({"user_id": "u", "session_id": "b", "format": "openai"})
    # The last 2 turns start with the tool result of turn 3: the window starts after it.
    assert window["messages"] == [{"role": "assistant", "content": "Done: widget 42 is reset."}]
    native = await buffer.get_context({"user_id": "u", "session_id": "b", "format": "anthropic"})
    assert native["messages"] == [plain(m) for m in CONVERSATIONS["anthropic"]()[3:]]
    context = await summary.get_context({"user_id": "u", "session_id": "r", "format": "responses"})
    assert context["messages"] and context["messages"][-1] == plain(
        CONVERSATIONS["responses"]()[-1]
    )
    assert not any(m.get("type") == "function_call_output" for m in context["messages"][:1])


async def test_add_with_infer_takes_provider_messages(memory: AsyncMemory) -> None:
    result = await memory.add(
        CONVERSATIONS["anthropic"](), user_id="u", session_id="s", infer=True, format="anthropic",
    )  # fmt: skip
    assert len(result.ids) == 4
    back = await memory.list_messages(user_id="u", session_id="s", format="anthropic")
    assert back == [plain(m) for m in CONVERSATIONS["anthropic"]()]
    notes = await memory.add(CONVERSATIONS["openai"]()[3:5], user_id="n")
    assert "called reset_widget" in notes.memories[0].content


async def _search_text(memory: AsyncMemory, message_id: str) -> str:
    """What search indexes for a turn (the ``content`` column)."""
    rows = await memory.db.fetch(
        sql.SQL("SELECT content FROM messages WHERE id = %(id)s"), {"id": message_id},
        tenant_id=memory.config.tenant_id,
    )  # fmt: skip
    return str(rows[0]["content"])


async def test_an_exported_user_imports_with_the_provider_form(memory: AsyncMemory) -> None:
    await memory.add_messages(CONVERSATIONS["anthropic"](), user_id="kai", session_id="s")
    lines = [line async for line in memory.export_user("kai")]
    await memory.import_user("kai-copy", lines)
    back = await memory.list_messages(user_id="kai-copy", session_id="s", format="anthropic")
    assert back == [plain(m) for m in CONVERSATIONS["anthropic"]()]
