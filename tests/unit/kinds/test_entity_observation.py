"""From extractor output to entity rows: input checks, grouping, merging (no database)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mnemo.core.entities import Relation
from mnemo.core.entity_extraction import (
    Extracted,
    FoundEntity,
    KnownEntities,
    OfflineEntityExtractor,
    Utterance,
)
from mnemo.errors import InvalidInput
from mnemo.kinds.entity_input import utterances_from
from mnemo.kinds.entity_observation import aggregate
from mnemo.kinds.entity_plan import plan_changes

T0 = datetime(2025, 1, 1, tzinfo=UTC)
TYPES = ("person", "organisation", "place", "concept")


async def _describe(name: str, current: str, facts: Sequence[str]) -> str:
    return " | ".join([current, *facts]) if current else " | ".join(facts)


def test_utterances_from_text_message_and_list() -> None:
    (text,) = utterances_from("Hi Anna", speaker=None, at=T0, max_chars=100)
    assert (text.text, text.speaker, text.at) == ("Hi Anna", None, T0)
    message_id = uuid.uuid4()
    later = T0 + timedelta(hours=1)
    first, second = utterances_from(
        [
            {"content": "I live in Oslo", "role": "user", "id": message_id, "created_at": later},
            {"content": "Nice!", "role": "assistant"},
        ],
        speaker=None,
        at=T0,
        max_chars=100,
    )
    assert (first.speaker, first.message_id, first.at) == ("User", str(message_id), later)
    assert (second.speaker, second.at) == ("Assistant", T0)
    named = utterances_from({"content": "x", "name": "Jon"}, speaker="Bob", at=T0, max_chars=9)
    assert named[0].speaker == "Jon"


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ([], "non-empty"),
        (b"bytes", "non-empty"),
        ([{"content": ""}], "empty"),
        ([{"content": "x", "role": "bot"}], "role"),
        ([{"content": "x", "id": 5}], "id"),
        ([{"content": "x", "created_at": "soon"}], "created_at"),
        ([{"content": "x" * 11}], "limit"),
        ([3], "message 0"),
    ],
)
def test_utterances_from_rejects_bad_input(source: Any, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        utterances_from(source, speaker=None, at=T0, max_chars=10)


def _utterance(text: str = "x", at: datetime = T0) -> Utterance:
    return Utterance(text, "Jon", at)


def test_aggregate_groups_by_key_and_filters_types() -> None:
    found = [
        Extracted(
            (
                FoundEntity("Anna", "concept", ("Annie",), 2, ("Anna sings.",)),
                FoundEntity("Acme Inc", "organisation"),
            ),
            (Relation("Jon", "sister", "Anna"), Relation("Anna", "works_at", "Acme Inc")),
        ),
        Extracted((FoundEntity("ANNA", "person", (), 1, ("Anna sings.", "Anna runs.")),), ()),
    ]
    later = T0 + timedelta(days=1)
    kept_types = ("person", "place", "concept")
    observation = aggregate(found, [_utterance(), _utterance(at=later)], kept_types)
    anna = observation.entities["anna"]
    assert (anna.name, anna.type, anna.mentions) == ("Anna", "person", 3)
    assert anna.surfaces == {"annie": "Annie"}
    assert anna.facts == ["Anna sings.", "Anna runs."]
    assert (anna.first_seen, anna.last_seen) == (T0, later)
    assert set(observation.entities) == {"anna", "jon"}  # Acme dropped; Jon from a relation
    assert observation.entities["jon"].mentions == 0
    assert [(r.subject_key, r.predicate, r.object_key) for r in observation.relations] == [
        ("jon", "sister", "anna")
    ]
    assert aggregate(found, [_utterance(), _utterance()], TYPES, relations=False).relations == []


async def test_plan_merges_into_stored_entities_by_name_or_alias() -> None:
    stored_id = str(uuid.uuid4())
    stored = {
        "id": stored_id,
        "name": "Anna Lopez",
        "canonical_name": "anna lopez",
        "type": "person",
        "description": "Anna Lopez is a chemist.",
        "mention_count": 4,
        "aliases": ["Annie"],
        "first_seen_at": T0 - timedelta(days=9),
        "last_seen_at": T0 - timedelta(days=2),
        "updated_at": T0,
        "content": "old",
    }
    found = [
        Extracted(
            (
                FoundEntity("Annie", "person", (), 1, ("Annie runs marathons.",)),
                FoundEntity("Riverside", "place"),
            ),
            (),
        )
    ]
    observation = aggregate(found, [_utterance()], TYPES)
    plan = await plan_changes(
        observation, {"annie": stored}, now=T0, describe=_describe, half_life_days=30
    )
    merged = {w.name: w for w in plan.changes.entities}
    anna = merged["Anna Lopez"]
    assert (anna.id, anna.mention_count, anna.canonical_name) == (stored_id, 5, "anna lopez")
    assert anna.description == "Anna Lopez is a chemist. | Annie runs marathons."
    assert (anna.first_seen_at, anna.last_seen_at) == (T0 - timedelta(days=9), T0)
    assert anna.content.startswith("Anna Lopez (person; also Annie): ")
    assert plan.created == ["Riverside"]
    assert ("riverside", "Riverside") not in [(a[0], a[1]) for a in plan.changes.aliases]
    assert plan.changes.aliases == []  # "Annie" is already an alias
    assert {m.entity_id: m.count for m in plan.changes.mentions}[stored_id] == 1
    assert plan.previous_content == {stored_id: "old"}


async def test_plan_records_new_aliases_and_merges_repeated_relations() -> None:
    found = [
        Extracted(
            (FoundEntity("Melanie", "person", ("Mel",)),),
            (Relation("Jon", "friend", "Mel"), Relation("Jon", "friend", "Melanie")),
        )
    ]
    observation = aggregate(found, [_utterance("Mel is my friend")], TYPES)
    plan = await plan_changes(observation, {}, now=T0, describe=_describe, half_life_days=30)
    melanie = next(w for w in plan.changes.entities if w.name == "Melanie")
    assert [(a[0], a[1], a[2]) for a in plan.changes.aliases] == [("mel", "Mel", melanie.id)]
    (relation,) = plan.changes.relations
    assert (relation.count, relation.object_id) == (2, melanie.id)
    assert relation.confidence == pytest.approx(0.84)
    jon = next(w for w in plan.changes.entities if w.name == "Jon")
    assert jon.mention_count == 0 and jon.description == ""
    assert {m.entity_id for m in plan.changes.mentions} == {melanie.id}


async def test_offline_extractor_remembers_names_within_one_observation() -> None:
    extractor = OfflineEntityExtractor()
    first, second = await extractor.extract(
        [_utterance("We flew to Lisbon."), _utterance("Lisbon was sunny.")], KnownEntities()
    )
    assert [e.name for e in first.entities] == ["Lisbon"]
    assert [e.name for e in second.entities] == ["Lisbon"]
    alone = await extractor.extract([_utterance("Lisbon was sunny.")], KnownEntities())
    assert alone[0].entities == ()


def _row(name: str, mentions: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "name": name,
        "canonical_name": name.lower(),
        "type": "person",
        "description": "",
        "mention_count": mentions,
        "aliases": [],
        "first_seen_at": T0,
        "last_seen_at": T0,
        "updated_at": T0,
        "content": name,
    }


async def test_plan_merges_into_the_entity_the_name_names_not_an_alias_owner() -> None:
    bob, anna = _row("Bob", 3), _row("Anna", 7)
    found = [Extracted((FoundEntity("Bob", "person", ("Annie",)),), ())]
    observation = aggregate(found, [_utterance()], TYPES)
    resolved = {"bob": bob, "annie": anna}
    plan = await plan_changes(observation, resolved, now=T0, describe=_describe, half_life_days=30)
    (write,) = plan.changes.entities
    assert (write.id, write.name, write.mention_count) == (bob["id"], "Bob", 4)
