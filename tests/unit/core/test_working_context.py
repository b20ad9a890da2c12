"""Packing working memory into a token budget — pure, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from mnemo.core.tokens import default_token_counter
from mnemo.core.working import ChainStep, WorkingItem, pack_working_context, step_line

NOW = datetime(2026, 1, 1, tzinfo=UTC)
COUNTER = default_token_counter()


def item(key: str, value: object, importance: float, age: int = 0) -> WorkingItem:
    at = NOW - timedelta(seconds=age)
    return WorkingItem(
        namespace="ns",
        key=key,
        value=value,
        importance=importance,
        user_id="u",
        agent_id=None,
        session_id=None,
        created_at=at,
        updated_at=at,
        last_accessed_at=at,
        expires_at=None,
        size_bytes=0,
    )


def step(position: int, text: str, result: object = None) -> ChainStep:
    return ChainStep(
        namespace="ns",
        position=position,
        step=text,
        result=result,
        importance=0.5,
        metadata={},
        created_at=NOW,
        expires_at=None,
    )


def test_everything_fits_in_a_large_budget() -> None:
    items = [item("goal", "ship it", 0.9), item("note", {"a": 1}, 0.2)]
    chain = [step(1, "plan"), step(2, "act", {"ok": True})]
    context = pack_working_context(items, chain, 1_000, COUNTER)
    assert context.text == (
        '## Working memory\n- goal: ship it\n- note: {"a": 1}\n\n'
        '## Reasoning chain\n1. plan\n2. act -> {"ok": true}'
    )
    assert context.tokens == COUNTER.count(context.text)
    assert (context.dropped_items, context.dropped_steps) == (0, 0)


def test_a_small_budget_keeps_important_items_and_latest_steps() -> None:
    items = [item(f"k{n}", "word " * 10, n / 10) for n in range(10)]
    chain = [step(n, f"step {n} " + "detail " * 5) for n in range(1, 11)]
    context = pack_working_context(items, chain, 80, COUNTER)
    assert context.tokens <= 80
    kept = [i.importance for i in context.items]
    assert kept == sorted(kept, reverse=True) and kept[0] == 0.9
    positions = [s.position for s in context.chain]
    assert positions == list(range(11 - len(positions), 11))  # a contiguous run of the latest


def test_nothing_to_pack_gives_an_empty_text() -> None:
    context = pack_working_context([], [], 50, COUNTER)
    assert (context.text, context.tokens, context.items, context.chain) == ("", 0, (), ())


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.text(min_size=1, max_size=40), st.floats(0, 1)), max_size=8),
    st.lists(st.text(min_size=1, max_size=60), max_size=8),
    st.integers(0, 120),
)
def test_the_budget_is_never_exceeded(
    raw_items: list[tuple[str, float]], raw_steps: list[str], budget: int
) -> None:
    items = [item(f"k{n}", text, weight) for n, (text, weight) in enumerate(raw_items)]
    chain = [step(n, text) for n, text in enumerate(raw_steps, start=1)]
    context = pack_working_context(items, chain, budget, COUNTER)
    assert COUNTER.count(context.text) <= budget
    assert [s.position for s in context.chain] == sorted(s.position for s in context.chain)
    for kept in context.chain:
        assert step_line(kept) in context.text
