"""Anthropic Messages (``MessageParam``, and the ``Message`` a call returns, dumped).

- a message's ``text`` blocks are the turn's content; other blocks (``image``,
  ``document``, ``thinking``, server tools' blocks, ...) are kept whole, in order;
- ``tool_use`` blocks (assistant) → tool calls ``{"id", "name", "arguments": input}``;
- ``tool_result`` blocks (user) → tool results ``{"tool_call_id", "output": content,
  "is_error"}``, and the message is a tool turn (its text, if any, the content).

Anthropic has no system messages (the system prompt is a parameter of the call):
system turns are left out of Anthropic listings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mnemo.core.formats.base import Parsed, Shape, Turn, known_type
from mnemo.core.formats.parts import Parts, require_fields, require_text, split_texts
from mnemo.errors import InvalidInput

NAME = "anthropic"
BLOCK_TYPES = frozenset(
    {
        "text", "image", "document", "search_result", "tool_use", "tool_result", "thinking",
        "redacted_thinking", "server_tool_use", "web_search_tool_result",
        "web_fetch_tool_result", "code_execution_tool_result",
        "bash_code_execution_tool_result", "text_editor_code_execution_tool_result",
        "tool_search_tool_result", "mcp_tool_use", "mcp_tool_result", "container_upload",
    }
)  # fmt: skip
_CALL_KEYS = ("id", "name", "input")
_RESULT_KEYS = ("tool_use_id", "content", "is_error")


def parse(message: Mapping[str, Any], where: str) -> Parsed:
    """The turn an Anthropic message makes; ``InvalidInput`` naming the bad field."""
    role = message.get("role")
    if role not in ("user", "assistant"):
        raise InvalidInput(f"{where}.role {role!r:.40} is not an Anthropic role: user, assistant")
    content = message.get("content")
    if not isinstance(content, list):
        return Parsed({"role": role, "content": require_text(content, f"{where}.content")})
    parts = Parts()
    calls: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for n, block in enumerate(content):
        at = f"{where}.content[{n}]"
        kind = known_type(block, BLOCK_TYPES, at, "Anthropic")
        if kind == "text":
            parts.text(block, "text", at)
        elif kind == "tool_use":
            calls.append(_call(block, at, role))
            parts.held(block, _CALL_KEYS)
        elif kind == "tool_result":
            results.append(_result(block, at, role))
            parts.held(block, _RESULT_KEYS)
        else:
            parts.whole(block)
    fields: dict[str, Any] = {"role": "tool" if results else role, "content": parts.content}
    if calls:
        fields["tool_calls"] = calls
    if results:
        fields["tool_results"] = results
    return Parsed(fields, parts)


def build(turn: Turn, shape: Shape) -> list[dict[str, Any]]:
    """The Anthropic message of a turn (none for a system turn)."""
    if turn.role == "system":
        return []
    role = "user" if turn.role == "tool" else turn.role
    calls = [_tool_use(call) for call in turn.tool_calls or []]
    results = [_tool_result(result) for result in turn.tool_results or []]
    if shape.parts is None and not calls and not results:
        return [{"role": role, "content": turn.content}]
    texts = split_texts(turn.content, shape.text_lengths)
    if shape.parts is None:
        blocks = [{"type": "text", "text": turn.content}] if turn.content else []
    else:
        blocks = [_filled(p, texts, calls, results) for p in shape.parts]
    if not shape.native:  # a result leads its user message; calls follow the text
        blocks = [*results, *blocks, *calls]
    return [{"role": role, "content": blocks}]


def to_neutral(part: Mapping[str, Any]) -> dict[str, Any] | None:
    """A block as other formats can translate it (text, images), or ``None``."""
    source = part.get("source")
    if part.get("type") == "text":
        return {"kind": "text"}
    if part.get("type") != "image" or not isinstance(source, Mapping):
        return None
    if source.get("type") == "base64":
        return {"kind": "image", "media_type": source.get("media_type"), "data": source.get("data")}
    if source.get("type") == "url":
        return {"kind": "image", "url": source.get("url")}
    return None


def from_neutral(part: Mapping[str, Any], role: str) -> dict[str, Any]:
    if part["kind"] == "text":
        return {"type": "text"}
    if part.get("url"):
        return {"type": "image", "source": {"type": "url", "url": part["url"]}}
    source = {"type": "base64", "media_type": part["media_type"], "data": part["data"]}
    return {"type": "image", "source": source}


def _filled(
    part: dict[str, Any], texts: Any, calls: list[dict[str, Any]], results: list[dict[str, Any]]
) -> dict[str, Any]:
    kind = part.get("type")
    if kind == "text":
        return {**part, "text": next(texts)}
    if kind == "tool_use" and calls:
        return {**part, **calls.pop(0)}
    if kind == "tool_result" and results:
        return {**part, **results.pop(0)}
    return part


def _call(block: Mapping[str, Any], where: str, role: object) -> dict[str, Any]:
    if role != "assistant":
        raise InvalidInput(f"{where}: only an assistant message has tool_use blocks")
    require_fields(block, ("id", "name"), where)
    if not isinstance(block.get("input"), Mapping):
        raise InvalidInput(f"{where}.input must be an object")
    return {"id": block["id"], "name": block["name"], "arguments": block["input"]}


def _result(block: Mapping[str, Any], where: str, role: object) -> dict[str, Any]:
    if role != "user":
        raise InvalidInput(f"{where}: only a user message has tool_result blocks")
    require_fields(block, ("tool_use_id",), where)
    result = {"tool_call_id": block["tool_use_id"], "output": block.get("content")}
    if block.get("is_error") is not None:
        result["is_error"] = block["is_error"]
    return result


def _tool_use(call: Mapping[str, Any]) -> dict[str, Any]:
    arguments = call.get("arguments", {})
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            arguments = {"input": arguments}
    if not isinstance(arguments, dict):
        arguments = {"input": arguments}
    return {"type": "tool_use", "id": call.get("id", ""), "name": call["name"], "input": arguments}


def _tool_result(result: Mapping[str, Any]) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": result.get("tool_call_id", "")}
    output = result.get("output")
    if output is not None:
        block["content"] = output if isinstance(output, (str, list)) else json.dumps(output)
    if result.get("is_error") is not None:
        block["is_error"] = result["is_error"]
    return block
