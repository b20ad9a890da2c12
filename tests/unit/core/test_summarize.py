"""The offline progressive summariser: within the limit, attributed, deterministic."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mnemo.core.summarize import SummaryTurn, split_sentences, summarize_progressive
from mnemo.core.tokens import default_token_counter
from mnemo.errors import InvalidInput

TURNS = [
    SummaryTurn("Caroline", "Hey Mel! Good to see you! How have you been?", "8 May 2023"),
    SummaryTurn("Melanie", "Hey Caroline! I'm swamped with the kids & work.", "8 May 2023"),
    SummaryTurn(
        "Caroline",
        "I went to an LGBTQ support group yesterday and it was so powerful. "
        "The support group gave me courage.",
        "8 May 2023",
    ),
    SummaryTurn("Melanie", "Wow, that's cool!", "8 May 2023"),
    SummaryTurn(
        "Caroline",
        "I want to study counseling and work in mental health at the Riverside clinic.",
        "8 May 2023",
    ),
    SummaryTurn("Melanie", "I painted a lake sunrise last year. Painting helps me relax.", None),
]


def test_keeps_informative_sentences_with_speaker_and_date() -> None:
    summary = summarize_progressive("", TURNS, 60)
    lines = summary.splitlines()
    assert "[8 May 2023] Caroline: I went to an LGBTQ support group yesterday" in summary
    assert all(":" in line for line in lines)
    assert "Wow, that's cool!" not in summary
    assert "How have you been?" not in summary
    assert default_token_counter().count(summary) <= 60


def test_leading_filler_is_stripped() -> None:
    turns = [SummaryTurn("Jon", "Wow, yeah, I opened my dance studio in Boston in March.")]
    assert (
        summarize_progressive("", turns, 50) == "Jon: I opened my dance studio in Boston in March."
    )


def test_is_progressive_and_chronological() -> None:
    first = summarize_progressive("", TURNS[:3], 40)
    later = [
        SummaryTurn("Caroline", "My adoption interview with the agency is on Friday.", "9 May")
    ]
    second = summarize_progressive(first, later, 200)
    assert second.startswith(first)
    assert second.splitlines()[-1] == (
        "[9 May] Caroline: My adoption interview with the agency is on Friday."
    )


def test_old_lines_can_be_displaced_when_the_limit_is_tight() -> None:
    first = summarize_progressive("", TURNS, 200)
    second = summarize_progressive(first, TURNS[4:] * 1, 25)
    assert default_token_counter().count(second) <= 25
    assert second


def test_near_repeats_are_not_kept_twice() -> None:
    turns = [
        SummaryTurn("A", "I adopted a puppy named Max from the shelter."),
        SummaryTurn("A", "I adopted a puppy named Max from the shelter!"),
        SummaryTurn("B", "My brother Tom moved to Seattle for work."),
    ]
    summary = summarize_progressive("", turns, 200)
    assert summary.count("puppy named Max") == 1
    assert "Tom moved to Seattle" in summary


def test_previous_summary_in_free_form_is_kept_line_by_line() -> None:
    summary = summarize_progressive("Anna is a nurse in Leeds who loves climbing.", [], 100)
    assert summary == "Anna is a nurse in Leeds who loves climbing."


def test_edge_cases() -> None:
    assert summarize_progressive("", [], 100) == ""
    assert summarize_progressive("", TURNS, 0) == ""
    with pytest.raises(InvalidInput):
        summarize_progressive("", TURNS, -1)


def test_split_sentences() -> None:
    text = "I met Dr. Smith today! He works at St. Mary's. Really?\nYes. 3 times."
    assert split_sentences(text) == [
        "I met Dr. Smith today!",
        "He works at St. Mary's.",
        "Really?",
        "Yes.",
        "3 times.",
    ]


sentences = st.lists(
    st.sampled_from(
        [
            "I live in Paris.",
            "My sister Anna works at Google.",
            "We went hiking on Sunday!",
            "That's great?",
            "Painting relaxes me after work.",
            "ok",
        ]
    ),
    min_size=1,
    max_size=4,
).map(" ".join)
turns_strategy = st.lists(
    st.builds(SummaryTurn, st.sampled_from(["Ann", "Bob"]), sentences, st.none()), max_size=8
)


@settings(max_examples=60, deadline=None)
@given(turns_strategy, st.integers(min_value=0, max_value=80), st.text(max_size=80))
def test_never_over_the_limit_and_deterministic(
    turns: list[SummaryTurn], limit: int, previous: str
) -> None:
    counter = default_token_counter()
    summary = summarize_progressive(previous, turns, limit)
    assert counter.count(summary) <= limit
    assert summarize_progressive(previous, turns, limit) == summary
