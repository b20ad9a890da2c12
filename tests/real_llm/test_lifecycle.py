"""Extraction, dead-lettering and summaries through llama-server, judged by invariants."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mnemo import AsyncMemory, MnemoConfig
from mnemo.core.messages import MessageRecord
from mnemo.core.tokens import default_token_counter
from mnemo.lifecycle.extraction import CANDIDATE_KINDS, LLMExtractor, Turn
from mnemo.lifecycle.summaries import SessionSummarizer
from tests.integration.lifecycle.conftest import FAST
from tests.real_llm.clients import MODEL, client
from tests.support.llama_server import LlamaServer

pytestmark = pytest.mark.real_llm

START = datetime(2024, 5, 8, 10, 0, tzinfo=UTC)
SAID = [
    ("Alice", "I moved to Lisbon last May and I surf every weekend."),
    ("Bob", "Nice! My sister Carla works as a nurse in Porto."),
    ("Alice", "I'm allergic to peanuts, so no satay for me."),
]
#: Short replies and quick retries: the 135M model loops until its token limit.
LIFECYCLE = replace(FAST, extraction_attempts=2, extraction_max_tokens=120,
                    wait_timeout_seconds=100)  # fmt: skip


def turns() -> list[dict[str, Any]]:
    return [
        {"role": "user", "name": who, "content": text, "created_at": START + timedelta(minutes=i)}
        for i, (who, text) in enumerate(SAID)
    ]


async def test_the_extractor_cites_only_turns_it_was_shown(llama_server: LlamaServer) -> None:
    shown = [
        Turn(id=f"t{i}", role="user", speaker=who, content=text, created_at=START)
        for i, (who, text) in enumerate(SAID)
    ]
    async with client(llama_server) as llm:
        extraction = await LLMExtractor(llm, max_tokens=100).extract(shown)

    [raw] = llm.received  # the grammar keeps the reply valid JSON: no retry
    assert extraction.truncated == (raw.finish_reason == "length")
    for candidate in extraction.candidates:
        assert set(candidate.source_turn_ids) <= {t.id for t in shown}
        assert candidate.kind in CANDIDATE_KINDS and candidate.content.strip()


async def test_turns_added_for_extraction_end_done_or_visibly_failed(
    llama_server: LlamaServer, config: MnemoConfig
) -> None:
    llm = client(llama_server)
    async with llm, AsyncMemory(replace(config, llm=llm, lifecycle=LIFECYCLE)) as engine:
        result = await engine.add(turns(), user_id="alice", infer=True, wait=True)
        states = await engine.extraction_status(result.ids, user_id="alice")
        memories = await engine.list(user_id="alice")
        stats = await engine.job_stats(user_id="alice")

    assert set(states) == set(result.ids)
    assert {s.status for s in states.values()} <= {"done", "failed"}
    assert all(s.last_error for s in states.values() if s.status == "failed")
    assert sum(stats["extraction"].values()) == len(result.ids)
    assert stats["extraction_truncated"] == sum(s.truncated for s in states.values())
    for memory in memories:
        assert set(memory.source_message_ids) <= set(result.ids)
        assert memory.metadata["extracted_by"] == f"llm:openai-compatible/{MODEL}"


async def test_a_turn_the_model_cannot_answer_in_time_is_dead_lettered(
    llama_server: LlamaServer, config: MnemoConfig
) -> None:
    llm = client(llama_server, timeout=0.2)
    async with llm, AsyncMemory(replace(config, llm=llm, lifecycle=LIFECYCLE)) as engine:
        result = await engine.add(turns()[:1], user_id="alice", infer=True, wait=True)
        [failed] = await engine.failed_extractions(user_id="alice")
        assert await engine.list(user_id="alice") == []

    assert result.extraction == {result.ids[0]: "failed"}
    assert failed.message_id == result.ids[0]
    assert failed.attempts == LIFECYCLE.extraction_attempts
    assert failed.last_error is not None and "no reply within 0.2 s" in failed.last_error


async def test_the_model_writes_the_summary_within_its_budget(
    llama_server: LlamaServer, config: MnemoConfig
) -> None:
    llm = client(llama_server)
    async with llm, AsyncMemory(replace(config, llm=llm)) as engine:
        summary = await engine.conversation_summary(buffer_window_size=1, max_total_tokens=200)
        scope = engine.scope("alice", session_id="chat")
        await summary.add(scope, turns())
        folded = await summary.summary(scope)

    assert folded is not None and folded.content.strip()
    assert folded.method == f"llm:openai-compatible/{MODEL}"
    assert folded.through_turn == 2
    assert default_token_counter().count(folded.content) <= 60  # 30% of 200


async def test_a_summary_the_model_is_too_slow_for_falls_back_offline(
    llama_server: LlamaServer,
) -> None:
    records = [
        MessageRecord(id=f"m{i}", user_id="alice", session_id="chat", turn_number=i + 1,
                      role="user", name=who, content=text, created_at=START)
        for i, (who, text) in enumerate(SAID)
    ]  # fmt: skip
    async with client(llama_server) as llm:
        summarizer = SessionSummarizer(llm, default_token_counter(), timeout=0.05)
        text, method = await summarizer.fold("", records, 60)

    assert method == "extractive"
    assert text.strip() and default_token_counter().count(text) <= 60
