"""Conversations with tool use as the official SDKs build them (their typed params and
models, no network): one per format, for the format tests of every face."""

from __future__ import annotations

from typing import Any

from anthropic.types import Message as AnthropicMessage
from anthropic.types import MessageParam, TextBlock, ToolUseBlock, Usage
from openai.types.chat import (
    ChatCompletionMessage,
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageParam,
)
from openai.types.chat.chat_completion_message_function_tool_call import Function
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseInputItemParam,
    ResponseOutputMessage,
    ResponseOutputText,
)

IMAGE = "https://example.com/w.png"
PNG = "iVBORw0KGgo="


def openai_conversation() -> list[Any]:
    history: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "You look after widgets."},
        {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Widget 42 is stuck."},
                {"type": "text", "text": "Please fix it.\nThanks"},
                {"type": "image_url", "image_url": {"url": IMAGE, "detail": "low"}},
            ],
        },
    ]
    reply = ChatCompletionMessage(
        role="assistant",
        content=None,
        tool_calls=[
            ChatCompletionMessageFunctionToolCall(
                id="call_1", type="function",
                function=Function(name="reset_widget", arguments='{"id":42,"mode":"soft"}'),
            )
        ],
    )  # fmt: skip
    after: list[ChatCompletionMessageParam] = [
        {"role": "tool", "tool_call_id": "call_1", "content": '{"ok": true}'},
        {"role": "assistant", "content": "Widget 42 was reset.", "refusal": None},
    ]
    return [*history, reply, *after]


def anthropic_conversation() -> list[Any]:
    first: MessageParam = {
        "role": "user",
        "content": [
            {"type": "text", "text": "Widget 42 is stuck.", "cache_control": {"type": "ephemeral"}},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
        ],
    }  # fmt: skip
    reply = AnthropicMessage(
        id="msg_1", type="message", role="assistant", model="claude-sonnet-4-5",
        content=[
            TextBlock(type="text", text="Let me reset it."),
            ToolUseBlock(type="tool_use", id="toolu_1", name="reset_widget", input={"id": 42}),
        ],
        stop_reason="tool_use", stop_sequence=None,
        usage=Usage(input_tokens=10, output_tokens=20),
    )  # fmt: skip
    result: MessageParam = {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"},
            {"type": "text", "text": "Thanks!"},
        ],
    }
    # As the SDK's docs do it: the reply's content blocks go back as an assistant turn.
    return [first, {"role": "assistant", "content": reply.content}, result,
            {"role": "assistant", "content": "Done: widget 42 is reset."}]  # fmt: skip


def responses_conversation() -> list[Any]:
    items: list[ResponseInputItemParam] = [
        {"role": "developer", "content": "Be brief."},
        {"type": "message", "role": "user",
         "content": [{"type": "input_text", "text": "Widget 42 is stuck."},
                     {"type": "input_image", "image_url": IMAGE, "detail": "auto"}]},
    ]  # fmt: skip
    call = ResponseFunctionToolCall(
        type="function_call", id="fc_1", call_id="call_1", name="reset_widget",
        arguments='{"id": 42}', status="completed",
    )  # fmt: skip
    output: ResponseInputItemParam = {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": '{"ok": true}',
    }
    reply = ResponseOutputMessage(
        type="message", id="msg_1", role="assistant", status="completed",
        content=[ResponseOutputText(type="output_text", text="Reset.", annotations=[])],
    )  # fmt: skip
    reasoning = {"type": "reasoning", "id": "rs_1", "summary": []}
    return [*items, reasoning, call, output, reply]


CONVERSATIONS = {
    "openai": openai_conversation,
    "anthropic": anthropic_conversation,
    "responses": responses_conversation,
}
