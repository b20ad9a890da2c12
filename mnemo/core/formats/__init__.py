"""Conversations in the formats applications hold: OpenAI chat, Anthropic Messages and
OpenAI Responses messages in, stored as mnemo turns, and back out unchanged.

One path for every face (library, REST, compatibility classes):

- ``read_message`` detects a message's format (or takes the one named), reads it as
  a turn (role, text, tool calls, tool results) and checks it like any turn; the
  turn's ``source`` keeps the rest (``parts``: see ``mnemo.core.formats.parts``);
- ``to_format`` builds stored turns back into a format's messages: a turn from that
  format comes back exactly as it came; other turns are translated (text, tools,
  images; parts the format has no equivalent for are left out);
- ``paired`` cuts a window's leading edge so that no tool result is separated
  from its call.

Each format is one module with ``parse`` / ``build`` / ``to_neutral`` / ``from_neutral``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import ModuleType
from typing import Any, TypeVar

from mnemo.core.formats import anthropic_messages, openai_chat, responses
from mnemo.core.formats.base import Shape, Turn
from mnemo.core.formats.parts import apply_patch, make_patch
from mnemo.core.message_checks import MessageFields, check_message
from mnemo.core.messages import PROVIDER_FORMATS, MessageRecord
from mnemo.errors import InvalidInput

__all__ = [
    "FORMATS",
    "PROVIDER_FORMATS",
    "batch_formats",
    "detect_format",
    "paired",
    "plain",
    "prompt_messages",
    "read_message",
    "require_format",
    "to_format",
]

#: What ``format=`` may name: a provider's, or mnemo's own turns.
FORMATS = ("mnemo", *PROVIDER_FORMATS)
_MODULES: dict[str, ModuleType] = {
    openai_chat.NAME: openai_chat,
    anthropic_messages.NAME: anthropic_messages,
    responses.NAME: responses,
}
#: How many times the content limit a message's provider form may take (images as data).
SOURCE_FACTOR = 10
#: mnemo's own fields, taken off a provider message before it is read.
MNEMO_FIELDS = ("metadata", "created_at", "turn_number", "idempotency_key", "agent_id")
_RESPONSES_PARTS = frozenset({"input_text", "output_text", "input_image", "input_file"})
_ANTHROPIC_ONLY = anthropic_messages.BLOCK_TYPES - {"text"}
_ANTHROPIC_TEXT = frozenset({"cache_control", "citations"})
#: Fields only an OpenAI chat message has (a completion's message, dumped).
_OPENAI_FIELDS = frozenset({"refusal", "audio", "annotations", "function_call", "tool_call_id"})
T = TypeVar("T", bound=Turn)


def require_format(value: object, *, mnemo: bool = True) -> str | None:
    """A checked ``format=`` value (``None``: detect per message / mnemo's own turns)."""
    if value is None:
        return None
    allowed = FORMATS if mnemo else PROVIDER_FORMATS
    if value not in allowed:
        raise InvalidInput(f"format must be one of {list(allowed)}, got {value!r:.40}")
    return str(value)


def detect_format(message: Mapping[str, Any]) -> str | None:
    """The provider format a message is in, or ``None`` for mnemo's own."""
    return _detected(message)[0]


def batch_formats(messages: Sequence[Any], fmt: str | None) -> list[str | None]:
    """The format to read each message of a batch in: ``fmt`` if named; else each one's
    own, where a message any format could hold (``{"role", "content": text}``, a
    ``developer`` message, text parts) takes the one format the others show."""
    if fmt is not None:
        return [fmt] * len(messages)
    found = [_detected(m) if isinstance(m, Mapping) else (None, True) for m in messages]
    firm = {f for f, certain in found if certain and f is not None}
    if len(firm) != 1:
        return [f for f, _ in found]
    (shown,) = firm
    return [
        shown if not certain and _fits(shown, message) else f
        for (f, certain), message in zip(found, messages, strict=True)
    ]


def _detected(message: Mapping[str, Any]) -> tuple[str | None, bool]:
    """A message's format and whether only that format has such a message."""
    content = message.get("content")
    parts = content if isinstance(content, list) else []
    types = {p["type"] for p in parts if isinstance(p, Mapping) and isinstance(p.get("type"), str)}
    if "type" in message:
        anthropic = message["type"] == "message" and types & _ANTHROPIC_ONLY
        return ("anthropic" if anthropic else "responses"), True
    if _openai_calls(message.get("tool_calls")) or _OPENAI_FIELDS & set(message):
        return "openai", True
    if types & _RESPONSES_PARTS:
        return "responses", True
    if types & _ANTHROPIC_ONLY or _annotated_text(parts):
        return "anthropic", True
    if message.get("role") == "developer" or types:
        return "openai", False
    return None, False


def _fits(fmt: str, message: Mapping[str, Any]) -> bool:
    if set(message) - {"role", "content", "name", *MNEMO_FIELDS}:
        return False
    try:
        _MODULES[fmt].parse(message, "message")
    except InvalidInput:
        return False
    return True


def read_message(
    item: object, index: int, fmt: str | None, *, max_chars: int, max_metadata_bytes: int
) -> MessageFields:
    """Message ``index`` of a batch, in ``fmt`` (``None``: detected), as checked turn
    fields with its ``source``; ``InvalidInput`` naming the message and the field."""
    item = plain(item)
    if not isinstance(item, Mapping):
        raise InvalidInput(f"message {index} must be an object, got {type(item).__name__}")
    fmt = detect_format(item) if fmt is None else fmt
    if fmt is None or fmt == "mnemo":
        return check_message(
            item, index, max_chars=max_chars, max_metadata_bytes=max_metadata_bytes
        )
    message = {k: v for k, v in item.items() if k not in MNEMO_FIELDS}
    module = _MODULES[fmt]
    parsed = module.parse(message, f"message {index}")
    own = {k: item[k] for k in MNEMO_FIELDS if k in item}
    fields = check_message(
        {**parsed.fields, **own}, index, max_chars=max_chars,
        max_metadata_bytes=max_metadata_bytes, provider=True,
    )  # fmt: skip
    if parsed.opaque:
        return _with_source(fields, {"format": fmt, "item": message}, index, max_chars)
    source: dict[str, Any] = {"format": fmt, **(parsed.parts.source() if parsed.parts else {})}
    built = module.build(fields, _native(source))
    patch = make_patch(message, built[0] if len(built) == 1 else None)
    if patch is not None:
        source["patch"] = patch
    return _with_source(fields, source, index, max_chars)


def to_format(turns: Sequence[Turn], fmt: str) -> list[dict[str, Any]]:
    """Stored turns (oldest first) as ``fmt``'s messages, ready to send to its SDK."""
    module = _MODULES[fmt]
    out: list[dict[str, Any]] = []
    for turn in turns:
        built = _built(turn, module)
        if fmt == "openai" and _joins_calls(out, built, turn):
            out[-1] = {**out[-1], "tool_calls": [*out[-1].get("tool_calls", []),
                                                 *built[0]["tool_calls"]]}  # fmt: skip
            built = built[1:]
        out += built
    return out


def prompt_messages(records: Sequence[MessageRecord], fmt: str | None) -> list[dict[str, Any]]:
    """Turns for a prompt: mnemo's dicts (``MessageRecord.for_prompt``), or with a
    provider ``fmt`` its messages; the caller has ``paired`` the window."""
    if fmt in (None, "mnemo"):
        return [record.for_prompt() for record in records]
    return to_format(records, str(fmt))


def paired(turns: Sequence[T]) -> list[T]:
    """A window without leading tool results: their calls lie beyond its edge, and a
    provider refuses a result without its call."""
    start = 0
    while start < len(turns) and turns[start].tool_results:
        start += 1
    return list(turns[start:])


def plain(value: Any) -> Any:
    """A message as JSON data: SDK objects (pydantic models) dumped, without unset
    ``None`` fields."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _built(turn: Turn, module: ModuleType) -> list[dict[str, Any]]:
    source: dict[str, Any] = getattr(turn, "source", None) or {}
    if source.get("format") == module.NAME:
        if "item" in source:
            return [source["item"]]
        built: list[dict[str, Any]] = module.build(turn, _native(source))
        if "patch" in source:
            built = [apply_patch(built[0] if len(built) == 1 else None, source["patch"])]
        return built
    if "item" in source:  # kept whole; no other format has it
        return []
    return list(module.build(turn, _translated(source, module, turn.role)))


def _native(source: Mapping[str, Any]) -> Shape:
    return Shape(source.get("parts"), source.get("text_lengths"), native=True)


def _translated(source: Mapping[str, Any], module: ModuleType, role: str) -> Shape:
    """Another format's parts in this format's terms (texts and images)."""
    origin = _MODULES.get(source.get("format", ""))
    if origin is None or source.get("parts") is None:
        return Shape()
    neutral = [origin.to_neutral(p) for p in source["parts"]]
    parts = [module.from_neutral(n, role) for n in neutral if n is not None]
    return Shape(parts, source.get("text_lengths"))


def _joins_calls(out: list[dict[str, Any]], built: list[dict[str, Any]], turn: Turn) -> bool:
    """Whether a translated turn's calls belong to the assistant message before it
    (OpenAI wants all of a step's calls in one message, before their results)."""
    source = getattr(turn, "source", None) or {}
    return (
        source.get("format") not in (None, "openai")
        and bool(out and built)
        and out[-1].get("role") == "assistant"
        and built[0].get("role") == "assistant"
        and bool(built[0].get("tool_calls"))
        and not built[0].get("content")
    )


def _with_source(
    fields: MessageFields, source: dict[str, Any], index: int, max_chars: int
) -> MessageFields:
    """The fields with their ``source``, if it fits: ``SOURCE_FACTOR`` times the content
    limit, as images given as data (base64) are larger than any text."""
    size, limit = len(json.dumps(source, ensure_ascii=False)), max_chars * SOURCE_FACTOR
    if size > limit:
        raise InvalidInput(
            f"message {index}: its parts take {size} characters; the limit is {limit}"
        )
    return replace(fields, source=source)


def _openai_calls(calls: object) -> bool:
    return isinstance(calls, list) and any(
        isinstance(c, Mapping) and "function" in c for c in calls
    )


def _annotated_text(parts: list[Any]) -> bool:
    """Text blocks with Anthropic's extras (``cache_control``, ``citations``)."""
    return any(
        isinstance(p, Mapping) and p.get("type") == "text" and bool(_ANTHROPIC_TEXT & set(p))
        for p in parts
    )
