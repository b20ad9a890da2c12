"""Checks on caller messages (mnemo's own format), and the text search sees for a turn.

Messages in a provider's format are read by ``mnemo.core.formats``, which hands
the turn it reads to ``check_message``. Tool calls are ``{"name", "id"?, "arguments"?}`` (OpenAI's
``{"id", "type": "function", "function": {"name", "arguments"}}`` is accepted
and read the same); tool results are ``{"output", "tool_call_id"?, "name"?,
"is_error"?}``. Only an assistant message calls tools and only a tool message
carries results; either may then have empty content.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mnemo.core.messages import PROVIDER_FORMATS, ROLES
from mnemo.core.validation import (
    require_choice,
    require_content,
    require_metadata,
    require_scope_id,
    require_timestamp,
)
from mnemo.errors import InvalidInput

MAX_TOOL_ITEMS = 128
MAX_NAME_CHARS = 255
MESSAGE_FIELDS = frozenset(
    {
        "role",
        "content",
        "name",
        "tool_calls",
        "tool_results",
        "metadata",
        "created_at",
        "turn_number",
        "idempotency_key",
        "agent_id",
        "source",
    }
)
_CALL_FIELDS = frozenset({"id", "name", "arguments"})
_OPENAI_CALL_FIELDS = frozenset({"id", "type", "function"})
_RESULT_FIELDS = frozenset({"output", "tool_call_id", "name", "is_error"})


@dataclass(frozen=True, slots=True)
class MessageFields:
    """Checked fields of one caller message, before ids, tokens and embeddings."""

    role: str
    content: str
    name: str | None
    tool_calls: list[dict[str, Any]] | None
    tool_results: list[dict[str, Any]] | None
    metadata: dict[str, Any]
    created_at: datetime | None
    turn_number: int | None
    idempotency_key: str | None
    agent_id: str | None
    source: dict[str, Any] | None = None


def check_message(
    item: object,
    index: int,
    *,
    max_chars: int,
    max_metadata_bytes: int,
    provider: bool = False,
) -> MessageFields:
    """The checked fields of caller message ``index``, or ``InvalidInput`` naming the problem.

    ``provider``: the turn was read from a provider's message, whose text may be empty
    (an image, a reasoning item); ``source`` is set by the caller."""
    if not isinstance(item, Mapping):
        raise InvalidInput(f"message {index} must be an object, got {type(item).__name__}")
    unknown = set(item) - MESSAGE_FIELDS
    if unknown:
        raise InvalidInput(
            f"message {index} has unknown fields {sorted(unknown)}; known: {sorted(MESSAGE_FIELDS)}"
        )
    role = require_choice(item.get("role"), f"message {index} role", ROLES)
    calls = _tool_calls(item.get("tool_calls"), index, role)
    results = _tool_results(item.get("tool_results"), index, role)
    _check_tools_size(calls, results, index, max_chars)
    source = _source(item.get("source"), index)
    empty_ok = bool(calls or results or provider or source)
    return MessageFields(
        role=role,
        content=_content(item.get("content"), index, max_chars, tools=empty_ok),
        name=_short_text(item.get("name"), f"message {index} name"),
        tool_calls=calls,
        tool_results=results,
        metadata=require_metadata(item.get("metadata"), max_bytes=max_metadata_bytes),
        created_at=require_timestamp(item.get("created_at"), f"message {index} created_at"),
        turn_number=_turn_number(item.get("turn_number"), index),
        idempotency_key=_short_text(
            item.get("idempotency_key"), f"message {index} idempotency_key"
        ),
        agent_id=require_scope_id(item.get("agent_id"), "agent_id", required=False),
        source=source,
    )


def search_text(
    content: str,
    tool_calls: list[dict[str, Any]] | None,
    tool_results: list[dict[str, Any]] | None,
    calls: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """The text search and extraction see for a turn: its content, then one line per tool
    call and result, as a person would say it.

    ``called reset_widget(id=42)`` for a call; ``called reset_widget(id=42) → {"ok": true}``
    for its result when ``calls`` (tool calls by id) holds the call it answers, else
    ``reset_widget → ...`` (the result's name) or ``tool result → ...``.
    """
    lines = [content] if content.strip() else []
    lines += [f"called {call_text(call)}" for call in tool_calls or []]
    for result in tool_results or []:
        call = (calls or {}).get(str(result.get("tool_call_id")))
        label = f"called {call_text(call)}" if call else result.get("name") or "tool result"
        verb = "→ error:" if result.get("is_error") else "→"
        lines.append(f"{label} {verb} {output_text(result.get('output'))}".rstrip())
    return "\n".join(lines)


def turn_texts(turns: Sequence[Any]) -> list[str]:
    """``search_text`` of each turn (records with ``content``, ``tool_calls``,
    ``tool_results``, oldest first), each result described by the call before it."""
    calls: dict[str, Mapping[str, Any]] = {}
    out = []
    for turn in turns:
        calls.update({str(c["id"]): c for c in turn.tool_calls or [] if c.get("id")})
        out.append(search_text(turn.content, turn.tool_calls, turn.tool_results, calls))
    return out


def call_text(call: Mapping[str, Any]) -> str:
    """``name(key=value, ...)``: a tool call as a person would write it."""
    arguments = call.get("arguments")
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return f"{call['name']}({arguments})"
    if isinstance(arguments, Mapping):
        inner = ", ".join(f"{k}={_as_text(v, quote=True)}" for k, v in arguments.items())
    else:
        inner = "" if arguments is None else _as_text(arguments)
    return f"{call['name']}({inner})"


def output_text(output: Any) -> str:
    """A tool's output as text: a string as it is, content parts by their text."""
    if isinstance(output, list) and all(isinstance(p, Mapping) for p in output):
        return " ".join(str(p["text"]) if "text" in p else f"[{p.get('type', 'part')}]"
                        for p in output)  # fmt: skip
    return _as_text(output)


def _source(value: object, index: int) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or value.get("format") not in PROVIDER_FORMATS:
        raise InvalidInput(
            f"message {index} source must be an object whose format is one of "
            f"{list(PROVIDER_FORMATS)}"
        )
    return dict(_json_value(value, f"message {index} source"))


def _content(value: object, index: int, max_chars: int, *, tools: bool) -> str:
    if tools and (value is None or (isinstance(value, str) and not value.strip())):
        return "" if value is None else value
    return require_content(value, max_chars=max_chars, name=f"message {index} content")


def _tool_calls(value: object, index: int, role: str) -> list[dict[str, Any]] | None:
    items = _tool_list(value, f"message {index} tool_calls")
    if items is None:
        return None
    if role != "assistant":
        raise InvalidInput(f"message {index}: only an assistant message has tool_calls")
    return [_tool_call(item, f"message {index} tool_calls[{n}]") for n, item in enumerate(items)]


def _tool_call(item: object, where: str) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise InvalidInput(f"{where} must be an object")
    if "function" in item:  # OpenAI's shape
        _no_unknown(item, _OPENAI_CALL_FIELDS, where)
        function = item["function"]
        if not isinstance(function, Mapping):
            raise InvalidInput(f"{where}.function must be an object")
        item = {"id": item.get("id"), **function}
    _no_unknown(item, _CALL_FIELDS, where)
    call: dict[str, Any] = {"name": _required_name(item.get("name"), f"{where} name")}
    if item.get("id") is not None:
        call["id"] = _short_text(item["id"], f"{where} id")
    if "arguments" in item:
        call["arguments"] = _json_value(item["arguments"], f"{where} arguments")
    return call


def _tool_results(value: object, index: int, role: str) -> list[dict[str, Any]] | None:
    items = _tool_list(value, f"message {index} tool_results")
    if items is None:
        return None
    if role != "tool":
        raise InvalidInput(f"message {index}: only a tool message has tool_results")
    return [
        _tool_result(item, f"message {index} tool_results[{n}]") for n, item in enumerate(items)
    ]


def _tool_result(item: object, where: str) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise InvalidInput(f"{where} must be an object")
    _no_unknown(item, _RESULT_FIELDS, where)
    if "output" not in item:
        raise InvalidInput(f"{where} needs an 'output'")
    result: dict[str, Any] = {"output": _json_value(item["output"], f"{where} output")}
    for key in ("tool_call_id", "name"):
        if item.get(key) is not None:
            result[key] = _short_text(item[key], f"{where} {key}")
    if item.get("is_error") is not None:
        if not isinstance(item["is_error"], bool):
            raise InvalidInput(f"{where} is_error must be true or false")
        result["is_error"] = item["is_error"]
    return result


def _tool_list(value: object, where: str) -> list[Any] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise InvalidInput(f"{where} must be a non-empty list of objects")
    if len(value) > MAX_TOOL_ITEMS:
        raise InvalidInput(f"{where} has {len(value)} items; the limit is {MAX_TOOL_ITEMS}")
    return value


def _check_tools_size(
    calls: list[dict[str, Any]] | None,
    results: list[dict[str, Any]] | None,
    index: int,
    max_chars: int,
) -> None:
    size = len(json.dumps([calls, results], ensure_ascii=False))
    if size > max_chars:
        raise InvalidInput(
            f"message {index}: tool calls and results take {size} characters; "
            f"the limit is {max_chars}"
        )


def _no_unknown(item: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    unknown = set(item) - known
    if unknown:
        raise InvalidInput(f"{where} has unknown fields {sorted(unknown)}; known: {sorted(known)}")


def _json_value(value: object, where: str) -> Any:
    try:
        encoded = json.dumps(value, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{where} must be JSON-serialisable: {exc}") from None
    if "\\u0000" in encoded or "\x00" in encoded:
        raise InvalidInput(f"{where} must not contain NUL characters")
    return value


def _required_name(value: object, where: str) -> str:
    name = _short_text(value, where)
    if name is None:
        raise InvalidInput(f"{where} is required")
    return name


def _short_text(value: object, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{where} must be a non-empty string, got {value!r:.80}")
    if len(value) > MAX_NAME_CHARS or "\x00" in value:
        raise InvalidInput(f"{where} must be at most {MAX_NAME_CHARS} characters, without NUL")
    return value


def _turn_number(value: object, index: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2**31 - 1:
        raise InvalidInput(
            f"message {index} turn_number must be a positive integer, got {value!r:.40}"
        )
    return value


def _as_text(value: Any, *, quote: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and not quote:
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
