"""The conversation buffer against a real PostgreSQL: windows by turns, tokens and time,
the inactivity TTL, and a cached window that never outlives a write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mnemo import AsyncMemory, InvalidInput

pytestmark = pytest.mark.asyncio


def turns(
    count: int, *, start: datetime | None = None, step: timedelta | None = None
) -> list[dict]:
    base = start or datetime.now(UTC) - timedelta(minutes=count)
    gap = step or timedelta(minutes=1)
    return [
        {
            "role": "user" if i % 2 == 0 else "assistant",
            "content": f"Turn {i} of the chat about gardening",
            "created_at": base + i * gap,
        }
        for i in range(count)
    ]


async def test_turn_window_holds_the_last_turns_and_sees_every_write(memory: AsyncMemory) -> None:
    await memory.add_messages(turns(6), user_id="alice", session_id="s1")
    buffer = await memory.conversation_buffer(window_type="turns", window_size=4)
    scope = memory.scope("alice", session_id="s1")
    context = await buffer.get_context(scope)
    assert [m["turn_number"] for m in context["messages"]] == [3, 4, 5, 6]
    assert context["message_count"] == 4 and context["expired"] is False
    assert context["tokens"] == sum(m["tokens"] for m in context["messages"])
    assert context["messages"][0]["role"] == "user"
    assert context["messages"][0]["content"] == "Turn 2 of the chat about gardening"
    # Cached now; a write must show at once.
    await memory.add_messages(
        [{"role": "user", "content": "Roses?"}], user_id="alice", session_id="s1"
    )
    context = await buffer.get_context(scope)
    assert [m["turn_number"] for m in context["messages"]] == [4, 5, 6, 7]
    assert context["messages"][-1]["content"] == "Roses?"
    other = await buffer.get_context(memory.scope("alice", session_id="s2"))
    assert other["messages"] == [] and other["last_activity"] is None


async def test_token_window_fits_the_newest_turns_and_cuts_a_lone_long_one(
    memory: AsyncMemory,
) -> None:
    await memory.add_messages(turns(5), user_id="alice", session_id="s1")
    stored = await memory.list_messages(user_id="alice", session_id="s1")
    per_turn = stored[-1].token_count
    buffer = await memory.conversation_buffer(window_type="tokens", window_size=per_turn * 2 + 1)
    scope = memory.scope("alice", session_id="s1")
    window = await buffer.window(scope)
    assert [m.turn_number for m in window.messages] == [4, 5]
    assert window.tokens <= per_turn * 2 + 1 and not window.truncated
    long_text = "A very long message about compost and soil. " * 40
    await memory.add_messages(
        [{"role": "user", "content": long_text}], user_id="alice", session_id="s1"
    )
    small = await memory.conversation_buffer(window_type="tokens", window_size=12)
    window = await small.window(scope)
    assert window.truncated and [m.turn_number for m in window.messages] == [6]
    assert window.tokens <= 12 and long_text.startswith(window.messages[0].content)
    assert window.messages[0].metadata["truncated"] is True


async def test_time_window_keeps_recent_turns_as_the_clock_moves(memory: AsyncMemory) -> None:
    now = datetime.now(UTC)
    old = turns(3, start=now - timedelta(hours=3))
    recent = turns(2, start=now - timedelta(minutes=5))
    await memory.add_messages([*old, *recent], user_id="alice", session_id="s1")
    buffer = await memory.conversation_buffer(window_type="time", window_size=3600)
    window = await buffer.window(memory.scope("alice", session_id="s1"))
    assert [m.turn_number for m in window.messages] == [4, 5]
    tight = await memory.conversation_buffer(window_type="time", window_size=60)
    assert (await tight.window(memory.scope("alice", session_id="s1"))).messages == []


async def test_an_inactive_session_has_an_empty_buffer_but_keeps_its_turns(
    memory: AsyncMemory,
) -> None:
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    await memory.add_messages(turns(3, start=long_ago), user_id="alice", session_id="s1")
    buffer = await memory.conversation_buffer(window_size=10, ttl_seconds=3600)
    scope = memory.scope("alice", session_id="s1")
    context = await buffer.get_context(scope)
    assert context["expired"] is True and context["messages"] == []
    assert context["last_activity"] is not None
    assert len(await memory.list_messages(user_id="alice", session_id="s1")) == 3
    assert await memory.search_messages("gardening", user_id="alice")
    stats = await buffer.stats(scope)
    assert stats["messages"] == 3 and stats["buffer"]["expired"] is True
    # A new turn makes the session active again.
    await memory.add_messages(
        [{"role": "user", "content": "I'm back"}], user_id="alice", session_id="s1"
    )
    context = await buffer.get_context(scope)
    assert context["expired"] is False and len(context["messages"]) == 4


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"window_type": "pages"}, "window_type must be one of"),
        ({"window_size": 0}, "window_size must be a positive number"),
        ({"window_size": 2.5}, "whole number"),
        ({"window_size": True}, "window_size must be a positive number"),
        ({"ttl_seconds": -1}, "ttl_seconds"),
    ],
)
async def test_bad_buffer_policies_are_refused(
    memory: AsyncMemory, options: dict, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        await memory.conversation_buffer(**options)
