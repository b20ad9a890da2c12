"""OpenAI Responses / Agents SDK items (``ResponseInputItemParam``, and output items dumped).

- ``{"type": "message", "role", "content"}`` (``type`` may be left out) → a turn of
  its role (``developer`` → system); ``input_text`` / ``output_text`` parts are the
  content, other parts (``input_image``, ``input_file``, ``refusal``, ...) kept whole;
- ``function_call`` → an assistant turn with one tool call (``call_id`` is its id,
  the ``arguments`` JSON parsed);
- ``function_call_output`` → a tool turn with one result;
- other items (``reasoning``, hosted tool calls, ...) are kept whole as a turn
  without text, and come back only to the Responses format.
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

NAME = "responses"
ROLES = {"user": "user", "assistant": "assistant", "system": "system", "developer": "system"}
TEXT_TYPES = frozenset({"input_text", "output_text"})
PART_TYPES = TEXT_TYPES | {"input_image", "input_file", "input_audio", "refusal"}
#: Items kept whole (no text, no function tool): their role in mnemo.
OPAQUE_ITEMS = {
    "reasoning": "assistant", "item_reference": "assistant", "web_search_call": "assistant",
    "file_search_call": "assistant", "computer_call": "assistant",
    "computer_call_output": "tool", "code_interpreter_call": "assistant",
    "image_generation_call": "assistant", "local_shell_call": "assistant",
    "local_shell_call_output": "tool", "shell_call": "assistant", "shell_call_output": "tool",
    "apply_patch_call": "assistant", "apply_patch_call_output": "tool",
    "mcp_list_tools": "assistant", "mcp_approval_request": "assistant",
    "mcp_approval_response": "user", "mcp_call": "assistant", "custom_tool_call": "assistant",
    "custom_tool_call_output": "tool", "compaction": "assistant",
    "compaction_trigger": "assistant", "tool_search_call": "assistant",
    "tool_search_output": "tool", "program": "assistant", "program_output": "tool",
    "additional_tools": "system", "configuration_update": "system",
}  # fmt: skip
ITEM_TYPES = frozenset({"message", "function_call", "function_call_output", *OPAQUE_ITEMS})


def parse(item: Mapping[str, Any], where: str) -> Parsed:
    """The turn a Responses item makes; ``InvalidInput`` naming the bad field."""
    kind = item_type(item)
    if not isinstance(kind, str) or kind not in ITEM_TYPES:
        raise InvalidInput(
            f"{where}.type {kind!r:.40} is not a Responses item type; known: {sorted(ITEM_TYPES)}"
        )
    if kind == "function_call":
        require_fields(item, ("call_id", "name"), where)
        arguments = parse_arguments(item.get("arguments"), f"{where}.arguments")
        call = {"id": item["call_id"], "name": item["name"], "arguments": arguments}
        return Parsed({"role": "assistant", "content": "", "tool_calls": [call]})
    if kind == "function_call_output":
        require_fields(item, ("call_id",), where)
        result = {"tool_call_id": item["call_id"], "output": item.get("output")}
        return Parsed({"role": "tool", "content": "", "tool_results": [result]})
    if kind != "message":
        return Parsed({"role": OPAQUE_ITEMS[kind], "content": ""}, opaque=True)
    return _message(item, where)


def item_type(item: Mapping[str, Any]) -> object:
    """An item's type; a bare ``{"role", "content"}`` is a message."""
    return item.get("type", "message" if "role" in item else None)


def build(turn: Turn, shape: Shape) -> list[dict[str, Any]]:
    """The Responses items of a turn: a message for its text, one item per call or result."""
    items: list[dict[str, Any]] = []
    if turn.role == "tool":
        items += [
            {"type": "function_call_output", "call_id": r.get("tool_call_id", ""),
             "output": output_value(r["output"]) or ""}
            for r in turn.tool_results or []
        ]  # fmt: skip
    if turn.content or shape.parts or not (turn.tool_calls or turn.tool_results):
        role = "user" if turn.role == "tool" else turn.role
        content = _content(turn, shape)
        # Text alone is an "easy" input message, as applications mostly write it.
        typed = {"type": "message"} if isinstance(content, list) else {}
        items.append({**typed, "role": role, "content": content})
    items += [
        {"type": "function_call", "call_id": call.get("id", ""), "name": call["name"],
         "arguments": dump_arguments(call.get("arguments", {}))}
        for call in turn.tool_calls or []
    ]  # fmt: skip
    return items


def to_neutral(part: Mapping[str, Any]) -> dict[str, Any] | None:
    """A part as other formats can translate it (text, images by URL), or ``None``."""
    if part.get("type") in TEXT_TYPES:
        return {"kind": "text"}
    if part.get("type") == "input_image" and part.get("image_url"):
        url = str(part["image_url"])
        if url.startswith("data:") and ";base64," in url:
            media_type, data = url[len("data:") :].split(";base64,", 1)
            return {"kind": "image", "media_type": media_type, "data": data}
        return {"kind": "image", "url": url}
    return None


def from_neutral(part: Mapping[str, Any], role: str) -> dict[str, Any]:
    if part["kind"] == "text":
        return {"type": "output_text" if role == "assistant" else "input_text"}
    url = part.get("url") or f"data:{part['media_type']};base64,{part['data']}"
    return {"type": "input_image", "image_url": url, "detail": "auto"}


def _message(item: Mapping[str, Any], where: str) -> Parsed:
    role = item.get("role")
    if not isinstance(role, str) or role not in ROLES:
        raise InvalidInput(f"{where}.role {role!r:.40} is not a Responses role: {list(ROLES)}")
    content = item.get("content")
    if not isinstance(content, list):
        text = require_text(content, f"{where}.content")
        return Parsed({"role": ROLES[str(role)], "content": text})
    parts = Parts()
    for n, part in enumerate(content):
        at = f"{where}.content[{n}]"
        if known_type(part, PART_TYPES, at, "Responses") in TEXT_TYPES:
            parts.text(part, "text", at)
        else:
            parts.whole(part)
    return Parsed({"role": ROLES[str(role)], "content": parts.content}, parts)


def _content(turn: Turn, shape: Shape) -> Any:
    if shape.parts is None:
        return turn.content
    texts = split_texts(turn.content, shape.text_lengths)
    return [{**p, "text": next(texts)} if p.get("type") in TEXT_TYPES else p for p in shape.parts]
