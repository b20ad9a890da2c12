"""The context composer, fed directly (no database): never over budget, deduplicated
across sections, every candidate accounted for, rendered in reading order."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mnemo.core.budget import normalise_for_dedup
from mnemo.core.records import MemoryRecord
from mnemo.core.tokens import HeuristicCounter, TokenCounter, default_token_counter
from mnemo.orchestrator import (
    DEFAULT_PRIORITIES,
    SECTION_NAMES,
    Candidate,
    ContextEntry,
    Gathered,
    compose,
)

COUNTER = default_token_counter()
NOW = datetime(2026, 12, 2, tzinfo=UTC)
words = st.sampled_from(["alpha", "beta", "Anna", "Lisbon", "42", "ok", "über", "—", "🙂"])
word_texts = st.lists(words, min_size=1, max_size=25).map(" ".join)
any_texts = st.text(min_size=1, max_size=300)
texts = st.one_of(word_texts, any_texts, word_texts.map(lambda t: t + "\n" + t[::-1]))
shares = st.floats(min_value=0, max_value=10, allow_nan=False)


@st.composite
def gathered_sections(draw: st.DrawFn) -> list[Gathered]:
    names = draw(st.lists(st.sampled_from(SECTION_NAMES), unique=True, max_size=7))
    out = []
    for name in names:
        contents = draw(st.lists(texts, max_size=8))
        candidates = tuple(
            Candidate(ContextEntry(f"- {text}", "memory", text, f"{name}-{n}"),
                      position=draw(st.one_of(st.none(), st.floats(-5, 5))))
            for n, text in enumerate(contents)
        )  # fmt: skip
        out.append(Gathered(name, candidates))
    return out


def composed(
    gathered: Sequence[Gathered],
    max_tokens: int,
    counter: TokenCounter,
    priorities: Mapping[str, float] | None = None,
):  # type: ignore[no-untyped-def]
    weights = {**DEFAULT_PRIORITIES, **(priorities or {})}
    return compose(gathered, max_tokens=max_tokens, shares=weights, counter=counter)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    gathered=gathered_sections(),
    max_tokens=st.integers(min_value=1, max_value=400),
    priorities=st.dictionaries(st.sampled_from(SECTION_NAMES), shares),
)
def test_the_rendered_text_never_exceeds_the_budget(
    gathered: list[Gathered], max_tokens: int, priorities: dict[str, float]
) -> None:
    result = composed(gathered, max_tokens, COUNTER, priorities)
    assert COUNTER.count(result.text) == result.tokens <= max_tokens
    placed = [e for s in result.sections for e in s.entries]
    # every candidate is either placed or reported dropped, once
    assert len(placed) + len(result.dropped) == sum(len(g.candidates) for g in gathered)
    # one copy of any content across sections
    keys = [normalise_for_dedup(e.content) or e.text for e in placed]
    assert len(keys) == len(set(keys))
    for entry in placed:
        assert entry.text in result.text


@settings(max_examples=150, deadline=None)
@given(gathered=gathered_sections(), max_tokens=st.integers(min_value=1, max_value=300))
def test_the_budget_holds_for_another_counter(gathered: list[Gathered], max_tokens: int) -> None:
    counter = HeuristicCounter()
    result = composed(gathered, max_tokens, counter)
    assert counter.count(result.text) == result.tokens <= max_tokens


def entry(text: str, source: str = "memory", ref: str | None = None) -> ContextEntry:
    return ContextEntry(f"- {text}", source, text, ref or text)


def test_sections_render_in_reading_order_with_headings() -> None:
    gathered = [
        Gathered("vector_search", (Candidate(entry("likes tea")),)),
        Gathered("instructions", (Candidate(entry("answer in French", "setting")),)),
        Gathered("summary", (Candidate(ContextEntry("Alice moved", "summary", "Alice moved")),)),
    ]
    result = composed(gathered, 500, COUNTER)
    assert result.text == (
        "## Instructions and settings\n- answer in French\n\n"
        "## Summary of earlier conversation\nAlice moved\n\n"
        "## Relevant memories\n- likes tea"
    )
    assert [s.name for s in result.sections] == ["instructions", "summary", "vector_search"]


def test_turns_are_budgeted_newest_first_but_rendered_oldest_first() -> None:
    turns = [(n, f"turn number {n} " + "words " * 20) for n in range(1, 11)]
    candidates = tuple(
        Candidate(ContextEntry(f"user: {text}", "message", text, str(n)), position=n)
        for n, text in reversed(turns)
    )
    result = composed([Gathered("recent_conversation", candidates)], 120, COUNTER)
    kept = [int(e.ref or 0) for e in result.sections[0].entries]
    assert kept == sorted(kept) and kept[-1] == 10 and len(kept) < 10
    assert kept == list(range(kept[0], 11))  # a contiguous run of the newest turns
    assert {d.reason for d in result.dropped} == {"budget"}


def test_a_memory_repeating_a_turn_is_kept_once_in_the_conversation() -> None:
    turn = ContextEntry("user: I prefer window seats!", "message", "I prefer window seats!", "t1")
    gathered = [
        Gathered("vector_search", (Candidate(entry("i prefer WINDOW seats", ref="m1")),)),
        Gathered("recent_conversation", (Candidate(turn),)),
    ]
    result = composed(gathered, 500, COUNTER)
    assert result.text.count("window seats") == 1
    memories = next(s for s in result.sections if s.name == "vector_search")
    assert memories.entries == () and memories.dropped_duplicates == 1
    assert [(d.ref, d.reason, d.kept_in) for d in result.dropped] == [
        ("m1", "duplicate", "recent_conversation")
    ]


def test_priorities_move_the_budget_between_sections() -> None:
    many = tuple(Candidate(entry(f"memory {n} " + "filler " * 10)) for n in range(30))
    facts = tuple(Candidate(entry(f"entity {n} " + "detail " * 10, "entity")) for n in range(30))
    gathered = [Gathered("vector_search", many), Gathered("entities", facts)]
    even = composed(gathered, 300, COUNTER)
    tilted = composed(gathered, 300, COUNTER, {"vector_search": 0.9, "entities": 0.1})
    tokens = {r: {s.name: s.tokens for s in res.sections} for r, res in
              (("even", even), ("tilted", tilted))}  # fmt: skip
    assert tokens["tilted"]["vector_search"] > tokens["even"]["vector_search"]
    assert tokens["tilted"]["entities"] < tokens["even"]["entities"]
    tilted_share = next(s.share for s in tilted.sections if s.name == "vector_search")
    assert math.isclose(tilted_share, 0.9)


def test_failed_and_empty_sections_are_reported_not_rendered() -> None:
    gathered = [
        Gathered("vector_search", status="timeout", error="no answer within 2 s"),
        Gathered("entities", status="failed", error="EmbeddingError: down"),
        Gathered("summary"),
        Gathered("instructions", (Candidate(entry("be brief", "setting")),)),
    ]
    result = composed(gathered, 100, COUNTER)
    status = {s.name: (s.status, s.error) for s in result.sections}
    assert status == {
        "instructions": ("ok", None),
        "summary": ("empty", None),
        "vector_search": ("timeout", "no answer within 2 s"),
        "entities": ("failed", "EmbeddingError: down"),
    }
    assert result.text == "## Instructions and settings\n- be brief"


def test_a_long_passage_is_cut_to_fit_where_truncation_is_allowed() -> None:
    passage = "[Guide]\n" + "Trams climb the hills of Lisbon every day. " * 80
    chunk = ContextEntry(passage, "chunk", passage, "c1")
    result = composed([Gathered("documents", (Candidate(chunk),))], 60, COUNTER)
    (kept,) = result.sections[0].entries
    assert kept.truncated and kept.text != passage and passage.startswith(kept.text)
    assert result.tokens <= 60


@pytest.mark.parametrize("max_tokens", [1, 2, 5])
def test_a_tiny_budget_gives_an_empty_context(max_tokens: int) -> None:
    result = composed([Gathered("vector_search", (Candidate(entry("x " * 50)),))], max_tokens,
                      COUNTER)  # fmt: skip
    assert result.text == "" and result.tokens == 0
    assert [d.reason for d in result.dropped] == ["budget"]


def _memory(content: str, ref: str, sources: list[str]) -> Candidate:
    record = MemoryRecord(
        id=ref, user_id="u", content=content, kind="preference", metadata={},
        created_at=NOW, updated_at=NOW, source_message_ids=sources,
    )  # fmt: skip
    return Candidate(ContextEntry(f"- {content}", "memory", content, ref, record=record))


def _past_turn(content: str, ref: str) -> Candidate:
    text = f"[2026-12-01, session monday] user: {content}"
    return Candidate(ContextEntry(text, "past_turn", content, ref))


def test_a_memory_whose_turns_are_all_shown_is_left_to_them() -> None:
    gathered = [
        Gathered(
            "vector_search",
            (
                _memory("The user loves espresso.", "m1", ["t1"]),
                _memory("The user lives in Lisbon near the river.", "m2", ["t1", "t9"]),
                _memory("The user is a nurse in Porto.", "m3", []),
            ),
        ),
        Gathered(
            "past_turns",
            (
                _past_turn("I love espresso and live in Lisbon", "t1"),
                _past_turn("We moved here two years ago", "t2"),
            ),
        ),
    ]
    result = composed(gathered, 500, COUNTER)
    memories = next(s for s in result.sections if s.name == "vector_search")
    # m1 came from t1 alone, which is shown verbatim; m2 also from t9, which is not.
    assert [e.ref for e in memories.entries] == ["m2", "m3"]
    assert memories.dropped_duplicates == 1 and memories.found == 3
    assert [(d.ref, d.reason, d.kept_in) for d in result.dropped] == [
        ("m1", "duplicate", "past_turns")
    ]
    assert "session monday] user: I love espresso and live in Lisbon" in result.text
    assert "The user loves espresso." not in result.text
    assert "## Relevant memories\n- The user lives in Lisbon" in result.text
    assert result.text.index("## Relevant memories") < result.text.index("## Relevant past turns")


def test_a_memory_stays_when_its_turn_does_not_fit() -> None:
    long_turn = "I love espresso " + "and many other things besides " * 40
    gathered = [
        Gathered("vector_search", (_memory("The user loves espresso.", "m1", ["t1"]),)),
        Gathered("past_turns", (_past_turn(long_turn, "t1"),)),
    ]
    result = composed(gathered, 60, COUNTER, {"past_turns": 0.5, "vector_search": 0.5})
    assert "The user loves espresso." in result.text
    assert "many other things" not in result.text


def test_a_memory_from_a_recent_turn_is_left_to_the_conversation() -> None:
    turn = ContextEntry("user: I love espresso", "message", "I love espresso", "t1")
    gathered = [
        Gathered("vector_search", (_memory("The user loves espresso.", "m1", ["t1"]),)),
        Gathered("recent_conversation", (Candidate(turn),)),
    ]
    result = composed(gathered, 500, COUNTER)
    assert "The user loves espresso." not in result.text
    assert [(d.ref, d.kept_in) for d in result.dropped] == [("m1", "recent_conversation")]
