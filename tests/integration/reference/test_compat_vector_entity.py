"""The seed-named VectorDatabaseMemory and EntityMemory on a real PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from mnemo import AsyncMemory, ConfigurationError, InvalidInput, MnemoConfig
from mnemo.compat.entity import EntityMemory
from mnemo.compat.vector import VectorDatabaseMemory


async def test_vector_memory_threshold_filters_and_max_results(memory: AsyncMemory) -> None:
    vector = VectorDatabaseMemory({"similarity_threshold": 0.0, "max_results": 5}, memory=memory)
    await vector.initialize()
    first = await vector.store(
        {
            "user_id": "u1",
            "content": "The billing API allows 100 requests per second",
            "metadata": {"topic": "api"},
        }
    )
    await vector.store(
        {
            "user_id": "u1",
            "content": "Our office dog is called Biscuit",
            "metadata": {"topic": "team"},
        }
    )
    await vector.store({"user_id": "u2", "content": "u2 also has an API rate limit"})
    context = await vector.get_context({"user_id": "u1", "query": "API rate limit"})
    assert context["results"][0]["id"] == first
    assert {r["content"] for r in context["results"]} >= {
        "The billing API allows 100 requests per second"
    }
    assert all(r["content"] != "u2 also has an API rate limit" for r in context["results"])
    best = context["results"][0]["similarity"]
    strict = await vector.get_context(
        {"user_id": "u1", "query": "API rate limit", "similarity_threshold": best - 1e-6}
    )
    assert [r["id"] for r in strict["results"]] == [first]
    assert all(r["similarity"] >= best - 1e-6 for r in strict["results"])
    filtered = await vector.get_context(
        {"user_id": "u1", "query": "API rate limit", "filters": {"topic": "team"}}
    )
    assert [r["content"] for r in filtered["results"]] == ["Our office dog is called Biscuit"]
    one = await vector.search("API", user_id="u1", max_results=1)
    assert len(one) == 1
    assert context["context"].startswith("- The billing API")
    health = await vector.health_check()
    assert health["memory_type"] == "vector_database" and health["status"] in (
        "healthy",
        "degraded",
    )


async def test_vector_memory_can_include_documents(memory: AsyncMemory) -> None:
    await memory.documents.load(
        "limits.md", "# Limits\n\nThe search API allows 20 rps.", user_id="u1"
    )
    vector = VectorDatabaseMemory(
        {"similarity_threshold": 0.0, "include_documents": True}, memory=memory
    )
    results = (await vector.get_context({"user_id": "u1", "query": "search API limit"}))["results"]
    assert results[0]["source"] == "documents" and results[0]["document"] == "limits.md"


@pytest.mark.parametrize(
    "config",
    [
        {"similarity_threshold": 2},
        {"similarity_threshold": "high"},
        {"max_results": 0},
        {"supabase_url": "https://x.supabase.co", "supabase_key": "k"},
    ],
)
def test_vector_memory_rejects_bad_config(config: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        VectorDatabaseMemory(config)


async def test_vector_memory_bad_requests_change_nothing(memory: AsyncMemory) -> None:
    vector = VectorDatabaseMemory({}, memory=memory)
    with pytest.raises(InvalidInput):
        await vector.store({"user_id": "u1"})
    with pytest.raises(InvalidInput):
        await vector.store({"content": "no user"})
    with pytest.raises(InvalidInput):
        await vector.get_context({"user_id": "u1", "query": "x", "max_results": 0})
    assert await memory.list(user_id="u1") == []


async def test_entity_memory_store_context_and_analytics(memory: AsyncMemory) -> None:
    entity = EntityMemory(
        {"entity_types": ["person", "organization", "location"], "relationship_tracking": True},
        memory=memory,
    )
    await entity.initialize()
    stored = await entity.store(
        {
            "user_id": "u1",
            "session_id": "s1",
            "role": "user",
            "speaker": "Jon",
            "content": "My sister Anna works at Acme Inc in Lisbon.",
        }
    )
    assert set(stored["created"]) == {"Anna", "Acme Inc", "Lisbon", "Jon"}
    triples = {(r["subject"], r["predicate"], r["object"]) for r in stored["relationships"]}
    assert triples == {("Jon", "sister", "Anna"), ("Anna", "works_at", "Acme Inc")}
    await entity.add_alias("Anna", "Annie", user_id="u1")
    await entity.store({"user_id": "u1", "session_id": "s2", "content": "Annie called again."})
    anna = await entity.get_entity("annie", user_id="u1")
    assert (anna["name"], anna["mention_count"], anna["type"]) == ("Anna", 2, "person")
    context = await entity.get_context({"user_id": "u1", "query": "Where does Anna work?"})
    assert context["entities"][0]["name"] == "Anna"
    assert {e["type"] for e in context["entities"]} <= {"person", "organization", "location"}
    assert "Anna --works_at--> Acme Inc" in context["context"]
    analytics = await entity.get_entity_analytics("u1")
    assert analytics["entity_types"] == {"person": 2, "organization": 1, "location": 1}
    assert analytics["sessions"] == 2 and analytics["total_relationships"] == 2
    assert analytics["top_entities"][0]["name"] == "Anna"
    found = await entity.search_entities("Acme", user_id="u1")
    assert found[0]["name"] == "Acme Inc" and found[0]["type"] == "organization"
    relationships = await entity.get_relationships("Anna", user_id="u1")
    assert {r["predicate"] for r in relationships} == {"sister", "works_at"}
    health = await entity.health_check()
    assert health["memory_type"] == "entity_memory"


async def test_entity_memory_own_engine_from_a_config_dict(config: MnemoConfig) -> None:
    entity = EntityMemory(
        {
            "database_url": config.database_url,
            "embedder": config.embedder,
            "user_id": "u9",
            "entity_types": ["person"],
            "relationship_tracking": False,
        }
    )
    async with entity:
        result = await entity.store({"content": "My boss Rita Moreno works at Acme Inc."})
        assert result["created"] == ["Rita Moreno"] and result["relationships"] == []
        analytics = await entity.get_entity_analytics()
        assert analytics["user_id"] == "u9" and analytics["entity_types"] == {"person": 1}


@pytest.mark.parametrize(
    "config", [{"entity_types": ["person", "spaceship"]}, {"entity_types": "person"}]
)
def test_entity_memory_rejects_bad_config(config: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        EntityMemory(config)
