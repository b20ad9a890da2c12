"""Entity memory against a real PostgreSQL: merging, aliases, relations, analytics, scoping."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mnemo import AsyncMemory, Conflict, InvalidInput, MnemoConfig, NotFound
from mnemo.config import EntityConfig
from mnemo.core.tokens import default_token_counter

pytestmark = pytest.mark.asyncio


async def _snapshot(memory: AsyncMemory, user: str) -> list[Any]:
    entities = await memory.entities.list(user_id=user)
    analytics = await memory.entities.get_entity_analytics(user)
    return [
        [(e.name, e.mention_count, e.description, e.aliases) for e in entities],
        (analytics.total_relations, analytics.total_aliases),
    ]


async def test_observe_merges_case_insensitively_and_counts_mentions(memory: AsyncMemory) -> None:
    first = await memory.entities.observe(
        "I met Anna Lopez at Riverside College yesterday.", user_id="jon", speaker="Jon"
    )
    assert set(first.created) == {"Anna Lopez", "Riverside College"}
    second = await memory.entities.observe(
        "Anna Lopez's class: she teaches chemistry at Riverside College.", user_id="jon"
    )
    assert second.created == []
    anna = await memory.entities.get("ANNA lopez", user_id="jon")
    assert (anna.name, anna.type, anna.mention_count) == ("Anna Lopez", "person", 2)
    assert "teaches chemistry" in anna.description
    college = await memory.entities.get("Riverside College", user_id="jon")
    assert (college.type, college.mention_count) == ("organisation", 2)
    assert anna.last_seen_at >= anna.first_seen_at
    assert 0 < anna.importance <= 1


async def test_aliases_merge_later_mentions_into_one_entity(memory: AsyncMemory) -> None:
    await memory.entities.observe("Melanie Brooks joined our book club.", user_id="jon")
    melanie = await memory.entities.add_alias("Melanie Brooks", "Mel", user_id="jon")
    assert melanie.aliases == ["Mel"]
    result = await memory.entities.observe("Thanks, Mel! See you at book club.", user_id="jon")
    assert result.created == [] and [e.name for e in result.entities] == ["Melanie Brooks"]
    assert (await memory.entities.get("mel", user_id="jon")).mention_count == 2
    hits = await memory.entities.search("Mel", user_id="jon")
    assert hits[0].name == "Melanie Brooks" and hits[0].scores == {"exact": 1.0}
    await memory.entities.observe("Tom Hardy called.", user_id="jon")
    with pytest.raises(Conflict, match="Mel"):
        await memory.entities.add_alias("Tom Hardy", "mel", user_id="jon")
    with pytest.raises(NotFound):
        await memory.entities.add_alias("Nobody Here", "Nob", user_id="jon")


async def test_relations_are_recorded_with_evidence_and_strengthened(memory: AsyncMemory) -> None:
    message_id = str(uuid.uuid4())
    await memory.entities.observe(
        [{"content": "My sister Anna works at Acme Inc.", "speaker": "Jon", "id": message_id}],
        user_id="jon",
    )
    await memory.entities.observe("My sister Anna is visiting.", user_id="jon", speaker="Jon")
    related = await memory.entities.related("Anna", user_id="jon")
    triples = {(r.subject, r.predicate, r.object): r for r in related}
    assert set(triples) == {("Jon", "sister", "Anna"), ("Anna", "works_at", "Acme Inc")}
    sister = triples[("Jon", "sister", "Anna")]
    assert sister.mention_count == 2 and sister.confidence > 0.6
    assert sister.source_message_ids == [message_id]
    assert "My sister Anna is visiting." in sister.evidence
    works = await memory.entities.related("Anna", user_id="jon", predicate="works_at")
    assert [r.object for r in works] == ["Acme Inc"]
    assert (await memory.entities.get("Acme Inc", user_id="jon")).type == "organisation"


async def test_first_person_defaults_to_the_role(memory: AsyncMemory) -> None:
    await memory.entities.observe(
        [
            {"role": "user", "content": "I live in Lisbon."},
            {"role": "assistant", "content": "Lisbon is lovely in May."},
        ],
        user_id="jon",
    )
    related = await memory.entities.related("Lisbon", user_id="jon")
    assert [(r.subject, r.predicate) for r in related] == [("User", "lives_in")]
    assert (await memory.entities.get("Lisbon", user_id="jon")).mention_count == 2


async def test_analytics_and_context(memory: AsyncMemory) -> None:
    old = datetime.now(UTC) - timedelta(days=90)
    await memory.entities.observe("We visited Kyoto with Priya.", user_id="jon", observed_at=old)
    for _ in range(3):
        await memory.entities.observe("Priya Shah loves the Kyoto temples.", user_id="jon")
    await memory.entities.observe("My brother Sam moved to Oslo.", user_id="jon", speaker="Jon")
    analytics = await memory.entities.get_entity_analytics("jon", top=2)
    assert analytics.total_entities == len(await memory.entities.list(user_id="jon"))
    assert analytics.by_type["place"] == 2 and analytics.relations_by_predicate["brother"] == 1
    assert [e.name for e in analytics.top_entities] == ["Kyoto", "Priya Shah"]
    assert analytics.first_seen_at is not None and analytics.first_seen_at <= old
    context = await memory.entities.get_context("what about Sam?", user_id="jon", limit=3)
    assert context.entities[0].name == "Sam"
    assert "- Jon --brother--> Sam" in context.text
    assert context.text.startswith("Known entities:\n- Sam (person)")
    plain = context.as_dict()
    assert plain["entities"][0]["name"] == "Sam" and plain["relationships"]
    full = await memory.entities.get_context(user_id="jon")
    first_two_lines = "\n".join(full.text.splitlines()[:2])
    budget = default_token_counter().count(first_two_lines) + 1
    tight = await memory.entities.get_context(user_id="jon", max_tokens=budget)
    assert tight.truncated and tight.text == first_two_lines and tight.tokens <= budget
    assert [e.id for e in tight.entities] == [full.entities[0].id]


async def test_importance_follows_mentions_and_recency(memory: AsyncMemory) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=200)
    await memory.entities.observe(
        "Old friend Carla Diaz called.", user_id="jon", observed_at=long_ago
    )
    for _ in range(4):
        await memory.entities.observe("Dana Kim is my new manager.", user_id="jon")
    ranked = await memory.entities.list(user_id="jon")
    assert [e.name for e in ranked][:2] == ["Dana Kim", "Carla Diaz"]
    assert ranked[0].importance > ranked[1].importance


async def test_entities_are_scoped_by_user_agent_and_session(memory: AsyncMemory) -> None:
    await memory.entities.observe("Grace Hopper wrote COBOL.", user_id="jon", session_id="s1")
    await memory.entities.observe(
        "Alan Turing broke Enigma.", user_id="jon", agent_id="tutor", session_id="s2"
    )
    await memory.entities.observe("Ada Lovelace wrote notes.", user_id="eve")
    names = {e.name for e in await memory.entities.list(user_id="jon")}
    assert {"Grace Hopper", "Alan Turing"} <= names and "Ada Lovelace" not in names
    s1 = {e.name for e in await memory.entities.list(user_id="jon", session_id="s1")}
    assert "Grace Hopper" in s1 and "Alan Turing" not in s1
    tutor = {e.name for e in await memory.entities.list(user_id="jon", agent_id="tutor")}
    assert "Alan Turing" in tutor and "Grace Hopper" not in tutor
    with pytest.raises(NotFound):
        await memory.entities.get("Ada Lovelace", user_id="jon")
    hits = await memory.entities.search("computing pioneer", user_id="eve")
    assert {h.name for h in hits} <= {"Ada Lovelace"}
    assert await memory.for_tenant("other").entities.list(user_id="jon") == []
    analytics = await memory.entities.get_entity_analytics("jon")
    assert analytics.sessions == 2
    counts = await memory.delete_user("jon")
    assert counts["entities"] >= 4
    assert await memory.entities.list(user_id="jon") == []


async def test_entity_types_and_relationship_tracking_config(config: MnemoConfig) -> None:
    narrow = EntityConfig(entity_types=("person", "location"), relationship_tracking=False)
    async with AsyncMemory(dataclasses.replace(config, entities=narrow)) as memory:
        await memory.entities.observe(
            "My sister Anna works at Acme Inc in Lisbon.", user_id="jon", speaker="Jon"
        )
        found = {e.name: e.type for e in await memory.entities.list(user_id="jon")}
        assert found == {"Anna": "person", "Lisbon": "place"}
        assert await memory.entities.related("Anna", user_id="jon") == []
        people = await memory.entities.list(user_id="jon", types=["person"])
        assert [e.name for e in people] == ["Anna"]


BAD_OBSERVATIONS: list[tuple[Any, dict[str, Any], str]] = [
    ("", {}, "empty"),
    ([], {}, "non-empty list"),
    (42, {}, "text"),
    ([{"content": "Anna called."}, {"text": "no content"}], {}, "message 1"),
    ([{"content": "Anna called.", "role": "robot"}], {}, "role"),
    ([{"content": "Anna called.", "id": "not-a-uuid"}], {}, "id"),
    ("Anna called.", {"user_id": ""}, "user_id"),
    ("Anna called.", {"observed_at": "someday"}, "observed_at"),
    ("x" * 100_001, {}, "limit"),
]


@pytest.mark.parametrize(("source", "kwargs", "match"), BAD_OBSERVATIONS)
async def test_bad_input_raises_and_changes_nothing(
    memory: AsyncMemory, source: Any, kwargs: dict[str, Any], match: str
) -> None:
    await memory.entities.observe("Anna Lopez lives in Porto.", user_id="jon")
    before = await _snapshot(memory, "jon")
    with pytest.raises(InvalidInput, match=match):
        await memory.entities.observe(source, **{"user_id": "jon", **kwargs})
    assert await _snapshot(memory, "jon") == before


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda m: m.entities.get("", user_id="jon"), InvalidInput),
        (lambda m: m.entities.get("Nobody", user_id="jon"), NotFound),
        (lambda m: m.entities.search("x", user_id="jon", limit=0), InvalidInput),
        (lambda m: m.entities.list(user_id="jon", types=["spaceship"]), InvalidInput),
        (lambda m: m.entities.get_entity_analytics(None), InvalidInput),
        (lambda m: m.entities.add_alias("Anna Lopez", " ", user_id="jon"), InvalidInput),
        (lambda m: m.entities.delete("Nobody", user_id="jon"), NotFound),
    ],
)
async def test_bad_reads_raise_typed_errors(memory: AsyncMemory, call: Any, error: type) -> None:
    await memory.entities.observe("Anna Lopez lives in Porto.", user_id="jon")
    before = await _snapshot(memory, "jon")
    with pytest.raises(error):
        await call(memory)
    assert await _snapshot(memory, "jon") == before


async def test_delete_forgets_the_entity_and_its_relations(memory: AsyncMemory) -> None:
    await memory.entities.observe("My sister Anna lives in Porto.", user_id="jon", speaker="Jon")
    await memory.entities.delete("anna", user_id="jon")
    with pytest.raises(NotFound):
        await memory.entities.get("Anna", user_id="jon")
    assert await memory.entities.related("Jon", user_id="jon") == []


async def test_delete_user_counts_every_entity_table(memory: AsyncMemory) -> None:
    await memory.entities.observe("My sister Anna lives in Porto.", user_id="jon", speaker="Jon")
    await memory.entities.add_alias("Anna", "Annie", user_id="jon")
    await memory.entities.observe("Eve Adams lives nearby.", user_id="eve")
    counts = await memory.delete_user("jon")
    assert counts["entities"] == 3 and counts["entity_aliases"] == 1
    assert counts["entity_relations"] == 2 and counts["entity_mentions"] == 2
    assert [e.name for e in await memory.entities.list(user_id="eve")] == ["Eve Adams"]


async def test_concurrent_observations_merge_into_one_entity(memory: AsyncMemory) -> None:
    texts = [f"Anna Lopez sent photo number {i} from Porto." for i in range(4)]
    results = await asyncio.gather(
        *(
            memory.entities.observe(t, user_id="jon", session_id=f"s{i}")
            for i, t in enumerate(texts)
        )
    )
    assert sum("Anna Lopez" in r.created for r in results) == 1
    anna = await memory.entities.get("Anna Lopez", user_id="jon")
    assert anna.mention_count == 4
    assert len(await memory.entities.list(user_id="jon")) == 2  # Anna Lopez and Porto
    assert (await memory.entities.get_entity_analytics("jon")).sessions == 4
