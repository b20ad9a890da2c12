"""OpenAI Agents SDK session items ⇄ mnemo conversation turns, exactly.

The SDK sends a session's items back to the model as they were, so a turn must
give back the very item it stored. The common items map onto mnemo's fields,
where search, buffers and summaries read them:

- a message (``{"role", "content"}``, with or without ``"type": "message"``) is a
  turn of its role (``developer`` is a ``system`` turn) holding its text;
- a ``function_call`` is an assistant turn with one tool call (arguments verbatim);
- a ``function_call_output`` is a tool turn with one tool result.

Everything else about the item (ids, status, annotations, content part types) is
kept in ``metadata["openai_agents"]`` as the item minus what mnemo's fields hold.
Items without such a mapping (reasoning, hosted tool calls, messages without text)
are stored whole, as JSON text, and come back parsed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mnemo.core.formats.parts import SEPARATOR, split_texts
from mnemo.core.messages import ROLES, MessageRecord
from mnemo.errors import InvalidInput

METADATA_KEY = "openai_agents"
_VERBATIM = "verbatim"
_TEXT_LENGTHS = "text_lengths"


def to_turn(item: object, index: int = 0) -> dict[str, Any]:
    """The mnemo turn storing ``item``; ``InvalidInput`` if it is not an item."""
    if not isinstance(item, Mapping):
        raise InvalidInput(f"item {index} must be an object, got {type(item).__name__}")
    kind = item.get("type", "message" if "role" in item else None)
    if kind == "function_call" and {"call_id", "name", "arguments"} <= set(item):
        call = {"id": item["call_id"], "name": item["name"], "arguments": item["arguments"]}
        return _turn("assistant", "", item, ("call_id", "name", "arguments"), tool_calls=[call])
    if kind == "function_call_output" and {"call_id", "output"} <= set(item):
        result = {"tool_call_id": item["call_id"], "output": item["output"]}
        return _turn("tool", "", item, ("call_id", "output"), tool_results=[result])
    if kind == "message":
        return _message_turn(item)
    return _verbatim_turn(item)


def from_turn(record: MessageRecord) -> dict[str, Any]:
    """The item a stored turn holds (the inverse of ``to_turn``)."""
    rest = record.metadata.get(METADATA_KEY)
    if rest is None:
        return _foreign_item(record)
    if rest.get(_VERBATIM):
        parsed: dict[str, Any] = json.loads(record.content)
        return parsed
    item = {k: v for k, v in rest.items() if k != _TEXT_LENGTHS}
    if record.tool_calls:
        call = record.tool_calls[0]
        return {**item, "call_id": call["id"], "name": call["name"], "arguments": call["arguments"]}
    if record.tool_results:
        result = record.tool_results[0]
        return {**item, "call_id": result["tool_call_id"], "output": result["output"]}
    item["content"] = _content(record.content, item.get("content"), rest.get(_TEXT_LENGTHS))
    return item


def _message_turn(item: Mapping[str, Any]) -> dict[str, Any]:
    role = "system" if item.get("role") == "developer" else item.get("role")
    content = item.get("content")
    if isinstance(content, str):
        texts = [content]
    elif isinstance(content, list) and all(isinstance(p, Mapping) for p in content):
        texts = [p["text"] for p in content if isinstance(p.get("text"), str)]
    else:
        texts = []
    text = SEPARATOR.join(texts)
    if role not in ROLES or role == "tool" or not text.strip():
        return _verbatim_turn(item)
    turn = _turn(str(role), text, item, ("content",))
    rest = turn["metadata"][METADATA_KEY]
    if isinstance(content, list):  # the parts; the turn's content holds their texts
        rest["content"] = [{**p, "text": None} if isinstance(p.get("text"), str) else dict(p)
                           for p in content]  # fmt: skip
        if len(texts) > 1:
            rest[_TEXT_LENGTHS] = [len(t) for t in texts]
    return turn


def _turn(
    role: str, content: str, item: Mapping[str, Any], held: tuple[str, ...], **tools: Any
) -> dict[str, Any]:
    rest = {k: v for k, v in item.items() if k not in held}
    return {"role": role, "content": content, **tools, "metadata": {METADATA_KEY: rest}}


def _verbatim_turn(item: Mapping[str, Any]) -> dict[str, Any]:
    role = item.get("role")
    try:
        text = json.dumps(item, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"a session item must be JSON-serialisable: {exc}") from None
    return {
        "role": role if role in ("user", "assistant", "system") else "assistant",
        "content": text,
        "metadata": {METADATA_KEY: {_VERBATIM: True}},
    }


def _content(text: str, parts: Any, lengths: list[int] | None) -> Any:
    """A message's content: the text itself, or its parts with their text put back."""
    if parts is None:
        return text
    texts = split_texts(text, lengths)
    return [{**part, "text": next(texts)} if "text" in part and part["text"] is None else part
            for part in parts]  # fmt: skip


def _foreign_item(record: MessageRecord) -> dict[str, Any]:
    """A turn another face stored in this session: given to the SDK as a plain item."""
    if record.tool_results:
        result = record.tool_results[0]
        output = result["output"]
        return {"type": "function_call_output", "call_id": result.get("tool_call_id", ""),
                "output": output if isinstance(output, str) else json.dumps(output)}  # fmt: skip
    if record.tool_calls and not record.content.strip():
        call = record.tool_calls[0]
        arguments = call.get("arguments", {})
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments)
        return {"type": "function_call", "call_id": call.get("id", ""), "name": call["name"],
                "arguments": arguments}  # fmt: skip
    return {"role": record.role if record.role != "tool" else "assistant",
            "content": record.content}  # fmt: skip
