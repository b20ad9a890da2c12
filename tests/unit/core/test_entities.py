"""The offline entity extractor: spans, aliases, relations, types, and LoCoMo quality."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from mnemo.core.entities import EntityMention, Relation, extract_entities

SAMPLE = Path(__file__).parents[2] / "data" / "locomo_entities_sample.json"


def by_name(text: str, **kwargs: Any) -> dict[str, EntityMention]:
    return {m.name: m for m in extract_entities(text, **kwargs).mentions}


def test_multi_word_spans_and_sentence_initial_common_words() -> None:
    found = by_name(
        "Thanks! Parenting is hard. I read a book by Patrick Rothfuss in New York City."
    )
    assert set(found) == {"Patrick Rothfuss", "New York City"}
    assert found["Patrick Rothfuss"].type == "person"
    assert found["New York City"].type == "place"


def test_span_and_context_point_into_the_text() -> None:
    text = "We moved last year. Now Anna teaches at Riverside College. It is great."
    mention = by_name(text)["Riverside College"]
    start, end = mention.span
    assert text[start:end] == "Riverside College"
    assert mention.context == "Now Anna teaches at Riverside College."
    assert mention.type == "organisation"


def test_sentence_initial_names_are_kept_when_known_or_seen_elsewhere() -> None:
    assert "Maria" in by_name("Maria, since we talked, it's been tough.", known_people=["Maria"])
    assert "Rome" in by_name("Rome was lovely. We want to see Rome again.")
    assert by_name("Striving for progress is crucial.") == {}


def test_addressed_people_pronouns_dates_and_shouting_are_handled() -> None:
    found = by_name("Hey Mel! Last Friday I went out. It was SO MUCH FUN. Thanks, Jo!")
    assert set(found) == {"Mel", "Jo"}
    assert all(m.type == "person" for m in found.values())


def test_aliases_map_to_the_canonical_name() -> None:
    (mention,) = extract_entities("Good to see you, Mel!", aliases={"Mel": "Melanie"}).mentions
    assert mention.name == "Melanie"
    assert mention.aliases == ("Mel",)
    assert mention.type == "person"


def test_relations_resolve_first_person_to_the_speaker() -> None:
    text = (
        "My sister Anna works at Acme Inc. I live in Lisbon. "
        "Tom is my brother. I'm originally from Porto. I study at the University of Michigan."
    )
    result = extract_entities(text, speaker="Jon")
    assert set(result.relations) == {
        Relation("Jon", "sister", "Anna"),
        Relation("Anna", "works_at", "Acme Inc"),
        Relation("Jon", "lives_in", "Lisbon"),
        Relation("Jon", "brother", "Tom"),
        Relation("Jon", "from", "Porto"),
        Relation("Jon", "studies_at", "University of Michigan"),
    }
    types = {m.name: m.type for m in result.mentions}
    assert types["Anna"] == "person"
    assert types["Tom"] == "person"
    assert types["Acme Inc"] == "organisation"
    assert types["Lisbon"] == "place"
    assert types["Porto"] == "place"
    assert types["University of Michigan"] == "organisation"


def test_relation_without_speaker_uses_i() -> None:
    result = extract_entities("I work for Google.")
    assert result.relations == (Relation("I", "works_at", "Google"),)
    assert result.mentions[0].type == "organisation"


def test_type_cues() -> None:
    found = by_name(
        'We met Dr. Smith near Lake Tahoe, joined an LGBTQ group and watched "Inception". '
        "Then Harry Potter movies with Bailey."
    )
    assert found["Smith"].type == "person"
    assert found["Lake Tahoe"].type == "place"
    assert found["LGBTQ"].type == "concept"
    assert found["Inception"].type == "concept"
    assert found["Harry Potter"].type == "concept"
    assert found["Bailey"].type == "concept"


def test_names_in_order_and_determinism() -> None:
    text = "Yesterday Anna met Bob in Paris. Bob loved Paris."
    first = extract_entities(text)
    assert first.names() == ["Anna", "Bob", "Paris"]
    # A lone unknown name opening the text is indistinguishable from a capitalised word.
    assert extract_entities("Anna met Bob.").names() == ["Bob"]
    assert extract_entities(text) == first
    assert extract_entities("") == extract_entities("   ")


def _locomo_dir() -> Path:
    env = os.environ.get("MNEMO_LOCOMO_DIR")
    return Path(env) if env else Path(__file__).parents[4] / "shared" / "bench-data" / "locomo"


def _turn_index(directory: Path) -> dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]]:
    index = {}
    for path in sorted(directory.glob("*.json")):
        conversation = json.loads(path.read_text())
        for key, value in conversation.items():
            if key.startswith("session_") and isinstance(value, list):
                for turn in value:
                    index[(path.stem, turn["dia_id"])] = (conversation, turn)
    return index


@pytest.mark.parametrize("split", ["dev", "test"])
def test_precision_and_recall_on_the_labelled_locomo_sample(split: str) -> None:
    directory = _locomo_dir()
    if not directory.is_dir():
        pytest.skip("LoCoMo development data not available")
    index = _turn_index(directory)
    tp = fp = fn = 0
    for row in json.loads(SAMPLE.read_text())[split]:
        conversation, turn = index[(row["conversation"], row["dia_id"])]
        people = [conversation["speaker_a"], conversation["speaker_b"]]
        found = extract_entities(turn["text"], speaker=turn["speaker"], known_people=people)
        predicted = {turn["text"][a:b].lower() for a, b in (m.span for m in found.mentions)}
        gold = {e["name"].lower() for e in row["entities"]}
        tp, fp, fn = (
            tp + len(predicted & gold),
            fp + len(predicted - gold),
            fn + len(gold - predicted),
        )
    assert tp / (tp + fp) >= 0.9
    assert tp / (tp + fn) >= 0.9
