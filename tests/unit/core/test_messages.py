"""Message checks, the search text of a turn, and the JSON forms of message records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mnemo.core.message_checks import check_message, search_text, turn_texts
from mnemo.core.messages import (
    MessageRecord,
    SessionSummary,
    record_from_json,
    record_to_json,
    summary_from_json,
    summary_to_json,
)
from mnemo.errors import InvalidInput

LIMITS = {"max_chars": 1000, "max_metadata_bytes": 200}


def check(item: object) -> object:
    return check_message(item, 0, **LIMITS)


def test_openai_tool_calls_are_read_as_name_id_and_arguments() -> None:
    fields = check(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                {"name": "g", "arguments": {"x": 1}},
            ],
        }
    )
    assert fields.content == ""  # type: ignore[attr-defined]
    assert fields.tool_calls == [  # type: ignore[attr-defined]
        {"name": "f", "id": "c1", "arguments": "{}"},
        {"name": "g", "arguments": {"x": 1}},
    ]


def test_tool_results_keep_output_ids_and_error_flags() -> None:
    fields = check(
        {
            "role": "tool",
            "content": "",
            "tool_results": [{"output": [1, 2], "tool_call_id": "c1", "is_error": False}],
        }
    )
    assert fields.tool_results == [  # type: ignore[attr-defined]
        {"output": [1, 2], "tool_call_id": "c1", "is_error": False}
    ]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (["role"], "must be an object"),
        ({"role": "user", "content": "x", "tool_results": [{"output": 1}]}, "only a tool"),
        ({"role": "assistant", "content": "x", "tool_calls": "f"}, "non-empty list"),
        ({"role": "assistant", "content": "x", "tool_calls": [{"name": " "}]}, "non-empty string"),
        ({"role": "assistant", "content": "x", "tool_calls": [{"function": "f"}]}, "function must"),
        (
            {"role": "tool", "content": "", "tool_results": [{"output": 1, "is_error": "no"}]},
            "true or false",
        ),
        ({"role": "tool", "content": "", "tool_results": [{"output": float("nan")}]}, "JSON"),
        (
            {"role": "assistant", "tool_calls": [{"name": "f", "arguments": "x" * 2000}]},
            "the limit is 1000",
        ),
        ({"role": "user", "content": "x", "metadata": {"k": "v" * 300}}, "larger than 200"),
        ({"role": "user", "content": "x", "name": "n" * 256}, "at most 255"),
        ({"role": "user", "content": "x", "turn_number": True}, "positive integer"),
        ({"role": "user", "content": "x", "agent_id": ""}, "agent_id"),
    ],
)  # fmt: skip
def test_bad_messages_are_refused_with_the_reason(item: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check(item)


def test_search_text_holds_content_tool_calls_and_results() -> None:
    text = search_text(
        "Let me look.",
        [{"name": "get_forecast", "arguments": {"city": "Lisbon"}}],
        None,
    )
    assert text == 'Let me look.\ncalled get_forecast(city="Lisbon")'
    result = search_text("", None, [{"name": "get_forecast", "output": "rain", "is_error": True}])
    assert result == "get_forecast → error: rain"
    assert search_text("", None, [{"output": {"b": 1, "a": 2}}]) == 'tool result → {"a": 2, "b": 1}'
    call = {"id": "c1", "name": "reset_widget", "arguments": '{"id": 42}'}
    answered = search_text("", None, [{"tool_call_id": "c1", "output": "ok"}], {"c1": call})
    assert answered == "called reset_widget(id=42) → ok"


def test_records_and_summaries_survive_json() -> None:
    record = MessageRecord(
        id="x",
        user_id="u",
        session_id="s",
        turn_number=3,
        role="tool",
        content="",
        created_at=datetime(2024, 1, 2, 3, 4, tzinfo=UTC),
        tool_results=[{"output": {"a": 1}}],
        metadata={"k": [1]},
        token_count=5,
    )
    assert record_from_json(record_to_json(record)) == record
    summary = SessionSummary(
        session_id="s",
        content="text",
        through_turn=4,
        turns_folded=4,
        token_count=1,
        method="extractive",
        updated_at=datetime(2024, 1, 2, tzinfo=UTC),
    )
    assert summary_from_json(summary_to_json(summary)) == summary
    prompt = record.for_prompt()
    assert prompt["role"] == "tool" and prompt["tool_results"] == [{"output": {"a": 1}}]
    assert "name" not in prompt and prompt["created_at"] == "2024-01-02T03:04:00+00:00"


def test_turn_texts_describe_each_result_by_the_call_before_it() -> None:
    def turn(**fields: object) -> MessageRecord:
        return MessageRecord(
            id="x", user_id="u", session_id="s", turn_number=1, created_at=datetime.now(UTC),
            **{"role": "assistant", "content": "", **fields},  # type: ignore[arg-type]
        )  # fmt: skip

    call = turn(tool_calls=[{"id": "c1", "name": "reset_widget", "arguments": {"id": 42}}])
    result = turn(role="tool", tool_results=[{"tool_call_id": "c1", "output": "ok"}])
    assert turn_texts([call, result]) == [
        "called reset_widget(id=42)",
        "called reset_widget(id=42) → ok",
    ]
