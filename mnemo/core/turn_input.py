"""What ``add`` accepts as conversation turns, turned into what the stores take.

``add(content_or_turns, ...)`` takes a text (one user turn) or a list of turns;
with ``infer=True`` they become conversation messages, without it each turn is
stored verbatim as a note. Pure functions: they only check and reshape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from mnemo.core.formats import detect_format, plain, read_message
from mnemo.core.ids import parse_id
from mnemo.core.message_checks import search_text
from mnemo.errors import InvalidInput

__all__ = ["MEMORY_ONLY_FIELDS", "as_turns", "message_ids_of", "turn_as_note"]

#: Fields of ``add`` that describe one stored memory, meaningless for turns to extract.
MEMORY_ONLY_FIELDS = ("kind", "embedding")
#: Notes are bounded where they are stored; reading a provider's message needs no bound.
_UNBOUNDED = 2**62


def as_turns(
    content: str | Sequence[Mapping[str, Any]], memory_fields: Mapping[str, Any]
) -> list[Mapping[str, Any]]:
    """A text as one user turn (with the call's metadata and time), or the turns given."""
    if isinstance(content, str):
        turn: dict[str, Any] = {"role": "user", "content": content}
        for name in ("metadata", "created_at"):
            if memory_fields.get(name) is not None:
                turn[name] = memory_fields[name]
        return [turn]
    if isinstance(content, (bytes, Mapping)) or not isinstance(content, Sequence):
        raise InvalidInput("content must be a text or a list of turns with 'role' and 'content'")
    return [turn for turn in cast(Sequence[Mapping[str, Any]], content)]


def turn_as_note(turn: Mapping[str, Any], index: int, fmt: str | None = None) -> dict[str, Any]:
    """A turn stored verbatim as a note memory (``infer=False``), its role in metadata;
    a provider's message (``fmt``, or detected) as the text search sees for it."""
    turn = plain(turn)
    if isinstance(turn, Mapping) and (fmt or detect_format(turn)) not in (None, "mnemo"):
        fields = read_message(turn, index, fmt, max_chars=_UNBOUNDED, max_metadata_bytes=_UNBOUNDED)
        text = search_text(fields.content, fields.tool_calls, fields.tool_results)
        turn = {"role": fields.role, "content": text, "metadata": fields.metadata,
                "created_at": fields.created_at}  # fmt: skip
    if not isinstance(turn, Mapping) or "content" not in turn:
        raise InvalidInput(f"turn {index} must be an object with 'role' and 'content'")
    metadata = dict(turn.get("metadata") or {})
    metadata.setdefault("role", turn.get("role", "user"))
    if turn.get("name"):
        metadata.setdefault("name", turn["name"])
    note = {"content": turn["content"], "metadata": metadata}
    if turn.get("created_at") is not None:
        note["created_at"] = turn["created_at"]
    return note


def message_ids_of(message_ids: Sequence[str] | str) -> list[str]:
    """Checked message ids (one id or a list of them)."""
    if isinstance(message_ids, str):
        message_ids = [message_ids]
    return [str(parse_id(i, what="message id")) for i in message_ids]
