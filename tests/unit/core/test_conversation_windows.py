"""Pure parts of the conversation kinds: turn numbering, cursors, windows within a token
budget, policies, and how dependency checks add up."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mnemo.core.messages import MessageRecord
from mnemo.core.records import Scope
from mnemo.core.tokens import HeuristicCounter
from mnemo.errors import InvalidInput
from mnemo.health import DependencyHealth, overall_status
from mnemo.kinds.buffer import BufferPolicy, fit_newest, truncate_turn
from mnemo.kinds.messages import decode_cursor, encode_cursor
from mnemo.kinds.summary import SummaryPolicy

COUNTER = HeuristicCounter(4.0)


def record(turn: int, tokens: int, content: str = "word " * 10) -> MessageRecord:
    return MessageRecord(
        id=f"0190b1f4-0000-7000-8000-{turn:012d}",
        user_id="u",
        session_id="s",
        turn_number=turn,
        role="user",
        content=content,
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
        token_count=tokens,
    )


def test_cursors_round_trip_and_refuse_other_listings() -> None:
    session = Scope("t", "u", session_id="s")
    cursor = encode_cursor(record(7, 1), session, newest_first=True)
    assert decode_cursor(cursor, session, newest_first=True).turn == 7
    with pytest.raises(InvalidInput, match="another listing"):
        decode_cursor(cursor, session, newest_first=False)
    with pytest.raises(InvalidInput, match="another listing"):
        decode_cursor(cursor, Scope("t", "u", session_id="other"), newest_first=True)
    everywhere = Scope("t", "u")
    keyset = decode_cursor(encode_cursor(record(2, 1), everywhere, False), everywhere, False)
    assert keyset.id == "0190b1f4-0000-7000-8000-000000000002"
    assert keyset.created_at == datetime(2024, 1, 1, tzinfo=UTC)
    for junk in ("", "%%%", 42, "eyJzIjogbnVsbH0"):
        with pytest.raises(InvalidInput):
            decode_cursor(junk, everywhere, False)


@given(
    st.lists(st.integers(min_value=1, max_value=50), max_size=30),
    st.integers(min_value=1, max_value=200),
)
def test_the_newest_turns_that_fit_are_kept_and_never_exceed_the_budget(
    sizes: list[int], budget: int
) -> None:
    records = [record(i + 1, size) for i, size in enumerate(sizes)]
    kept, truncated = fit_newest(records, budget, COUNTER)
    assert sum(r.token_count for r in kept) <= budget
    if not records:
        assert kept == []
        return
    assert kept[-1].turn_number == records[-1].turn_number  # the newest is always there
    if truncated:
        assert len(kept) == 1 and records[-1].token_count > budget
    else:
        assert [r.turn_number for r in kept] == [r.turn_number for r in records[-len(kept) :]]
        before = records[-len(kept) - 1] if len(kept) < len(records) else None
        assert before is None or sum(r.token_count for r in kept) + before.token_count > budget


def test_a_cut_turn_keeps_its_beginning_and_says_so() -> None:
    cut = truncate_turn(record(1, 100, content="alpha beta gamma delta " * 10), 3, COUNTER)
    assert "alpha beta gamma delta".startswith(cut.content.strip()) or cut.content.startswith(
        "alpha"
    )
    assert cut.token_count <= 3 and cut.metadata == {"truncated": True}


def test_policies_check_their_numbers() -> None:
    assert BufferPolicy("time", 0.5).window_size == 0.5
    with pytest.raises(InvalidInput):
        BufferPolicy("turns", 10**10)
    assert SummaryPolicy(max_total_tokens=1000, summary_context_weight=0.25).summary_budget() == 250
    assert SummaryPolicy(summary_context_weight=0).summary_budget(100) == 0
    with pytest.raises(InvalidInput):
        SummaryPolicy(fold_batch=0)


def test_the_overall_status_follows_the_dependencies_that_matter() -> None:
    def deps(**statuses: str) -> dict[str, DependencyHealth]:
        base = {"postgresql": "ok", "cache": "ok", "embedder": "ok", "llm": "disabled"}
        return {name: DependencyHealth(s, None, "") for name, s in {**base, **statuses}.items()}  # type: ignore[arg-type]

    assert overall_status(deps()) == "healthy"
    assert overall_status(deps(llm="unchecked")) == "healthy"
    assert overall_status(deps(cache="down")) == "degraded"
    assert overall_status(deps(llm="down")) == "degraded"
    assert overall_status(deps(postgresql="down", cache="down")) == "unhealthy"
    assert overall_status(deps(embedder="down")) == "unhealthy"
