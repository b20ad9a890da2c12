"""Provider message formats in and out (pure): messages built with the real SDK types."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mnemo.core.formats import (
    batch_formats,
    detect_format,
    paired,
    plain,
    read_message,
    to_format,
)
from mnemo.core.message_checks import search_text
from mnemo.core.messages import MessageRecord
from mnemo.errors import InvalidInput
from tests.sdk_conversations import (
    CONVERSATIONS,
    IMAGE,
    PNG,
    anthropic_conversation,
    openai_conversation,
    responses_conversation,
)

LIMITS = {"max_chars": 100_000, "max_metadata_bytes": 10_000}


def stored(messages: list[Any], fmt: str | None = None) -> list[MessageRecord]:
    """Turns as the store would hand them back."""
    out = []
    items = [plain(m) for m in messages]
    for n, (message, f) in enumerate(zip(items, batch_formats(items, fmt), strict=True)):
        fields = read_message(message, n, f, **LIMITS)
        out.append(
            MessageRecord(
                id=str(n), user_id="u", session_id="s", turn_number=n + 1, role=fields.role,
                content=fields.content, created_at=datetime.now(UTC), name=fields.name,
                tool_calls=fields.tool_calls, tool_results=fields.tool_results,
                source=fields.source,
            )
        )  # fmt: skip
    return out


@pytest.mark.parametrize(
    ("conversation", "fmt"),
    [
        (openai_conversation, "openai"),
        (anthropic_conversation, "anthropic"),
        (responses_conversation, "responses"),
    ],
)
def test_a_conversation_comes_back_unchanged_in_its_format(conversation: Any, fmt: str) -> None:
    messages = conversation()
    assert [detect_format(plain(m)) for m in messages if detect_format(plain(m))] != []
    turns = stored(messages)
    assert to_format(turns, fmt) == [plain(m) for m in messages]
    assert all(t.source is not None and t.source["format"] == fmt for t in turns[1:])


def test_text_parts_are_the_content_and_tools_are_stored_as_turn_fields() -> None:
    turns = stored(openai_conversation())
    assert turns[2].content == "Widget 42 is stuck.\nPlease fix it.\nThanks"
    assert turns[3].tool_calls == [
        {"id": "call_1", "name": "reset_widget", "arguments": {"id": 42, "mode": "soft"}}
    ]
    assert turns[4].role == "tool"
    assert turns[4].tool_results == [{"tool_call_id": "call_1", "output": '{"ok": true}'}]
    assert turns[2].source is not None
    image = {"type": "image_url", "image_url": {"url": IMAGE, "detail": "low"}}
    assert image in turns[2].source["parts"]
    anthropic = stored(anthropic_conversation())
    call = {"id": "toolu_1", "name": "reset_widget", "arguments": {"id": 42}}
    assert anthropic[1].tool_calls == [call]
    assert (anthropic[2].role, anthropic[2].content) == ("tool", "Thanks!")
    assert anthropic[2].tool_results == [{"tool_call_id": "toolu_1", "output": "ok"}]


def test_tool_activity_reads_as_a_person_would_say_it() -> None:
    turns = stored(openai_conversation())
    calls = {c["id"]: c for t in turns for c in t.tool_calls or []}
    assert search_text(turns[3].content, turns[3].tool_calls, None) == (
        'called reset_widget(id=42, mode="soft")'
    )
    assert search_text("", None, turns[4].tool_results, calls) == (
        'called reset_widget(id=42, mode="soft") → {"ok": true}'
    )


@pytest.mark.parametrize("source", ["openai", "anthropic", "responses"])
@pytest.mark.parametrize("target", ["openai", "anthropic", "responses"])
def test_translated_conversations_pair_every_call_with_its_result(source: str, target: str) -> None:
    conversation = CONVERSATIONS[source]
    out = to_format(stored(conversation()), target)
    if target == "openai":
        calls = [c["id"] for m in out for c in m.get("tool_calls", [])]
        results = [m["tool_call_id"] for m in out if m["role"] == "tool"]
        assert calls == results and calls
        at = next(i for i, m in enumerate(out) if m.get("tool_calls"))
        assert out[at + 1]["role"] == "tool"
    elif target == "anthropic":
        blocks = [b for m in out if isinstance(m["content"], list) for b in m["content"]]
        uses = [b["id"] for b in blocks if b["type"] == "tool_use"]
        results = [b["tool_use_id"] for b in blocks if b["type"] == "tool_result"]
        assert uses == results and uses
        assert all(m["role"] in ("user", "assistant") for m in out)
    else:
        calls = [i["call_id"] for i in out if i.get("type") == "function_call"]
        outputs = [i["call_id"] for i in out if i.get("type") == "function_call_output"]
        assert calls == outputs and calls


def test_images_are_translated_by_reference() -> None:
    out = to_format(stored(openai_conversation()), "anthropic")
    image = out[0]["content"][-1]  # Anthropic has no system messages
    assert image == {"type": "image", "source": {"type": "url", "url": IMAGE}}
    back = to_format(stored(anthropic_conversation()), "openai")
    assert back[0]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": f"data:image/png;base64,{PNG}"},
    }


def test_a_window_never_starts_with_a_result_whose_call_it_lost() -> None:
    turns = stored(openai_conversation())
    assert paired(turns[4:]) == turns[5:]
    assert paired(turns[3:]) == turns[3:]


@pytest.mark.parametrize(
    ("message", "fmt", "error"),
    [
        ({"role": "assistant", "content": None, "tool_calls": [
            {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{not json"}}]},
         None, "message 0.tool_calls[0].function.arguments is not valid JSON"),
        ({"role": "user", "content": [{"type": "video", "url": "x"}]}, "anthropic",
         "message 0.content[0].type 'video' is not a Anthropic content type"),
        ({"role": "user", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}]},
         None,
         "message 0.content[0]: only an assistant message has tool_use blocks"),
        ({"type": "function_call", "call_id": "c", "name": "f", "arguments": "[1,"}, None,
         "message 0.arguments is not valid JSON"),
        ({"type": "telepathy"}, None, "message 0.type 'telepathy' is not a Responses item type"),
        ({"role": "tool", "tool_call_id": "c", "content": "x"}, "anthropic",
         "message 0.role 'tool' is not an Anthropic role"),
        ({"role": "user", "content": [{"type": "tool_result", "content": "x"}]}, "anthropic",
         "message 0.content[0] needs 'tool_use_id'"),
    ],
)  # fmt: skip
def test_malformed_messages_name_the_message_and_the_field(
    message: dict[str, Any], fmt: str | None, error: str
) -> None:
    with pytest.raises(InvalidInput, match=re.escape(error)):
        read_message(message, 0, fmt, **LIMITS)


def test_mnemo_extras_ride_along_a_provider_message() -> None:
    fields = read_message(
        {"role": "tool", "tool_call_id": "c1", "content": "ok", "metadata": {"k": 1},
         "idempotency_key": "k1"}, 0, None, **LIMITS,
    )  # fmt: skip
    assert (fields.metadata, fields.idempotency_key) == ({"k": 1}, "k1")
    assert fields.source == {"format": "openai"}


_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
_KEYS = st.sampled_from(
    ["role", "content", "type", "text", "tool_calls", "tool_call_id", "function", "name",
     "arguments", "call_id", "output", "id", "input", "tool_use_id", "image_url"]
)  # fmt: skip
_WORDS = st.sampled_from(
    ["user", "assistant", "tool", "developer", "system", "message", "function_call",
     "function_call_output", "text", "tool_use", "tool_result", "input_text", "image_url",
     "function", "reasoning"]
)  # fmt: skip
_JSON = st.recursive(
    _SCALARS | _WORDS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    message=st.dictionaries(_KEYS, _JSON, max_size=5), fmt=st.sampled_from([None, *CONVERSATIONS])
)
def test_any_json_message_is_read_or_refused_with_invalid_input(
    message: dict[str, Any], fmt: str | None
) -> None:
    try:
        fields = read_message(message, 0, batch_formats([message], fmt)[0], **LIMITS)
    except InvalidInput:
        return
    turn = MessageRecord(
        id="1", user_id="u", session_id="s", turn_number=1, role=fields.role,
        content=fields.content, created_at=datetime.now(UTC), name=fields.name,
        tool_calls=fields.tool_calls, tool_results=fields.tool_results, source=fields.source,
    )  # fmt: skip
    if fields.source is not None:
        assert to_format([turn], fields.source["format"]) == [message]
    for target in CONVERSATIONS:
        to_format([turn], target)
