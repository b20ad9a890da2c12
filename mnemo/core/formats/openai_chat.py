"""OpenAI chat completions messages (``ChatCompletionMessageParam``, and the
``ChatCompletionMessage`` a completion returns, dumped).

- ``system`` / ``developer`` → a system turn (``developer`` comes back as it was);
- ``user`` / ``assistant`` → a turn of that role; its ``text`` parts are the content,
  other parts (``image_url``, ``input_audio``, ``file``, ``refusal``) are kept whole;
- an assistant's ``tool_calls`` → tool calls ``{"id", "name", "arguments"}``, the
  arguments JSON parsed (not JSON: ``InvalidInput``);
- ``tool`` → a tool turn with one result ``{"tool_call_id", "output": content}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mnemo.core.formats.base import Parsed, Shape, Turn, known_type, output_value
from mnemo.core.formats.parts import (
    Parts,
    dump_arguments,
    parse_arguments,
    require_fields,
    require_text,
    split_texts,
)
from mnemo.errors import InvalidInput

NAME = "openai"
ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant",
         "tool": "tool"}  # fmt: skip
PART_TYPES = frozenset({"text", "image_url", "input_audio", "file", "refusal"})
_DATA_URL = "data:"


def parse(message: Mapping[str, Any], where: str) -> Parsed:
    """The turn an OpenAI chat message makes; ``InvalidInput`` naming the bad field."""
    role = message.get("role")
    if not isinstance(role, str) or role not in ROLES:
        raise InvalidInput(f"{where}.role {role!r:.40} is not an OpenAI chat role: {list(ROLES)}")
    if role == "tool":
        require_fields(message, ("tool_call_id",), where)
        result = {"tool_call_id": message["tool_call_id"], "output": message.get("content")}
        return Parsed({"role": "tool", "content": "", "tool_results": [result]})
    parsed = Parsed({"role": ROLES[str(role)], "content": ""})
    content = message.get("content")
    if isinstance(content, list):
        parsed.parts = _parts(content, f"{where}.content")
        parsed.fields["content"] = parsed.parts.content
    elif content is not None:
        parsed.fields["content"] = require_text(content, f"{where}.content")
    if message.get("name") is not None:
        parsed.fields["name"] = message["name"]
    calls = message.get("tool_calls")
    if calls:
        if not isinstance(calls, list):
            raise InvalidInput(f"{where}.tool_calls must be a list")
        parsed.fields["tool_calls"] = [
            _call(call, f"{where}.tool_calls[{n}]") for n, call in enumerate(calls)
        ]
    return parsed


def build(turn: Turn, shape: Shape) -> list[dict[str, Any]]:
    """The OpenAI chat messages of a turn: one, or one per tool result."""
    if turn.role == "tool":
        out: list[dict[str, Any]] = [
            {"role": "tool", "tool_call_id": r.get("tool_call_id", ""),
             "content": output_value(r["output"]) or ""}
            for r in turn.tool_results or []
        ]  # fmt: skip
        if turn.content:  # text beside the results (an Anthropic user message)
            out.append({"role": "user", "content": turn.content})
        return out
    message: dict[str, Any] = {"role": turn.role, "content": _content(turn, shape)}
    if turn.name:
        message["name"] = turn.name
    if turn.tool_calls:
        message["tool_calls"] = [
            {"id": call.get("id", ""), "type": "function",
             "function": {"name": call["name"],
                          "arguments": dump_arguments(call.get("arguments", {}))}}
            for call in turn.tool_calls
        ]  # fmt: skip
    return [message]


def to_neutral(part: Mapping[str, Any]) -> dict[str, Any] | None:
    """A part as other formats can translate it (text, images), or ``None``."""
    if part.get("type") == "text":
        return {"kind": "text"}
    if part.get("type") == "image_url" and isinstance(part.get("image_url"), Mapping):
        url = str(part["image_url"].get("url", ""))
        if url.startswith(_DATA_URL) and ";base64," in url:
            media_type, data = url[len(_DATA_URL) :].split(";base64,", 1)
            return {"kind": "image", "media_type": media_type, "data": data}
        return {"kind": "image", "url": url}
    return None


def from_neutral(part: Mapping[str, Any], role: str) -> dict[str, Any]:
    if part["kind"] == "text":
        return {"type": "text"}
    url = part.get("url") or f"data:{part['media_type']};base64,{part['data']}"
    return {"type": "image_url", "image_url": {"url": url}}


def _parts(content: list[Any], where: str) -> Parts:
    parts = Parts()
    for n, part in enumerate(content):
        if known_type(part, PART_TYPES, f"{where}[{n}]", "OpenAI chat") == "text":
            parts.text(part, "text", f"{where}[{n}]")
        else:
            parts.whole(part)
    return parts


def _call(call: object, where: str) -> dict[str, Any]:
    if not isinstance(call, Mapping):
        raise InvalidInput(f"{where} must be an object")
    if call.get("type", "function") != "function" or not isinstance(call.get("function"), Mapping):
        raise InvalidInput(f"{where} must be a function call: {{'type': 'function', 'function'}}")
    function = call["function"]
    require_fields(function, ("name",), f"{where}.function")
    arguments = parse_arguments(function.get("arguments", ""), f"{where}.function.arguments")
    return {"id": call.get("id"), "name": function["name"], "arguments": arguments}


def _content(turn: Turn, shape: Shape) -> Any:
    if shape.parts is None:
        return turn.content if turn.content or not turn.tool_calls else None
    texts = split_texts(turn.content, shape.text_lengths)
    return [{**p, "text": next(texts)} if p.get("type") == "text" else p for p in shape.parts]
