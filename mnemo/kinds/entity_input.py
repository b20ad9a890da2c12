"""Checking what ``observe`` is given: a text, a message, or a list of them.

A message is a mapping (or an object with the same attributes): ``content``
(required), ``role``, ``speaker`` / ``name``, ``id`` / ``message_id`` (a UUID) and
``created_at``; other fields are ignored, so stored message records can be passed
as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from mnemo.core.entity_extraction import Utterance
from mnemo.core.ids import parse_id
from mnemo.core.validation import require_content, require_scope_id, require_timestamp
from mnemo.errors import InvalidInput

#: Who "I" is when a message names no speaker.
DEFAULT_SPEAKERS = {"user": "User", "assistant": "Assistant"}
_ROLES = frozenset({"user", "assistant", "system", "tool"})


def utterances_from(
    source: object, *, speaker: str | None, at: datetime, max_chars: int
) -> list[Utterance]:
    """The utterances in a text, a message (mapping or object with ``content``) or a
    list of them. Raises ``InvalidInput`` before anything is read when one is bad."""
    if isinstance(source, str):
        return [Utterance(require_content(source, max_chars=max_chars, name="text"), speaker, at)]
    items = [source] if isinstance(source, Mapping) or hasattr(source, "content") else source
    if isinstance(items, (bytes, bytearray)) or not isinstance(items, Sequence) or not items:
        raise InvalidInput("observe needs a text, a message, or a non-empty list of messages")
    return [_utterance(item, i, speaker, at, max_chars) for i, item in enumerate(items)]


def _utterance(
    item: object, index: int, speaker: str | None, at: datetime, limit: int
) -> Utterance:
    get = item.get if isinstance(item, Mapping) else lambda k, d=None: getattr(item, k, d)
    if isinstance(item, str):
        return Utterance(
            require_content(item, max_chars=limit, name=f"message {index}"), speaker, at
        )
    if not isinstance(item, Mapping) and not hasattr(item, "content"):
        raise InvalidInput(f"message {index} must be a text or an object with 'content'")
    text = require_content(get("content"), max_chars=limit, name=f"message {index} content")
    role = get("role") or "user"
    if role not in _ROLES:
        raise InvalidInput(
            f"message {index} role must be one of {sorted(_ROLES)}, got {role!r:.40}"
        )
    who = get("speaker") or get("name") or speaker or DEFAULT_SPEAKERS.get(role)
    who = require_scope_id(who, f"message {index} speaker", required=False)
    when = require_timestamp(get("created_at"), f"message {index} created_at") or at
    raw_id = get("id") or get("message_id")
    message_id = None if raw_id is None else str(parse_id(raw_id, what=f"message {index} id"))
    return Utterance(text, who, when, message_id)
