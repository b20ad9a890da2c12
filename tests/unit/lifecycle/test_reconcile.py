"""Reconciliation decisions: rules offline, and how an LLM's reply is checked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mnemo.core.records import MemoryRecord
from mnemo.lifecycle.extraction.candidates import CandidateMemory
from mnemo.lifecycle.reconcile import Neighbour, RulesReconciler, decision_from_reply

WHEN = datetime(2024, 5, 7, tzinfo=UTC)


def record(memory_id: str, content: str, kind: str = "fact") -> MemoryRecord:
    return MemoryRecord(
        id=memory_id, user_id="alice", content=content, kind=kind, metadata={},
        created_at=WHEN, updated_at=WHEN, valid_from=WHEN,
    )  # fmt: skip


def candidate(content: str, kind: str = "fact") -> CandidateMemory:
    return CandidateMemory(kind=kind, content=content, source_turn_ids=("t1",))  # type: ignore[arg-type]


def decide(content: str, *neighbours: tuple[str, str, float], kind: str = "fact") -> object:
    found = [Neighbour(record(i, c, kind=k), s) for i, c, s, k in _with_kind(neighbours, kind)]
    return RulesReconciler().decide_sync(candidate(content, kind), found)


def _with_kind(
    neighbours: tuple[tuple[str, str, float], ...], kind: str
) -> list[tuple[str, str, float, str]]:
    return [(i, c, s, kind) for i, c, s in neighbours]


def test_nothing_similar_is_an_add() -> None:
    decision = RulesReconciler().decide_sync(candidate("Alice lives in Paris."), [])
    assert decision.action == "add"
    assert decision.reason == "no similar memory"


def test_a_duplicate_is_ignored_and_names_the_memory_it_repeats() -> None:
    decision = decide("Alice really enjoys hiking.", ("m1", "Alice loves hiking.", 0.986))
    assert decision.action == "ignore"
    assert decision.targets == ("m1",)
    assert "m1" in decision.reason


def test_a_new_value_supersedes_every_conflicting_memory() -> None:
    decision = decide(
        "Alice lives in Berlin.",
        ("m1", "Alice lives in Paris.", 0.92),
        ("m2", "Alice lives in Rome.", 0.91),
        ("m3", "Alice loves Paris.", 0.85),
    )
    assert decision.action == "supersede"
    assert set(decision.targets) == {"m1", "m2"}


def test_past_events_are_never_superseded() -> None:
    found = [Neighbour(record("e1", "Alice lives in Paris.", kind="event"), 0.95)]
    decision = RulesReconciler().decide_sync(candidate("Alice lives in Berlin."), found)
    assert decision.action == "add"


def test_more_detail_about_the_same_fact_updates_it() -> None:
    decision = decide("Alice has a dog named Max.", ("m1", "Alice has a dog.", 0.94))
    assert decision.action == "update"
    assert decision.targets == ("m1",)
    assert decision.content == "Alice has a dog named Max."


def test_refinement_stays_within_a_kind() -> None:
    found = [Neighbour(record("m1", "Alice has a dog.", kind="entity"), 0.94)]
    decision = RulesReconciler().decide_sync(candidate("Alice has a dog named Max."), found)
    assert decision.action == "add"


def test_a_near_miss_on_a_different_fact_is_an_add() -> None:
    decision = decide(
        "Alice prefers light roast coffee.",
        ("m1", "Alice likes dark roast coffee.", 0.97),
        kind="preference",
    )
    assert decision.action == "add"


LABELS = {
    "m1": Neighbour(record("11111111-1111-1111-1111-111111111111", "Alice lives in Paris."), 0.9),
    "m2": Neighbour(record("22222222-2222-2222-2222-222222222222", "Alice has a dog."), 0.85),
}


def test_an_llm_reply_is_mapped_from_labels_to_memory_ids() -> None:
    reply = {"decision": "supersede", "memory_ids": ["m1"], "content": "x", "reason": "moved"}
    decision, problem = decision_from_reply(reply, candidate("Alice lives in Berlin."), LABELS)
    assert problem == ""
    assert decision is not None
    assert decision.targets == ("11111111-1111-1111-1111-111111111111",)
    assert decision.content == "Alice lives in Berlin."  # supersede stores the candidate
    assert decision.reason == "moved"


def test_an_llm_update_keeps_its_merged_content() -> None:
    reply = {"decision": "update", "memory_ids": ["[m2]"], "content": "Alice has a dog, Max.",
             "reason": "name"}  # fmt: skip
    decision, _ = decision_from_reply(reply, candidate("Alice's dog is Max."), LABELS)
    assert decision is not None and decision.content == "Alice has a dog, Max."


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ({"decision": "merge", "memory_ids": [], "content": "", "reason": ""}, "unknown decision"),
        ({"decision": "update", "memory_ids": ["m9"], "content": "", "reason": ""}, "unknown"),
        ({"decision": "update", "memory_ids": ["m1", "m2"], "content": "", "reason": ""},
         "exactly one"),
        ({"decision": "supersede", "memory_ids": [], "content": "", "reason": ""}, "names no"),
        ("not an object", "unknown decision"),
    ],
)  # fmt: skip
def test_unusable_llm_replies_are_refused_with_the_reason(reply: object, problem: str) -> None:
    decision, why = decision_from_reply(reply, candidate("Alice lives in Berlin."), LABELS)
    assert decision is None
    assert problem in why
