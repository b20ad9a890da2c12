"""JSON values, names and lifetimes for the key-value store and working memory.

Everything here is pure: it checks caller input before anything is written and
turns a value into what PostgreSQL stores. A value is stored as ``jsonb`` when
small and as zlib-compressed JSON (``bytea``) from ``compress_min_bytes`` on, when
that is smaller; callers never see the difference.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from dataclasses import dataclass
from typing import Any

from mnemo.errors import InvalidInput

#: Longest key accepted (characters).
MAX_KEY_CHARS = 512
#: Deepest nesting of lists and objects accepted in a value.
MAX_DEPTH = 64
#: Longest lifetime accepted: ten years.
MAX_TTL_SECONDS = 10 * 365 * 24 * 3600.0
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}")


@dataclass(frozen=True, slots=True)
class EncodedValue:
    """A value ready to store: exactly one of ``json_text`` and ``packed`` is set."""

    #: The value as JSON text (stored as ``jsonb``), or ``None`` when packed.
    json_text: str | None
    #: zlib-compressed UTF-8 JSON (stored as ``bytea``), or ``None``.
    packed: bytes | None
    #: Bytes of the uncompressed JSON: what size limits and statistics count.
    size: int


def require_name(value: object, what: str = "namespace") -> str:
    """A namespace: 1-64 characters of letters, digits and ``_ . : / -``, starting
    with a letter or digit."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise InvalidInput(
            f"{what} must be 1-64 characters of letters, digits and '_.:/-', "
            f"starting with a letter or digit; got {value!r:.80}"
        )
    return value


def require_key(value: object, what: str = "key") -> str:
    """A key: a non-blank string of at most 512 characters, without NUL."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} must be a non-empty string, got {value!r:.80}")
    if len(value) > MAX_KEY_CHARS or "\x00" in value:
        raise InvalidInput(f"{what} must be at most {MAX_KEY_CHARS} characters, without NUL")
    return require_utf8(value, what)


def require_utf8(value: str, what: str) -> str:
    """``value`` if it can be stored as UTF-8 (no lone surrogates)."""
    try:
        value.encode()
    except UnicodeEncodeError:
        raise InvalidInput(f"{what} is not valid Unicode (it holds a lone surrogate)") from None
    return value


def require_ttl(value: object, what: str = "ttl_seconds") -> float | None:
    """A lifetime in seconds: ``None`` (never expires) or a finite number in
    (0, ten years]."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(f"{what} must be a number of seconds or None, got {value!r:.80}")
    if not math.isfinite(value) or not 0 < value <= MAX_TTL_SECONDS:
        raise InvalidInput(f"{what} must be > 0 and at most {MAX_TTL_SECONDS:.0f}, got {value}")
    return float(value)


def require_version(value: object, what: str = "expected_version") -> int | None:
    """An expected version: ``None`` (no check) or an integer >= 0 (0: must not exist)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"{what} must be an integer >= 0 or None, got {value!r:.80}")
    return value


def require_json(value: object, what: str = "value") -> None:
    """Raise ``InvalidInput`` unless ``value`` round-trips through JSON unchanged:
    ``None``, booleans, integers, finite floats, strings without NUL, lists (or
    tuples) of those and objects with string keys, nested at most 64 deep."""
    _check(value, what, 0)


def _check(value: object, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise InvalidInput(f"{path} is nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, (bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"{path} must be a finite number, got {value}")
    elif isinstance(value, str):
        if "\x00" in value:
            raise InvalidInput(f"{path} must not contain NUL characters")
        require_utf8(value, path)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]", depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(f"{path} has a non-string key {key!r:.40}; JSON needs strings")
            _check(key, f"{path} key", depth + 1)
            _check(item, f"{path}[{key!r:.40}]", depth + 1)
    else:
        raise InvalidInput(f"{path} is not JSON: {type(value).__name__} is not supported")


def encode_value(
    value: object, *, max_bytes: int, compress_min_bytes: int | None, what: str = "value"
) -> EncodedValue:
    """``value`` checked and encoded for storage (see the module docstring).

    Raises ``InvalidInput`` if it is not JSON or its JSON is over ``max_bytes``.
    ``compress_min_bytes=None`` never compresses.
    """
    require_json(value, what)
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    data = text.encode()
    if len(data) > max_bytes:
        raise InvalidInput(f"{what} is {len(data)} bytes as JSON; the limit is {max_bytes}")
    if compress_min_bytes is not None and len(data) >= compress_min_bytes:
        packed = zlib.compress(data, 6)
        if len(packed) < len(data):
            return EncodedValue(None, packed, len(data))
    return EncodedValue(text, None, len(data))


def decode_value(stored_json: Any, packed: bytes | None) -> Any:
    """The value stored as ``jsonb`` (already decoded by the driver) or packed."""
    if packed is None:
        return stored_json
    return json.loads(zlib.decompress(packed))


__all__ = [
    "MAX_KEY_CHARS",
    "MAX_TTL_SECONDS",
    "EncodedValue",
    "decode_value",
    "encode_value",
    "require_json",
    "require_key",
    "require_name",
    "require_ttl",
    "require_utf8",
    "require_version",
]
