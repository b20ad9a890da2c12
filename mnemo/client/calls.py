"""Each ``Memory`` method as an HTTP call: how to ask the service, how to read its answer.

Both clients run these specs, so the sync and async faces cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any
from urllib.parse import quote

from mnemo.core.formats import plain
from mnemo.core.records import AddResult, MemoryEvent, MemoryRecord, SearchHit

PREFIX = "/api/v1"


@dataclass(frozen=True, slots=True)
class Call:
    """One request and the function that turns its response body into the result."""

    method: str
    path: str
    parse: Callable[[Any], Any]
    params: dict[str, Any] | None = None
    body: Any = None
    content: bytes | None = None


def add(
    content: str,
    *,
    user_id: str,
    agent_id: str | None = None,
    session_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    created_at: datetime | str | None = None,
    kind: str = "note",
    infer: bool = False,
    confidence: float = 1.0,
    importance: float = 0.5,
    embedding: Sequence[float] | None = None,
) -> Call:
    body = {
        "user_id": user_id,
        "content": content,
        "agent_id": agent_id,
        "session_id": session_id,
        "metadata": metadata,
        "created_at": created_at,
        "kind": kind,
        "infer": infer,
        "confidence": confidence,
        "importance": importance,
        "embedding": embedding,
    }
    return Call("POST", f"{PREFIX}/memories", _add_result, body=_json_ready(body))


def add_many(
    items: Sequence[Mapping[str, Any]],
    *,
    user_id: str,
    agent_id: str | None = None,
    session_id: str | None = None,
    infer: bool = False,
    contextual: bool = True,
) -> Call:
    body = {
        "user_id": user_id,
        "items": [dict(item) for item in items],
        "agent_id": agent_id,
        "session_id": session_id,
        "infer": infer,
        "contextual": contextual,
    }
    return Call(
        "POST", f"{PREFIX}/memories/batch", lambda data: list(data["ids"]), body=_json_ready(body)
    )


def search(
    query: str,
    *,
    user_id: str,
    limit: int = 10,
    filters: Mapping[str, Any] | None = None,
    kinds: Sequence[str] | None = None,
    agent_id: str | None = None,
    session_id: str | None = None,
    as_of: datetime | str | None = None,
) -> Call:
    body = {
        "query": query,
        "top_k": limit,
        "filters": filters,
        "kinds": [kinds] if isinstance(kinds, str) else kinds,
        "agent_id": agent_id,
        "session_id": session_id,
        "as_of": as_of,
    }
    path = f"{PREFIX}/memories/{segment(user_id)}/search"
    return Call(
        "POST",
        path,
        lambda data: [_record(SearchHit, h) for h in data["results"]],
        body=_json_ready(body),
    )


def add_messages(
    messages: Sequence[Mapping[str, Any]],
    *,
    user_id: str,
    session_id: str | None = None,
    agent_id: str | None = None,
    format: str | None = None,
) -> Call:
    body = {
        "user_id": user_id,
        "session_id": session_id,
        "agent_id": agent_id,
        "messages": [plain(message) for message in messages],
        "format": format,
    }
    return Call(
        "POST", f"{PREFIX}/messages", lambda data: list(data["ids"]), body=_json_ready(body)
    )


@dataclass(frozen=True, slots=True)
class ContextReply:
    """``Memory.context``'s result as the service sends it: ``text`` within ``max_tokens``;
    ``sections`` and ``dropped`` as JSON objects (``ContextResult.as_dict``'s form)."""

    text: str
    tokens: int
    max_tokens: int
    sections: list[dict[str, Any]]
    dropped: list[dict[str, Any]]
    timings_ms: dict[str, float]
    degraded: bool
    errors: dict[str, str]


def context(
    query: str,
    *,
    user_id: str,
    session_id: str | None = None,
    agent_id: str | None = None,
    max_tokens: int = 2000,
    priorities: Mapping[str, float] | None = None,
    sections: Sequence[str] | None = None,
) -> Call:
    body = {
        "query": query,
        "user_id": user_id,
        "session_id": session_id,
        "agent_id": agent_id,
        "max_tokens": max_tokens,
        "priorities": priorities,
        "sections": sections,
    }
    return Call("POST", f"{PREFIX}/context", _context_reply, body=_json_ready(body))


def _context_reply(data: Mapping[str, Any]) -> ContextReply:
    return ContextReply(
        text=data["context"],
        tokens=data["tokens"],
        max_tokens=data["max_tokens"],
        sections=data["sections"],
        dropped=data["dropped"],
        timings_ms=data["timings_ms"],
        degraded=data["degraded"],
        errors=data["errors"],
    )


def _owner(user_id: str | None) -> dict[str, Any] | None:
    """The optional ``user_id`` of a lookup by id, as a query parameter."""
    return None if user_id is None else {"user_id": user_id}


def get(memory_id: str, *, user_id: str | None = None) -> Call:
    return Call(
        "GET",
        f"{PREFIX}/memories/{segment(memory_id)}",
        lambda data: _record(MemoryRecord, data),
        params=_owner(user_id),
    )


def list_memories(
    *,
    user_id: str,
    agent_id: str | None = None,
    session_id: str | None = None,
    kinds: Sequence[str] | None = None,
    filters: Mapping[str, Any] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Call:
    params = {
        "user_id": user_id,
        "agent_id": agent_id,
        "session_id": session_id,
        "kind": [kinds] if isinstance(kinds, str) else kinds,
        "filters": json.dumps(filters) if filters is not None else None,
        "limit": limit,
        "offset": offset,
    }
    return Call(
        "GET",
        f"{PREFIX}/memories",
        lambda data: [_record(MemoryRecord, r) for r in data["items"]],
        params={k: v for k, v in params.items() if v is not None},
    )


def update(
    memory_id: str,
    content: str | None = None,
    *,
    metadata: dict[str, Any] | None = None,
    kind: str | None = None,
    confidence: float | None = None,
    importance: float | None = None,
    pinned: bool | None = None,
    user_id: str | None = None,
) -> Call:
    body = {
        "content": content,
        "metadata": metadata,
        "kind": kind,
        "confidence": confidence,
        "importance": importance,
        "pinned": pinned,
    }
    path = f"{PREFIX}/memories/{segment(memory_id)}"
    return Call(
        "PATCH",
        path,
        lambda data: _record(MemoryRecord, data),
        params=_owner(user_id),
        body=_json_ready(body),
    )


def delete(memory_id: str, *, user_id: str | None = None) -> Call:
    path = f"{PREFIX}/memories/{segment(memory_id)}"
    return Call("DELETE", path, lambda data: None, params=_owner(user_id))


def history(memory_id: str, *, user_id: str | None = None) -> Call:
    path = f"{PREFIX}/memories/{segment(memory_id)}/history"
    return Call(
        "GET", path, lambda data: [_record(MemoryEvent, e) for e in data], params=_owner(user_id)
    )


def delete_user(user_id: str) -> Call:
    path = f"{PREFIX}/memories/{segment(user_id)}/all"
    return Call("DELETE", path, lambda data: dict(data["deleted"]))


def stats(user_id: str) -> Call:
    return Call("GET", f"{PREFIX}/memories/{segment(user_id)}/stats", lambda data: data)


def export_user(user_id: str) -> Call:
    return Call("GET", f"{PREFIX}/users/{segment(user_id)}/export", lambda data: data)


def import_user(user_id: str, lines: Iterable[Mapping[str, Any]]) -> Call:
    content = b"".join(
        (json.dumps(_plain(line), ensure_ascii=False) + "\n").encode() for line in lines
    )
    path = f"{PREFIX}/users/{segment(user_id)}/import"
    return Call(
        "POST",
        path,
        lambda data: {"imported": data["imported"], "skipped": data["skipped"]},
        content=content,
    )


def segment(value: str) -> str:
    """``value`` as one path segment: every reserved character (and ``.``) escaped."""
    if not isinstance(value, str):
        value = str(value)
    return quote(value, safe="").replace(".", "%2E")


def _add_result(data: Any) -> AddResult:
    if "extraction" in data:  # infer=True: turns stored, extraction queued (202)
        return AddResult(ids=list(data["ids"]), memories=[], extraction=dict(data["extraction"]))
    record = _record(MemoryRecord, data)
    return AddResult(ids=[record.id], memories=[record])


def _record(cls: Any, data: Mapping[str, Any]) -> Any:
    """A record dataclass from its JSON form (timestamps parsed, unknown keys ignored)."""
    values = {}
    for f in fields(cls):
        if f.name in data:
            value = data[f.name]
            if isinstance(value, str) and f.name.endswith(("_at", "valid_from", "valid_to")):
                value = datetime.fromisoformat(value)
            values[f.name] = value
    return cls(**values)


def _json_ready(body: Mapping[str, Any]) -> dict[str, Any]:
    """A request body: fields that are ``None`` left out, the rest made JSON-ready."""
    return {key: _plain(value) for key, value in body.items() if value is not None}


def _plain(value: Any) -> Any:
    """``value`` with datetimes as ISO strings and arrays as lists, at any depth."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    return value
