"""``ContextRequest``: sections, kinds and shares are checked when the request is made."""

from __future__ import annotations

import math
from typing import Any

import pytest

from mnemo import ContextRequest, InvalidInput, MemoryType
from mnemo.orchestrator import DEFAULT_PRIORITIES, MAX_CONTEXT_TOKENS, SECTION_NAMES


def test_defaults_cover_every_section_with_the_seed_shares() -> None:
    request = ContextRequest("what now?", "alice")
    assert request.section_names == SECTION_NAMES and request.priorities is None
    assert request.shares == DEFAULT_PRIORITIES
    assert {k: request.shares[k] for k in ("recent_conversation", "summary", "entities",
                                           "vector_search", "working_memory")} == {
        "recent_conversation": 0.4, "summary": 0.2, "entities": 0.15, "vector_search": 0.15,
        "working_memory": 0.1,
    }  # fmt: skip


def test_partial_priorities_change_only_the_shares_they_name() -> None:
    request = ContextRequest("q", "alice", priorities={"vector_search": 2})
    assert request.priorities == {"vector_search": 2.0}
    assert request.shares == {**DEFAULT_PRIORITIES, "vector_search": 2.0}


def test_memory_types_stand_for_their_sections_in_rendering_order() -> None:
    request = ContextRequest(
        "q", "alice", sections=[MemoryType.VECTOR_DATABASE, "conversation_summary", "documents"]
    )
    assert request.sections == ("summary", "recent_conversation", "vector_search", "documents")
    assert MemoryType.KEY_VALUE_STORE.sections == ("instructions",)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"max_total_tokens": -5}, "max_tokens must be from 1"),
        ({"max_total_tokens": 0}, "max_tokens must be from 1"),
        ({"max_total_tokens": MAX_CONTEXT_TOKENS + 1}, "max_tokens must be from 1"),
        ({"max_total_tokens": 10**12}, "max_tokens must be from 1"),
        ({"max_total_tokens": True}, "must be an integer"),
        ({"max_total_tokens": 2.5}, "must be an integer"),
        ({"sections": ["memories!"]}, "unknown context section"),
        ({"sections": []}, "at least one"),
        ({"sections": 7}, "list of names"),
        ({"priorities": {"vector_search": "high"}}, "must be a number"),
        ({"priorities": {"vector_search": -0.1}}, "finite and >= 0"),
        ({"priorities": {"vector_search": math.nan}}, "finite and >= 0"),
        ({"priorities": {"vector_search": math.inf}}, "finite and >= 0"),
        ({"priorities": {"gossip": 0.5}}, "unknown section"),
        ({"priorities": [("summary", 1.0)]}, "must map section names"),
        ({"query": "   "}, "query must be a non-empty string"),
        ({"user_id": ""}, "user_id"),
        ({"session_id": "x" * 300}, "session_id"),
    ],
)
def test_bad_requests_raise_invalid_input(fields: dict[str, Any], message: str) -> None:
    values: dict[str, Any] = {"query": "what now?", "user_id": "alice", **fields}
    with pytest.raises(InvalidInput, match=message):
        ContextRequest(**values)
