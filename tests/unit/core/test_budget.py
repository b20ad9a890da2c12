"""Token budgeting: never over budget, priorities kept, no duplicates, deterministic."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mnemo.core.budget import (
    DEFAULT_SECTIONS,
    ContextItem,
    SectionSpec,
    allocate_budget,
    normalise_for_dedup,
)
from mnemo.core.tokens import HeuristicCounter, TokenCounter, default_token_counter
from mnemo.errors import InvalidInput

_UNIT = re.compile(r"\S+|\n")


class WordCounter:
    """An additive counter: every word and every line break is one token."""

    name = "words"

    def count(self, text: str) -> int:
        return len(_UNIT.findall(text))

    def truncate(self, text: str, max_tokens: int) -> str:
        if max_tokens <= 0:
            return ""
        units = list(_UNIT.finditer(text))
        return text if len(units) <= max_tokens else text[: units[max_tokens - 1].end()]


WORDS = WordCounter()
SECTION_NAMES = sorted(DEFAULT_SECTIONS)

words = st.sampled_from(["alpha", "beta", "gamma", "delta", "Anna", "Paris", "42", "x"])
texts = st.lists(words, min_size=1, max_size=12).map(" ".join)
unicode_texts = st.text(min_size=0, max_size=60)
sections_strategy = st.dictionaries(
    st.sampled_from(SECTION_NAMES), st.lists(texts, max_size=8), max_size=len(SECTION_NAMES)
)
unicode_sections = st.dictionaries(
    st.sampled_from(SECTION_NAMES), st.lists(unicode_texts, max_size=6), max_size=4
)


def rendered_items(result_sections: Sequence[object]) -> list[str]:
    return [item.text for s in result_sections for item in s.items]  # type: ignore[attr-defined]


def demand(items: Sequence[str], counter: TokenCounter) -> int:
    """Upper cost of a section holding all its items: header, separators, items."""
    header = counter.count(f"## {DEFAULT_SECTIONS['summary'].title}") + 6
    return header + sum(counter.count(t) + 1 for t in items)


@settings(max_examples=300, deadline=None)
@given(sections_strategy, st.integers(min_value=0, max_value=120), st.booleans())
def test_budget_is_never_exceeded(
    sections: Mapping[str, list[str]], max_tokens: int, truncate: bool
) -> None:
    for counter in (WORDS, HeuristicCounter()):
        result = allocate_budget(sections, max_tokens, counter, allow_truncation=truncate)
        assert counter.count(result.render()) == result.total_tokens <= max_tokens


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unicode_sections, st.integers(min_value=0, max_value=60), st.booleans())
def test_budget_is_never_exceeded_with_real_tokenizer(
    sections: Mapping[str, list[str]], max_tokens: int, truncate: bool
) -> None:
    counter = default_token_counter()
    result = allocate_budget(sections, max_tokens, counter, allow_truncation=truncate)
    assert counter.count(result.render()) == result.total_tokens <= max_tokens


@settings(max_examples=300, deadline=None)
@given(sections_strategy, st.integers(min_value=0, max_value=200), st.booleans())
def test_no_text_appears_twice(
    sections: Mapping[str, list[str]], max_tokens: int, truncate: bool
) -> None:
    result = allocate_budget(sections, max_tokens, WORDS, allow_truncation=truncate)
    keys = [normalise_for_dedup(t) for t in rendered_items(result.sections)]
    assert len(keys) == len(set(keys))


@settings(max_examples=200, deadline=None)
@given(sections_strategy, st.integers(min_value=0, max_value=200), st.booleans())
def test_deterministic(sections: Mapping[str, list[str]], max_tokens: int, truncate: bool) -> None:
    first = allocate_budget(sections, max_tokens, WORDS, allow_truncation=truncate)
    again = allocate_budget(dict(sections), max_tokens, WORDS, allow_truncation=truncate)
    assert first == again


@settings(max_examples=300, deadline=None)
@given(sections_strategy, st.integers(min_value=0, max_value=200))
def test_a_section_within_its_share_keeps_everything(
    sections: Mapping[str, list[str]], max_tokens: int
) -> None:
    """Priorities: no section loses an item it could pay for from its own share."""
    result = allocate_budget(sections, max_tokens, WORDS)
    for section in result.sections:
        unique = list(dict.fromkeys(normalise_for_dedup(t) for t in sections[section.name]))
        if demand(unique, WORDS) <= section.quota:
            assert section.dropped_for_budget == 0
            assert len(section.items) + section.dropped_duplicates == len(sections[section.name])


@settings(max_examples=200, deadline=None)
@given(sections_strategy)
def test_everything_fits_when_budget_is_ample(sections: Mapping[str, list[str]]) -> None:
    result = allocate_budget(sections, 10_000, WORDS)
    assert all(s.dropped_for_budget == 0 for s in result.sections)


@settings(max_examples=200, deadline=None)
@given(sections_strategy, st.integers(min_value=0, max_value=200))
def test_duplicates_stay_in_the_higher_priority_section(
    sections: Mapping[str, list[str]], max_tokens: int
) -> None:
    result = allocate_budget(sections, 10_000, WORDS)
    owner: dict[str, int] = {}
    for section in result.sections:
        for item in section.items:
            owner.setdefault(normalise_for_dedup(item.text), section.spec.priority)
    for name, items in sections.items():
        for text in items:
            assert owner[normalise_for_dedup(text)] <= DEFAULT_SECTIONS[name].priority


def test_shares_split_the_budget_by_renormalised_priority() -> None:
    items = [f"turn {i} alpha beta" for i in range(50)]
    memories = [f"memory {i} gamma delta" for i in range(50)]
    result = allocate_budget({"recent_conversation": items, "vector_search": memories}, 110, WORDS)
    recent, vector = result.sections
    assert recent.quota == int(110 * 0.4 / 0.55)
    assert vector.quota == int(110 * 0.15 / 0.55)
    assert recent.tokens > 2 * vector.tokens
    assert result.total_tokens <= 110


def test_unused_share_goes_to_sections_with_items_left_in_priority_order() -> None:
    result = allocate_budget(
        {
            "summary": ["short summary"],
            "entities": [f"entity {i} is a person" for i in range(30)],
            "documents": [f"doc {i} text here" for i in range(30)],
        },
        100,
        WORDS,
    )
    summary, entities, documents = result.sections
    assert summary.items
    assert summary.tokens < summary.quota
    # Entities (priority before documents) took the summary's unused share.
    assert entities.tokens > entities.quota
    assert documents.tokens <= documents.quota + 5
    assert result.total_tokens <= 100


def test_exact_and_near_duplicates_are_kept_once_in_the_higher_priority_section() -> None:
    result = allocate_budget(
        {
            "vector_search": ["Anna lives in Paris.", "Bob likes tea"],
            "recent_conversation": ["anna  lives in PARIS", "hello"],
        },
        1000,
        WORDS,
    )
    recent = result.section("recent_conversation")
    vector = result.section("vector_search")
    assert recent is not None
    assert vector is not None
    assert [i.text for i in recent.items] == ["anna  lives in PARIS", "hello"]
    assert [i.text for i in vector.items] == ["Bob likes tea"]
    assert vector.dropped_duplicates == 1


def test_a_duplicate_the_higher_section_could_not_fit_is_kept_lower() -> None:
    long_turn = "alpha " * 40 + "unique ending"
    result = allocate_budget(
        {"recent_conversation": ["recent turn", long_turn], "vector_search": [long_turn]},
        70,
        WORDS,
    )
    texts = [i.text for s in result.sections for i in s.items]
    assert texts.count(long_turn) <= 1


def test_items_are_not_split_unless_truncation_is_allowed() -> None:
    long_item = " ".join(f"w{i}" for i in range(100))
    whole = allocate_budget({"documents": [long_item]}, 50, WORDS)
    assert whole.render() == ""
    assert whole.sections[0].dropped_for_budget == 1
    cut = allocate_budget({"documents": [long_item]}, 50, WORDS, allow_truncation=True)
    (section,) = cut.sections
    assert section.truncated
    assert long_item.startswith(section.items[0].text)
    assert 40 <= cut.total_tokens <= 50


def test_contiguous_section_stops_at_first_misfit_other_sections_skip() -> None:
    big = " ".join(["big"] * 60)
    items = ["first one", big, "third one"]
    for name, expected in [
        ("recent_conversation", ["first one"]),
        ("vector_search", ["first one", "third one"]),
    ]:
        result = allocate_budget({name: items}, 30, WORDS)
        assert [i.text for i in result.sections[0].items] == expected


def test_render_has_headers_and_items_in_priority_order() -> None:
    result = allocate_budget(
        {"vector_search": ["Anna likes tea."], "instructions": ["Answer briefly."]},
        100,
        WORDS,
    )
    assert result.render() == (
        "## Instructions and settings\nAnswer briefly.\n\n## Relevant memories\nAnna likes tea."
    )


def test_given_token_counts_are_trusted_but_rendering_is_verified() -> None:
    lying = [ContextItem("one two three four five six seven eight", tokens=1, ref="m1")]
    result = allocate_budget({"vector_search": lying}, 5, WORDS)
    assert result.total_tokens <= 5
    ok = allocate_budget({"vector_search": lying}, 100, WORDS)
    assert ok.sections[0].items[0].ref == "m1"


def test_custom_specs_and_errors() -> None:
    specs = {"a": SectionSpec("a", 1.0, 0, "A"), "b": SectionSpec("b", 0.0, 1)}
    result = allocate_budget({"a": ["x y"], "b": ["z"]}, 20, WORDS, specs=specs)
    assert result.render() == "## A\nx y\n\nz"
    with pytest.raises(InvalidInput):
        allocate_budget({"nope": ["x"]}, 10, WORDS)
    with pytest.raises(InvalidInput):
        allocate_budget({}, -1, WORDS)
    with pytest.raises(InvalidInput):
        SectionSpec("bad", float("nan"), 0)


def test_zero_budget_and_empty_input() -> None:
    assert allocate_budget({"summary": ["x"]}, 0, WORDS).render() == ""
    assert allocate_budget({}, 100, WORDS).total_tokens == 0
