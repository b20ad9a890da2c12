"""A Memorizz-style record document, taken apart for storage and put back together.

A caller's document is a dict. Its ``id`` (or ``_id``) names the record; its
``embedding`` is the caller's own vector; ``name``, ``memory_id``, ``agent_id``,
``conversation_id`` and ``role`` become typed columns; ``timestamp`` gives the
moment the record happened; every other key is kept as JSON, as given. Reading a
record gives the same document back, plus ``id`` / ``_id`` and the row's times.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

from mnemo.errors import InvalidInput

#: Keys stored in typed columns.
TYPED_KEYS = ("name", "memory_id", "agent_id", "conversation_id", "role")
#: Keys whose text mnemo embeds and indexes for text queries, in this order.
TEXT_KEYS = ("name", "description", "content", "instruction", "goals", "background", "summary")
#: Keys the row itself answers; a caller's own values of them are not stored.
ROW_KEYS = ("id", "_id", "created_at", "updated_at")
#: pgvector's largest vector.
MAX_DIMENSION = 16_000
MEMORY_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_TYPED_CHARS = 1_000


@dataclass(frozen=True, slots=True)
class RecordParts:
    """A document taken apart: what goes in each column."""

    id: str | None
    typed: dict[str, str | None]
    happened_at: datetime | None
    data: dict[str, Any]
    text: str
    vector: list[float] | None


def require_memory_type(value: object) -> str:
    """A collection name: an enum member's value or a snake_case string."""
    if isinstance(value, Enum):
        value = value.value
    if not isinstance(value, str) or not MEMORY_TYPE_PATTERN.match(value):
        raise InvalidInput(
            f"memory_store_type must be a MemoryType or a snake_case name, got {value!r}"
        )
    return value


def require_record_id(value: object) -> str:
    """A record id: a UUID (as text or ``uuid.UUID``)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    raise InvalidInput(f"a record id must be a UUID, got {value!r}")


def split_document(document: object, *, max_bytes: int) -> RecordParts:
    """The columns of a caller's document (``InvalidInput`` if it cannot be stored)."""
    if not isinstance(document, Mapping):
        raise InvalidInput(f"a record must be a dict, got {type(document).__name__}")
    if not all(isinstance(k, str) for k in document):
        raise InvalidInput("a record's keys must be strings")
    data = dict(document)
    given_id = data.get("id") if data.get("id") is not None else data.get("_id")
    record_id = require_record_id(given_id) if given_id is not None else None
    vector = require_vector(data.pop("embedding", None))
    typed = {key: _typed_value(key, data.pop(key, None)) for key in TYPED_KEYS}
    for key in ROW_KEYS:
        data.pop(key, None)
    data = json_safe(data)
    if len(json.dumps(data)) > max_bytes:
        raise InvalidInput(f"a record may hold at most {max_bytes} bytes of JSON")
    return RecordParts(
        id=record_id,
        typed=typed,
        happened_at=_moment(data.get("timestamp")),
        data=data,
        text=record_text({**data, **typed}),
        vector=vector,
    )


def merged(existing: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """A stored document with ``changes`` laid over it (top-level keys replaced)."""
    return {**existing, **changes}


def require_vector(value: object) -> list[float] | None:
    """A caller's embedding as a list of finite floats, or ``None``."""
    if value is None:
        return None
    if hasattr(value, "tolist"):  # numpy arrays
        value = value.tolist()
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        raise InvalidInput("an embedding must be a list of numbers")
    if not 1 <= len(value) <= MAX_DIMENSION:
        raise InvalidInput(f"an embedding must have 1 to {MAX_DIMENSION} dimensions")
    if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in value):
        raise InvalidInput("an embedding must be a list of numbers")
    vector = [float(x) for x in value]
    if not all(math.isfinite(x) for x in vector):
        raise InvalidInput("an embedding must hold finite numbers only")
    return vector


def record_text(document: Mapping[str, Any]) -> str:
    """The text mnemo embeds and indexes for a record: its descriptive fields."""
    parts = []
    for key in TEXT_KEYS:
        value = document.get(key)
        if isinstance(value, str) and value.strip():
            parts.append(value.strip())
        elif isinstance(value, list):
            parts.extend(v.strip() for v in value if isinstance(v, str) and v.strip())
    return "\n".join(parts)


def document_from_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The caller's document back from a stored row, with ``id``, ``_id`` and times."""
    document = dict(row["data"])
    for key in TYPED_KEYS:
        if row[key] is not None:
            document[key] = row[key]
    if row["caller_embedding"] is not None:
        document["embedding"] = vector_as_list(row["caller_embedding"])
    record_id = str(row["id"])
    document.update(
        id=record_id, _id=record_id, created_at=row["created_at"], updated_at=row["updated_at"]
    )
    return document


def vector_as_list(vector: Any) -> list[float]:
    """A stored vector (pgvector's ``Vector`` or an array of float32) as the shortest
    floats that print the same: ``0.1`` comes back as ``0.1``."""
    values = vector.to_numpy() if hasattr(vector, "to_numpy") else vector
    return [float(str(x)) for x in values]


def json_safe(value: Any) -> Any:
    """``value`` with dates, UUIDs and enums as text (``InvalidInput`` for other objects)."""
    if isinstance(value, Mapping):
        return {json_safe(str(k)): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Enum):
        return json_safe(value.value)
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput("a record cannot hold NaN or infinite numbers")
    if isinstance(value, str) and "\x00" in value:
        raise InvalidInput("a record cannot hold NUL characters")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "tolist"):  # numpy values
        return json_safe(value.tolist())
    raise InvalidInput(f"a record cannot hold a {type(value).__name__} value")


def _typed_value(key: str, value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, uuid.UUID | int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > MAX_TYPED_CHARS:
        raise InvalidInput(f"{key} must be a string of at most {MAX_TYPED_CHARS} characters")
    if "\x00" in value:
        raise InvalidInput(f"{key} must not contain NUL characters")
    return value


def _moment(value: object) -> datetime | None:
    """When the record happened, from its ``timestamp`` (ISO text or epoch seconds)."""
    moment: datetime | None = None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        try:
            moment = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment
