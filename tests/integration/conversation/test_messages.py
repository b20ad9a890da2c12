"""Conversation turns against a real PostgreSQL: add, idempotency, tools, paging, search, stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mnemo import AsyncMemory, Conflict, InvalidInput, MnemoConfig, NotFound, Scope

pytestmark = pytest.mark.asyncio

WEATHER_TURNS = [
    {"role": "user", "content": "Should I bring an umbrella to Lisbon tomorrow?"},
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_forecast", "arguments": '{"city": "Lisbon"}'},
            }
        ],
    },
    {
        "role": "tool",
        "content": "",
        "tool_results": [
            {
                "tool_call_id": "call_1",
                "name": "get_forecast",
                "output": {"city": "Lisbon", "rain_mm": 12, "conditions": "heavy showers"},
            }
        ],
    },
    {"role": "assistant", "content": "Yes: heavy showers are expected, take an umbrella."},
]


async def test_turns_are_numbered_per_session_and_round_trip(memory: AsyncMemory) -> None:
    ids = await memory.add_messages(WEATHER_TURNS, user_id="alice", session_id="s1")
    more = await memory.add_messages(
        [{"role": "user", "content": "Thanks!"}], user_id="alice", session_id="s1"
    )
    other = await memory.add_messages(
        [{"role": "user", "content": "Hello"}], user_id="alice", session_id="s2"
    )
    listed = await memory.list_messages(user_id="alice", session_id="s1")
    assert [m.id for m in listed] == [*ids, *more]
    assert [m.turn_number for m in listed] == [1, 2, 3, 4, 5]
    assert (await memory.list_messages(user_id="alice", session_id="s2"))[0].id == other[0]
    call, result = listed[1], listed[2]
    # An OpenAI-shaped call is read as OpenAI's: arguments parsed, the message kept.
    assert call.tool_calls == [
        {"id": "call_1", "name": "get_forecast", "arguments": {"city": "Lisbon"}}
    ]
    assert call.source is not None and call.source["format"] == "openai"
    assert result.tool_results == [
        {
            "tool_call_id": "call_1",
            "name": "get_forecast",
            "output": {"city": "Lisbon", "rain_mm": 12, "conditions": "heavy showers"},
        }
    ]
    assert result.role == "tool" and result.content == ""
    assert result.token_count > 0 and result.embedding_model == memory.embedder.model_id


async def test_a_tool_result_is_found_by_a_question_about_it(memory: AsyncMemory) -> None:
    await memory.add_messages(WEATHER_TURNS, user_id="alice", session_id="s1")
    await memory.add_messages(
        [
            {"role": "user", "content": "Recommend a novel for the flight"},
            {"role": "assistant", "content": "Try 'The Years' by Annie Ernaux."},
        ],
        user_id="alice",
        session_id="s2",
    )
    hits = await memory.search_messages("how much rain did the forecast say?", user_id="alice")
    assert hits[0].role == "tool"
    assert hits[0].tool_results is not None and hits[0].tool_results[0]["output"]["rain_mm"] == 12
    assert {"relevance", "vector", "lexical"} <= set(hits[0].scores)
    only_users = await memory.search_messages("forecast", user_id="alice", roles=["user"])
    assert {h.role for h in only_users} == {"user"}
    assert await memory.search_messages("forecast", user_id="bob") == []
    # The other sessions' turns only (the context's past turns): s2's tool turn is left out.
    others = await memory.search_messages("forecast rain", user_id="alice", exclude_session_id="s2")
    assert others and {h.session_id for h in others} == {"s1"}
    rest = await memory.search_messages("forecast rain", user_id="alice", exclude_session_id="s1")
    assert {h.session_id for h in rest} <= {"s2"}


async def test_a_retried_add_with_idempotency_keys_stores_nothing_twice(
    memory: AsyncMemory,
) -> None:
    batch = [
        {"role": "user", "content": "Book a table for two", "idempotency_key": "req-1:0"},
        {"role": "assistant", "content": "Booked for 8 pm", "idempotency_key": "req-1:1"},
    ]
    first = await memory.add_messages(batch, user_id="alice", session_id="s1")
    again = await memory.add_messages(batch, user_id="alice", session_id="s1")
    assert again == first
    extended = await memory.add_messages(
        [*batch, {"role": "user", "content": "Thanks", "idempotency_key": "req-2:0"}],
        user_id="alice",
        session_id="s1",
    )
    assert extended[:2] == first
    listed = await memory.list_messages(user_id="alice", session_id="s1")
    assert [m.turn_number for m in listed] == [1, 2, 3]
    # The same key in another session is another message.
    elsewhere = await memory.add_messages(batch[:1], user_id="alice", session_id="s2")
    assert elsewhere[0] not in first
    with pytest.raises(Conflict, match="idempotency key 'req-1:0'"):
        await memory.add_messages(
            [
                {"role": "user", "content": "New turn", "idempotency_key": "req-3:0"},
                {"role": "user", "content": "Changed text", "idempotency_key": "req-1:0"},
            ],
            user_id="alice",
            session_id="s1",
        )
    assert len(await memory.list_messages(user_id="alice", session_id="s1")) == 3


async def test_given_turn_numbers_are_kept_and_never_taken_twice(memory: AsyncMemory) -> None:
    await memory.add_messages(
        [
            {"role": "user", "content": "turn five", "turn_number": 5},
            {"role": "user", "content": "next"},
        ],
        user_id="alice",
        session_id="s1",
    )
    assert [
        m.turn_number for m in await memory.list_messages(user_id="alice", session_id="s1")
    ] == [5, 6]
    with pytest.raises(Conflict, match=r"turn numbers \[5\] already exist"):
        await memory.add_messages(
            [{"role": "user", "content": "again", "turn_number": 5}],
            user_id="alice",
            session_id="s1",
        )
    with pytest.raises(Conflict, match="given to two messages"):
        await memory.add_messages(
            [{"role": "user", "content": "x"}, {"role": "user", "content": "y", "turn_number": 7}],
            user_id="alice",
            session_id="s1",
        )
    backfill = await memory.add_messages(
        [{"role": "system", "content": "You are helpful.", "turn_number": 1}],
        user_id="alice",
        session_id="s1",
    )
    listed = await memory.list_messages(user_id="alice", session_id="s1")
    assert (listed[0].turn_number, listed[0].id) == (1, backfill[0])
    assert len(listed) == 3


async def test_pages_follow_cursors_in_both_orders_and_across_sessions(
    memory: AsyncMemory,
) -> None:
    start = datetime(2024, 5, 1, 12, tzinfo=UTC)
    turns = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"message number {i}",
         "created_at": start + timedelta(minutes=i)}
        for i in range(7)
    ]  # fmt: skip
    await memory.add_messages(turns[:5], user_id="alice", session_id="s1")
    await memory.add_messages(turns[5:], user_id="alice", session_id="s2")
    scope = memory.scope("alice", session_id="s1")
    seen, cursor = [], None
    while True:
        page = await memory.messages.page(scope, limit=2, cursor=cursor)
        seen += [m.turn_number for m in page.messages]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [1, 2, 3, 4, 5]
    newest = await memory.messages.page(scope, limit=3, newest_first=True)
    assert [m.turn_number for m in newest.messages] == [5, 4, 3]
    assert newest.next_cursor is not None
    rest = await memory.messages.page(scope, limit=3, newest_first=True, cursor=newest.next_cursor)
    assert [m.turn_number for m in rest.messages] == [2, 1] and rest.next_cursor is None
    with pytest.raises(InvalidInput, match="another listing"):
        await memory.messages.page(scope, limit=3, cursor=newest.next_cursor)
    with pytest.raises(InvalidInput, match="cursor"):
        await memory.messages.page(scope, cursor="not-a-cursor")
    everyone = memory.scope("alice")
    first = await memory.messages.page(everyone, limit=4)
    second = await memory.messages.page(everyone, limit=4, cursor=first.next_cursor)
    contents = [m.content for m in first.messages + second.messages]
    assert contents == [f"message number {i}" for i in range(7)]
    only_users = await memory.list_messages(user_id="alice", session_id="s1", roles=["user"])
    assert [m.turn_number for m in only_users] == [1, 3, 5]
    after = await memory.list_messages(user_id="alice", session_id="s1", after_turn=3)
    assert [m.turn_number for m in after] == [4, 5]


async def test_session_and_user_stats(memory: AsyncMemory) -> None:
    await memory.add_messages(WEATHER_TURNS, user_id="alice", session_id="s1")
    await memory.add_messages(
        [{"role": "user", "content": "Hi again"}], user_id="alice", session_id="s2"
    )
    session = await memory.messages.session_stats(memory.scope("alice", session_id="s1"))
    assert session.messages == 4 and session.sessions == 1
    assert session.by_role == {"user": 1, "assistant": 2, "tool": 1, "system": 0}
    assert (session.tool_calls, session.tool_results) == (1, 1)
    assert (session.first_turn, session.last_turn) == (1, 4)
    assert session.tokens > 20 and session.content_chars == sum(
        len(t["content"]) for t in WEATHER_TURNS
    )
    assert session.oldest is not None and session.newest is not None
    assert session.oldest <= session.newest
    user = await memory.messages.user_stats(memory.scope("alice"))
    assert (user.messages, user.sessions, user.first_turn) == (5, 2, None)
    assert user.as_dict()["newest"] == user.newest.isoformat()  # type: ignore[union-attr]
    empty = await memory.messages.session_stats(memory.scope("nobody", session_id="x"))
    assert (empty.messages, empty.tokens, empty.oldest) == (0, 0, None)


BAD_BATCHES: list[tuple[object, str]] = [
    ("hello", "list of objects"),
    ([{"role": "robot", "content": "x"}], "role must be one of"),
    ([{"role": "user", "content": "   "}], "content must not be empty"),
    ([{"role": "user"}], "content must be a string"),
    ([{"role": "user", "content": "x", "colour": "red"}], "unknown fields"),
    ([{"role": "user", "content": "x", "tool_calls": [{"name": "f"}]}], "only an assistant"),
    ([{"role": "assistant", "content": "", "tool_calls": []}], "non-empty list"),
    (
        [{"role": "assistant", "content": "x", "tool_calls": [{"arguments": {}}]}],
        "name is required",
    ),
    (
        [{"role": "assistant", "content": "x", "tool_calls": [{"name": "f", "x": 1}]}],
        "unknown fields",
    ),
    ([{"role": "tool", "content": "", "tool_results": [{"name": "f"}]}], "needs an 'output'"),
    ([{"role": "tool", "content": ""}], "content must not be empty"),
    ([{"role": "tool", "content": "x", "tool_results": [{"output": {1, 2}}]}], "JSON-serialisable"),
    ([{"role": "user", "content": "x" * 100_001}], "the limit is 100000"),
    ([{"role": "user", "content": "x", "turn_number": 0}], "positive integer"),
    ([{"role": "user", "content": "x", "created_at": "yesterday"}], "ISO 8601"),
    ([{"role": "user", "content": "x", "metadata": ["a"]}], "metadata must be an object"),
    (
        [
            {"role": "user", "content": "a", "idempotency_key": "k"},
            {"role": "user", "content": "b", "idempotency_key": "k"},
        ],
        "repeated within one batch",
    ),
    ([{"role": "user", "content": "ok"}, {"role": "user", "content": "a\x00b"}], "NUL"),
]


@pytest.mark.parametrize(("batch", "message"), BAD_BATCHES)
async def test_bad_messages_raise_typed_errors_and_store_nothing(
    memory: AsyncMemory, batch: object, message: str
) -> None:
    await memory.add_messages([{"role": "user", "content": "kept"}], user_id="alice")
    with pytest.raises(InvalidInput, match=message):
        await memory.add_messages(batch, user_id="alice")  # type: ignore[arg-type]
    stored = await memory.list_messages(user_id="alice", session_id="default")
    assert [m.content for m in stored] == ["kept"]


async def test_bad_arguments_of_reads_raise_typed_errors(memory: AsyncMemory) -> None:
    with pytest.raises(InvalidInput, match="user_id is required"):
        await memory.add_messages([{"role": "user", "content": "x"}], user_id=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="unknown roles"):
        await memory.search_messages("x", user_id="alice", roles=["robot"])
    with pytest.raises(InvalidInput, match="query must not be empty"):
        await memory.search_messages(" ", user_id="alice")
    with pytest.raises(InvalidInput, match="exclude_session_id must be a non-empty string"):
        await memory.search_messages("x", user_id="alice", exclude_session_id="")
    with pytest.raises(InvalidInput, match="limit"):
        await memory.list_messages(user_id="alice", limit=0)
    with pytest.raises(InvalidInput, match="after_turn needs a session_id"):
        await memory.list_messages(user_id="alice", after_turn=2)
    with pytest.raises(NotFound):
        await memory.messages.delete(memory.scope("alice"), "0190b1f4-0000-7000-8000-000000000000")


async def test_deleting_messages_sessions_and_users(memory: AsyncMemory) -> None:
    ids = await memory.add_messages(WEATHER_TURNS, user_id="alice", session_id="s1")
    await memory.add_messages(
        [{"role": "user", "content": "Other"}], user_id="alice", session_id="s2"
    )
    await memory.messages.delete(memory.scope("alice"), ids[0])
    assert [m.id for m in await memory.list_messages(user_id="alice", session_id="s1")] == ids[1:]
    assert await memory.messages.delete_session(memory.scope("alice", session_id="s1")) == 3
    counts = await memory.delete_user("alice")
    assert counts["messages"] == 1
    assert await memory.list_messages(user_id="alice") == []


async def test_messages_is_usable_before_the_engine_opens(config: MnemoConfig) -> None:
    engine = AsyncMemory(config)
    try:
        records = await engine.messages.add(
            Scope(config.tenant_id, "alice", session_id="s1"), [{"role": "user", "content": "hi"}]
        )
        assert records[0].turn_number == 1
    finally:
        await engine.close()
