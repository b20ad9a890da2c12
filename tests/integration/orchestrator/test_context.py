"""``AsyncMemory.context`` over a real PostgreSQL: every kind gathered, deduplicated,
within budget; failing and slow sections degrade; bad input raises and changes nothing."""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections.abc import Sequence
from typing import Any

import pytest

from mnemo import AsyncMemory, ContextResult, InvalidInput, MemoryType, MnemoConfig
from mnemo.core.tokens import default_token_counter
from mnemo.errors import EmbeddingError
from mnemo.orchestrator import SECTION_NAMES
from mnemo.providers.embedders.base import Embedder, InputType, Vectors
from tests.integration.orchestrator.conftest import SESSION, USER

COUNTER = default_token_counter()
QUESTION = "Which tram should Anna take in Lisbon?"


def names(result: ContextResult) -> list[str]:
    return [section.name for section in result.sections]


def headings(text: str) -> list[str]:
    return re.findall(r"^## (.+)$", text, flags=re.MULTILINE)


async def test_every_section_is_gathered_deduplicated_and_within_budget(
    filled: AsyncMemory,
) -> None:
    result = await filled.context(QUESTION, user_id=USER, session_id=SESSION, max_tokens=2000)
    assert names(result) == list(SECTION_NAMES)
    assert {s.name: s.status for s in result.sections} == dict.fromkeys(SECTION_NAMES, "ok")
    assert all(section.entries for section in result.sections)
    assert result.tokens == COUNTER.count(result.text) <= 2000 and not result.degraded
    assert headings(result.text) == [s.title for s in result.sections]
    text = result.text
    assert "- language: Portuguese" in text and "English" not in text  # the session's wins
    assert "- (instruction, " in text and "kilometres" in text
    assert "user: Anna loves old trams, by the way.\nassistant: Then tram 28 is a must." in text
    assert re.search(r"- \(fact, \d{4}-\d{2}-\d{2}\) Alice is allergic to peanuts", text)
    assert "- Anna (person" in text and "Alice --sister--> Anna" in text
    assert '- budget: {"eur": 1200}' in text and 'step 1: compare flights -> {"cheapest"' in text
    assert "[Lisbon guide > Trams]\nTram 28 runs from Martim Moniz" in text
    assert re.search(
        r"^\[\d{4}-\d{2}-\d{2}, session spring\] user: Anna and I rode tram 28 up to the castle",
        text,
        flags=re.MULTILINE,
    )
    assert "session trip]" not in text  # the current session's turns are recent conversation
    summary = result.section("summary")
    assert summary is not None and summary.info["summarized_through_turn"] >= 1
    # A memory repeating a turn stays in the conversation, once.
    assert text.count("I prefer window seats on long flights.") == 1
    repeat = [d for d in result.dropped if d.content == "I prefer window seats on long flights."]
    assert sorted((d.section, d.reason, d.kept_in) for d in repeat) == [
        ("summary", "duplicate", "recent_conversation"),  # a summary line quoting the turn
        ("vector_search", "duplicate", "recent_conversation"),
    ]
    assert set(result.timings_ms) >= {*SECTION_NAMES, "embed_query", "compose", "total"}
    json.dumps(result.as_dict())  # JSON-ready
    memories = result.section("vector_search")
    assert memories is not None and memories.found_records[0].score > 0


@pytest.mark.parametrize("max_tokens", [1, 15, 60, 150, 400])
async def test_small_budgets_are_never_exceeded(filled: AsyncMemory, max_tokens: int) -> None:
    result = await filled.context(QUESTION, user_id=USER, session_id=SESSION,
                                  max_tokens=max_tokens)  # fmt: skip
    assert result.tokens == COUNTER.count(result.text) <= max_tokens
    assert sum(s.tokens for s in result.sections) <= max_tokens + 2 * len(result.sections)
    assert any(d.reason == "budget" for d in result.dropped)
    for section in result.sections:
        placed = len(section.entries) + section.dropped_for_budget + section.dropped_duplicates
        assert placed == section.found


async def test_priorities_change_the_shares(filled: AsyncMemory) -> None:
    default = await filled.context(QUESTION, user_id=USER, session_id=SESSION, max_tokens=250)
    tilted = await filled.context(
        QUESTION, user_id=USER, session_id=SESSION, max_tokens=250,
        priorities={"vector_search": 3.0, "recent_conversation": 0.05},
    )  # fmt: skip

    def measure(result: ContextResult, name: str) -> tuple[int, int]:
        section = result.section(name)
        assert section is not None
        return section.tokens, section.quota

    assert measure(tilted, "vector_search") > measure(default, "vector_search")
    # Its quota shrinks; what other sections leave unused may still come back to it.
    assert measure(tilted, "recent_conversation")[1] < measure(default, "recent_conversation")[1]
    shares = {s.name: s.share for s in tilted.sections}
    assert math.isclose(sum(shares.values()), 1.0)
    assert shares["vector_search"] > 0.7


async def test_sections_limit_what_is_gathered(filled: AsyncMemory) -> None:
    result = await filled.context(
        QUESTION, user_id=USER, session_id=SESSION,
        sections=["vector_search", MemoryType.KEY_VALUE_STORE],
    )  # fmt: skip
    assert names(result) == ["instructions", "vector_search"]
    assert headings(result.text) == ["Instructions and settings", "Relevant memories"]
    assert "embed_query" in result.timings_ms
    no_search = await filled.context(QUESTION, user_id=USER, sections=["working_memory"])
    assert "embed_query" not in no_search.timings_ms


async def test_sequential_gathering_composes_the_same_context(filled: AsyncMemory) -> None:
    together = await filled.context(QUESTION, user_id=USER, session_id=SESSION)
    one_by_one = await filled.context(QUESTION, user_id=USER, session_id=SESSION, parallel=False)
    assert one_by_one.text == together.text


async def test_scope_another_session_and_an_unknown_user(filled: AsyncMemory) -> None:
    other = await filled.context(QUESTION, user_id=USER, session_id="another-session")
    status = {s.name: s.status for s in other.sections}
    assert status["recent_conversation"] == "empty" and status["summary"] == "empty"
    assert status["working_memory"] == "empty"  # working items belong to the trip session
    assert "- language: English" in other.text  # the user's own setting applies here
    assert "Alice is allergic to peanuts" in other.text  # memories span sessions
    nobody = await filled.context(QUESTION, user_id="nobody")
    assert nobody.text == "" and nobody.tokens == 0 and not nobody.degraded
    assert {s.status for s in nobody.sections} == {"empty"}


class QueryTrouble(Embedder):
    """The test embedder, except that queries fail or take ``delay`` seconds."""

    def __init__(self, inner: Embedder, *, fail: bool = False, delay: float = 0.0) -> None:
        self.inner, self.fail, self.delay = inner, fail, delay
        self.model_id, self.dimension = inner.model_id, inner.dimension

    async def embed_batch(self, texts: Sequence[str], input_type: InputType) -> Vectors:
        if input_type == "query":
            if self.fail:
                raise EmbeddingError("the query embedder is down")
            await asyncio.sleep(self.delay)
        return await self.inner.embed_batch(texts, input_type)


async def troubled(shared_url: str, embedder: Embedder, **trouble: Any) -> AsyncMemory:
    config = MnemoConfig(database_url=shared_url, embedder=QueryTrouble(embedder, **trouble))
    return await AsyncMemory(config).open()


SEARCHING = ("vector_search", "past_turns", "entities", "documents")


async def test_a_failing_embedder_degrades_only_the_sections_that_search(
    filled: AsyncMemory, shared_url: str, embedder: Embedder
) -> None:
    async with await troubled(shared_url, embedder, fail=True) as memory:
        result = await memory.context("Is there a tram ticket price?", user_id=USER,
                                      session_id=SESSION)  # fmt: skip
    assert result.degraded
    for section in result.sections:
        if section.name in SEARCHING:
            assert section.status == "failed" and section.entries == ()
            assert section.error == "EmbeddingError: the query embedder is down"
        else:
            assert section.status == "ok" and section.entries
    assert set(result.errors) == set(SEARCHING)
    assert "## Recent conversation" in result.text and "## Relevant memories" not in result.text


async def test_a_slow_section_times_out_without_sinking_the_context(
    filled: AsyncMemory, shared_url: str, embedder: Embedder
) -> None:
    async with await troubled(shared_url, embedder, delay=5.0) as memory:
        start = time.perf_counter()
        result = await memory.context("How long is the stay in Lisbon?", user_id=USER,
                                      session_id=SESSION, section_timeout=1.0)  # fmt: skip
        elapsed = time.perf_counter() - start
    assert elapsed < 3.0  # the 5 s embedding was not waited for
    status = {s.name: s.status for s in result.sections}
    assert [name for name, state in status.items() if state == "timeout"] == list(SEARCHING)
    assert result.errors["vector_search"] == "no answer within 1 s"
    assert "Then tram 28 is a must." in result.text


BAD_CALLS: list[tuple[dict[str, Any], str]] = [
    ({"max_tokens": -1}, "max_tokens must be from 1"),
    ({"max_tokens": 10**9}, "max_tokens must be from 1"),
    ({"max_tokens": "2000"}, "max_tokens must be an integer"),
    ({"sections": ["vector_search", "horoscope"]}, "unknown context section 'horoscope'"),
    ({"priorities": {"summary": "a lot"}}, "priority of 'summary' must be a number"),
    ({"priorities": {"summary": -1}}, "must be finite and >= 0"),
    ({"priorities": {"memories": 0.5}}, "unknown section 'memories'"),
    ({"query": ""}, "query must be a non-empty string"),
    ({"query": "x" * 100_001}, "query has 100001 characters"),
    ({"user_id": None}, "user_id is required"),
    ({"section_timeout": 0}, "section_timeout must be a positive number"),
]


@pytest.mark.parametrize(("change", "message"), BAD_CALLS)
async def test_bad_input_raises_a_typed_error_and_changes_nothing(
    filled: AsyncMemory, change: dict[str, Any], message: str
) -> None:
    before = await filled.stats(USER)
    call: dict[str, Any] = {"query": QUESTION, "user_id": USER, "session_id": SESSION, **change}
    query = call.pop("query")
    with pytest.raises(InvalidInput, match=message):
        await filled.context(query, **call)
    assert await filled.stats(USER) == before
