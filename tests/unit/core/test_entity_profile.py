"""Pure entity-profile rules: merge keys, types, running descriptions, importance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mnemo.core.entity_profile import (
    canonical_key,
    entity_importance,
    merge_description,
    merge_type,
    normalise_entity_type,
    sentence_informativeness,
    split_sentences,
)
from mnemo.errors import InvalidInput

NOW = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "key"),
    [("Anna", "anna"), ("  ANNA   Lopez ", "anna lopez"), ("Anna's", "anna"), ("“Dune”.", "dune")],
)
def test_canonical_key(name: str, key: str) -> None:
    assert canonical_key(name) == key


def test_types_and_synonyms() -> None:
    assert normalise_entity_type("Organization") == "organisation"
    assert normalise_entity_type("location") == "place"
    with pytest.raises(InvalidInput, match="spaceship"):
        normalise_entity_type("spaceship")
    assert merge_type("concept", "person") == "person"
    assert merge_type("place", "concept") == "place"
    assert merge_type("place", "person") == "place"


def test_informativeness_prefers_specific_statements() -> None:
    telling = sentence_informativeness("Anna moved to Porto in 2021 with her dog Max.")
    greeting = sentence_informativeness("Thanks, Anna!")
    question = sentence_informativeness("Did Anna move to Porto in 2021?")
    assert telling > question > greeting


def test_running_description_keeps_informative_sentences_in_order_within_cap() -> None:
    current = "Anna likes green tea. Anna likes green tea!"
    described = merge_description(
        current,
        ["Thanks, Anna!", "Anna moved to Porto in 2021 with her dog Max.", "Anna is a chemist."],
        max_chars=90,
    )
    assert described == "Anna likes green tea. Anna moved to Porto in 2021 with her dog Max."
    assert merge_description(described, [], max_chars=90) == described


@given(
    st.lists(st.text(alphabet="abcdefgh ABCD.!?0123", min_size=0, max_size=60), max_size=8),
    st.integers(min_value=40, max_value=400),
)
def test_description_never_exceeds_the_cap_and_only_uses_given_sentences(
    texts: list[str], cap: int
) -> None:
    described = merge_description("", texts, max_chars=cap)
    assert len(described) <= cap
    given_sentences = {s.rstrip(".") for t in texts for s in split_sentences(t)}
    assert all(s.rstrip(".") in given_sentences for s in split_sentences(described))
    assert merge_description(described, [], max_chars=cap) == described


def test_importance_grows_with_mentions_and_fades_with_time() -> None:
    fresh_once = entity_importance(1, NOW, NOW)
    fresh_often = entity_importance(20, NOW, NOW)
    old_often = entity_importance(20, NOW - timedelta(days=60), NOW)
    assert 0 < fresh_once < fresh_often <= 1
    assert old_often == pytest.approx(fresh_often - 0.4 * 0.75, abs=1e-6)
    assert entity_importance(0, NOW + timedelta(days=1), NOW) == pytest.approx(0.4)
