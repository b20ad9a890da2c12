"""Checks on caller input, made before anything touches the store."""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from mnemo.core.records import MEMORY_KINDS
from mnemo.errors import InvalidInput

MAX_SCOPE_ID_CHARS = 255


def require_scope_id(value: object, name: str, *, required: bool = True) -> str | None:
    """A user/agent/session id: a non-empty string of at most 255 characters."""
    if value is None:
        if required:
            raise InvalidInput(f"{name} is required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{name} must be a non-empty string, got {value!r:.80}")
    if len(value) > MAX_SCOPE_ID_CHARS or "\x00" in value:
        raise InvalidInput(f"{name} must be at most {MAX_SCOPE_ID_CHARS} characters, without NUL")
    return value


def require_content(value: object, *, max_chars: int, name: str = "content") -> str:
    """Text to store: a non-blank string within ``max_chars``, without NUL bytes."""
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidInput(f"{name} must not be empty")
    if len(value) > max_chars:
        raise InvalidInput(f"{name} has {len(value)} characters; the limit is {max_chars}")
    if "\x00" in value:
        raise InvalidInput(f"{name} must not contain NUL characters")
    return value


def require_metadata(value: object, *, max_bytes: int) -> dict[str, Any]:
    """A JSON object with string keys, at most ``max_bytes`` when serialised."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"metadata must be an object, got {type(value).__name__}")
    try:
        encoded = json.dumps(value, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"metadata must be JSON-serialisable: {exc}") from None
    if len(encoded.encode()) > max_bytes:
        raise InvalidInput(f"metadata is larger than {max_bytes} bytes")
    if "\\u0000" in encoded:
        raise InvalidInput("metadata must not contain NUL characters")
    return value


def require_choice(value: object, name: str, choices: Collection[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise InvalidInput(f"{name} must be one of {sorted(choices)}, got {value!r:.80}")
    return value


def require_kinds(kinds: object) -> list[str] | None:
    """Memory kinds to narrow to (one kind or several), or ``None`` for all."""
    if kinds is None:
        return None
    if isinstance(kinds, str):
        kinds = [kinds]
    if not isinstance(kinds, Collection):
        raise InvalidInput(f"kinds must be a list of kinds, got {kinds!r:.80}")
    unknown = [k for k in kinds if k not in MEMORY_KINDS]
    if unknown:
        raise InvalidInput(f"unknown kinds {unknown!r}; known: {list(MEMORY_KINDS)}")
    return list(kinds)


def require_unit(value: object, name: str) -> float:
    """A number in [0, 1] (confidence, importance)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(f"{name} must be a number in [0, 1], got {value!r:.80}")
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise InvalidInput(f"{name} must be in [0, 1], got {value}")
    return float(value)


def require_limit(value: object, name: str = "limit", *, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise InvalidInput(f"{name} must be an integer from 1 to {maximum}, got {value!r:.80}")
    return value


def require_timestamp(value: object, name: str) -> datetime | None:
    """An aware datetime (naive ones are taken as UTC), an ISO 8601 string, or None."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"{name} is not an ISO 8601 timestamp: {value!r:.80}") from None
    if not isinstance(value, datetime):
        raise InvalidInput(f"{name} must be a datetime or ISO 8601 string")
    return value if value.tzinfo else value.replace(tzinfo=UTC)
