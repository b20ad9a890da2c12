"""Bad input: a typed error with a clear message, and the store exactly as it was."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
import pytest

from mnemo import AsyncMemory, DimensionMismatch, InvalidFilter, InvalidInput, MnemoError, NotFound

pytestmark = pytest.mark.asyncio

Call = Callable[[AsyncMemory, str], Awaitable[Any]]
UNKNOWN = str(uuid.uuid4())

BAD_CALLS: list[tuple[str, Call, type[MnemoError], str]] = [
    ("empty content", lambda m, _: m.add("", user_id="alice"), InvalidInput, "empty"),
    ("blank content", lambda m, _: m.add(" \n\t", user_id="alice"), InvalidInput, "empty"),
    (
        "oversized content",
        lambda m, _: m.add("x" * 100_001, user_id="alice"),
        InvalidInput,
        "limit",
    ),
    ("content not text", lambda m, _: m.add(42, user_id="alice"), InvalidInput, "must be a"),  # type: ignore[arg-type]
    ("NUL in content", lambda m, _: m.add("a\x00b", user_id="alice"), InvalidInput, "NUL"),
    ("missing user_id", lambda m, _: m.add("hi", user_id=None), InvalidInput, "user_id"),  # type: ignore[arg-type]
    ("empty user_id", lambda m, _: m.add("hi", user_id=""), InvalidInput, "user_id"),
    (
        "unknown kind",
        lambda m, _: m.add("hi", user_id="alice", kind="secret"),
        InvalidInput,
        "kind",
    ),
    (
        "confidence > 1",
        lambda m, _: m.add("hi", user_id="alice", confidence=2),
        InvalidInput,
        "confidence",
    ),
    (
        "metadata not object",
        lambda m, _: m.add("hi", user_id="alice", metadata=[1]),
        InvalidInput,
        "metadata",
    ),  # type: ignore[arg-type]
    (
        "bad created_at",
        lambda m, _: m.add("hi", user_id="alice", created_at="soon"),
        InvalidInput,
        "created_at",
    ),
    (
        "wrong vector dimension",
        lambda m, _: m.add("hi", user_id="alice", embedding=[0.1] * 3),
        DimensionMismatch,
        "384",
    ),
    (
        "non-finite vector",
        lambda m, _: m.add("hi", user_id="alice", embedding=[float("nan")] * 384),
        InvalidInput,
        "finite",
    ),
    (
        "one bad item spoils the batch",
        lambda m, _: m.add_many([{"content": "ok"}, {"content": ""}], user_id="alice"),
        InvalidInput,
        "empty",
    ),
    (
        "unknown item field",
        lambda m, _: m.add_many([{"content": "ok", "colour": "red"}], user_id="alice"),
        InvalidInput,
        "unknown fields",
    ),
    ("items not a list", lambda m, _: m.add_many("text", user_id="alice"), InvalidInput, "list"),  # type: ignore[arg-type]
    (
        "huge batch",
        lambda m, _: m.add_many([{"content": "x"}] * 5_001, user_id="alice"),
        InvalidInput,
        "at most",
    ),
    ("empty query", lambda m, _: m.search("", user_id="alice"), InvalidInput, "query"),
    ("limit zero", lambda m, _: m.search("q", user_id="alice", limit=0), InvalidInput, "limit"),
    ("limit huge", lambda m, _: m.search("q", user_id="alice", limit=10**6), InvalidInput, "limit"),
    (
        "malformed filter",
        lambda m, _: m.search("q", user_id="alice", filters={"a": {"$regex": "."}}),
        InvalidFilter,
        "operator",
    ),
    (
        "filter not an object",
        lambda m, _: m.search("q", user_id="alice", filters="a=1"),
        InvalidFilter,
        "object",
    ),  # type: ignore[arg-type]
    (
        "unknown kinds",
        lambda m, _: m.search("q", user_id="alice", kinds=["x"]),
        InvalidInput,
        "kinds",
    ),
    ("malformed id", lambda m, _: m.get("1 OR 1=1"), InvalidInput, "UUID"),
    ("unknown id get", lambda m, _: m.get(UNKNOWN), NotFound, UNKNOWN),
    ("unknown id update", lambda m, _: m.update(UNKNOWN, "new"), NotFound, UNKNOWN),
    ("unknown id delete", lambda m, _: m.delete(UNKNOWN), NotFound, UNKNOWN),
    ("unknown id history", lambda m, _: m.history(UNKNOWN), NotFound, UNKNOWN),
    ("update without changes", lambda m, mid: m.update(mid), InvalidInput, "at least one"),
    ("update to empty content", lambda m, mid: m.update(mid, ""), InvalidInput, "empty"),
    ("negative offset", lambda m, _: m.list(user_id="alice", offset=-1), InvalidInput, "offset"),
    ("delete_user without id", lambda m, _: m.delete_user(""), InvalidInput, "user_id"),
]


async def snapshot(database_url: str) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cursor = await conn.execute(
            "SELECT 'm', id::text, content, metadata::text, updated_at::text FROM memories"
            " UNION ALL SELECT 'e', id::text, event, '', created_at::text FROM memory_events"
            " ORDER BY 1, 2"
        )
        return await cursor.fetchall()


@pytest.mark.parametrize(
    ("label", "call", "error", "message"), BAD_CALLS, ids=[c[0] for c in BAD_CALLS]
)
async def test_bad_input_is_refused_and_changes_nothing(
    memory: AsyncMemory,
    database_url: str,
    label: str,
    call: Call,
    error: type[MnemoError],
    message: str,
) -> None:
    existing = await memory.add("An existing memory", user_id="alice", metadata={"a": 1})
    before = await snapshot(database_url)
    with pytest.raises(error, match=message):
        await call(memory, existing.id)
    assert await snapshot(database_url) == before
