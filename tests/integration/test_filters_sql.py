"""Every filter operator, compiled to SQL and run against PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from mnemo import AsyncMemory

pytestmark = pytest.mark.asyncio

ROWS = {
    "a": {"topic": "coffee", "year": 2021, "tags": ["x", "y"], "owner": {"name": "Ann"}},
    "b": {"topic": "tea", "year": 2024, "title": "Morning Roast 100%"},
    "c": {"topic": "coffee", "year": "2024"},
    "d": {},
}

CASES: list[tuple[dict[str, Any], set[str]]] = [
    ({"topic": "coffee"}, {"a", "c"}),
    ({"topic": {"$eq": "tea"}}, {"b"}),
    ({"topic": {"$ne": "coffee"}}, {"b", "d"}),
    ({"year": {"$gt": 2021}}, {"b"}),
    ({"year": {"$gte": 2021}}, {"a", "b"}),
    ({"year": {"$lt": 2024}}, {"a"}),
    ({"year": {"$lte": "2024"}}, {"c"}),
    ({"topic": {"$in": ["tea", "milk"]}}, {"b"}),
    ({"topic": {"$nin": ["tea"]}}, {"a", "c", "d"}),
    ({"title": {"$exists": True}}, {"b"}),
    ({"title": {"$exists": False}}, {"a", "c", "d"}),
    ({"title": {"$contains": "roast 100%"}}, {"b"}),
    ({"title": {"$contains": "_"}}, set()),
    ({"owner.name": "Ann"}, {"a"}),
    ({"tags": ["x", "y"]}, {"a"}),
    ({"$or": [{"topic": "tea"}, {"year": 2021}]}, {"a", "b"}),
    ({"$and": [{"topic": "coffee"}, {"year": {"$gt": 2000}}]}, {"a"}),
    ({"$not": {"topic": "coffee"}}, {"b", "d"}),
    ({"topic": "coffee", "year": "2024"}, {"c"}),
    ({"topic": "nothing'; DROP TABLE memories; --"}, set()),
]


@pytest.fixture
async def filtered_memory(memory: AsyncMemory) -> AsyncMemory:
    await memory.add_many(
        [{"content": name, "metadata": meta} for name, meta in ROWS.items()], user_id="u"
    )
    return memory


@pytest.mark.parametrize(("filters", "expected"), CASES, ids=[str(c[0]) for c in CASES])
async def test_filter(
    filtered_memory: AsyncMemory, filters: dict[str, Any], expected: set[str]
) -> None:
    listed = await filtered_memory.list(user_id="u", filters=filters)
    assert {m.content for m in listed} == expected
    if expected:
        found = await filtered_memory.search("a b c d", user_id="u", filters=filters)
        assert {h.content for h in found} <= expected
    assert len(await filtered_memory.list(user_id="u")) == 4
