"""LangChain messages ⇄ mnemo conversation turns, losing nothing either way.

A turn keeps the role, the text, the tools an AI message called and the result a
tool message carries, in mnemo's own fields (so search, buffers and summaries read
them); what only LangChain knows (content blocks, ``additional_kwargs``,
``response_metadata``, usage, artifacts, the message class) rides along in the
turn's ``metadata["langchain"]``. A message's ``id`` becomes the turn's
``idempotency_key``: the same message added twice is stored once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from mnemo.core.messages import ROLES, MessageRecord
from mnemo.errors import InvalidInput

METADATA_KEY = "langchain"
_ROLE_OF_CLASS: tuple[tuple[type[BaseMessage], str], ...] = (
    (HumanMessage, "user"),
    (AIMessage, "assistant"),  # chunks are subclasses, so they are turns too
    (SystemMessage, "system"),
    (ToolMessage, "tool"),
    (FunctionMessage, "tool"),
)
_CLASS_OF_ROLE: dict[str, type[BaseMessage]] = {
    "user": HumanMessage,
    "assistant": AIMessage,
    "system": SystemMessage,
}
#: Fields copied to the turn's metadata when a message has them.
_EXTRA_FIELDS = ("additional_kwargs", "response_metadata", "usage_metadata",
                 "invalid_tool_calls", "artifact")  # fmt: skip


def to_turn(message: BaseMessage, index: int = 0) -> dict[str, Any]:
    """The mnemo turn for ``message``; ``InvalidInput`` (a ``ValueError``) if it has none."""
    if not isinstance(message, BaseMessage):
        raise InvalidInput(f"message {index} must be a LangChain message, got {type(message)}")
    extras = _extras(message)
    turn: dict[str, Any] = {"role": _role(message, index), "content": str(message.text)}
    if message.name is not None:
        turn["name"] = message.name
    if message.id is not None:
        turn["idempotency_key"] = message.id
    if isinstance(message, AIMessage) and message.tool_calls:
        turn["tool_calls"] = [_tool_call(call) for call in message.tool_calls]
    if isinstance(message, (ToolMessage, FunctionMessage)):
        turn["content"] = ""  # the output lives in the tool result
        turn["tool_results"] = [_tool_result(message)]
    if extras:
        turn["metadata"] = {METADATA_KEY: extras}
    return turn


def from_turn(record: MessageRecord) -> BaseMessage:
    """The LangChain message a stored turn holds (the inverse of ``to_turn``)."""
    extras = dict(record.metadata.get(METADATA_KEY) or {})
    kind = extras.pop("type", None)
    content: Any = extras.pop("content", record.content)
    fields: dict[str, Any] = {
        "content": content,
        "id": record.idempotency_key or record.id,
        **({"name": record.name} if record.name is not None else {}),
    }
    if record.role == "tool":
        return _tool_message(record, kind, fields, extras)
    fields.update(extras)
    if kind == "chat":
        return ChatMessage(role=record.role, **fields)
    if record.role == "assistant":
        fields["tool_calls"] = [_langchain_call(call) for call in record.tool_calls or []]
    return _CLASS_OF_ROLE[record.role](**fields)


def _role(message: BaseMessage, index: int) -> str:
    if isinstance(message, ChatMessage):
        if message.role not in ROLES:
            raise InvalidInput(
                f"message {index}: ChatMessage role {message.role!r} is not one of {list(ROLES)}"
            )
        return message.role
    for cls, role in _ROLE_OF_CLASS:
        if isinstance(message, cls):
            return role
    raise InvalidInput(f"message {index}: a LangChain {type(message).__name__} is not a turn")


def _extras(message: BaseMessage) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    if isinstance(message, (ChatMessage, FunctionMessage)):
        extras["type"] = "chat" if isinstance(message, ChatMessage) else "function"
    if not isinstance(message.content, str) and not isinstance(
        message, (ToolMessage, FunctionMessage)
    ):
        extras["content"] = message.content
    for name in _EXTRA_FIELDS:
        value = getattr(message, name, None)
        if value:
            extras[name] = value
    return extras


def _tool_call(call: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": call["name"], "arguments": call.get("args", {})}
    if call.get("id") is not None:
        out["id"] = call["id"]
    return out


def _langchain_call(call: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": call["name"], "args": call.get("arguments") or {}, "id": call.get("id"),
            "type": "tool_call"}  # fmt: skip


def _tool_result(message: ToolMessage | FunctionMessage) -> dict[str, Any]:
    result: dict[str, Any] = {"output": message.content}
    if isinstance(message, ToolMessage):
        result["tool_call_id"] = message.tool_call_id
        result["is_error"] = message.status == "error"
    if message.name is not None:
        result["name"] = message.name
    return result


def _tool_message(
    record: MessageRecord, kind: str | None, fields: dict[str, Any], extras: dict[str, Any]
) -> BaseMessage:
    result = (record.tool_results or [{}])[0]
    fields["content"] = result.get("output", record.content)
    if kind == "function":
        return FunctionMessage(**{**fields, "name": record.name or result.get("name", "")})
    status = "error" if result.get("is_error") else "success"
    return ToolMessage(tool_call_id=result.get("tool_call_id", ""), status=status,
                       **fields, **extras)  # fmt: skip
