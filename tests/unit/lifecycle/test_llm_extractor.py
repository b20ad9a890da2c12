"""The LLM extractor over a scripted LLM: prompt, validation, clean-up, failure."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import pytest

from mnemo.errors import LLMError
from mnemo.lifecycle.extraction import (
    EXTRACTION_SCHEMA,
    Extraction,
    Extractor,
    LLMExtractor,
    Turn,
)
from mnemo.lifecycle.extraction.llm import load_prompt
from mnemo.providers.llms.base import LLM, ChatMessage, Completion

NOW = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
TURNS = [
    Turn(
        id="m1", role="user", speaker="Alice", content="I love dark roast coffee.", created_at=NOW
    ),
    Turn(id="m2", role="assistant", content="Noted!", created_at=NOW),
    Turn(id="m3", role="user", speaker="Alice", content="Yesterday I ran 10 km.", created_at=NOW),
]


class ScriptedLLM(LLM):
    """Replies with the given texts in order and records what it was sent."""

    model_id = "scripted"

    def __init__(self, *replies: str, finish_reason: str = "stop") -> None:
        self.replies = list(replies)
        self.finish_reason = finish_reason
        self.calls: list[tuple[list[ChatMessage], dict[str, Any] | None]] = []

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        schema: dict[str, Any] | None = None,
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> Completion:
        self.calls.append((list(messages), schema))
        text = self.replies.pop(0)
        return Completion(text=text, model=self.model_id, finish_reason=self.finish_reason)


def item(**overrides: Any) -> dict[str, Any]:
    base = {
        "kind": "preference",
        "content": "Alice loves dark roast coffee.",
        "source_turn_ids": ["m1"],
        "confidence": 0.9,
        "importance": 0.6,
        "event_date": None,
    }
    return {**base, **overrides}


def reply(*items: dict[str, Any]) -> str:
    return json.dumps({"memories": list(items)})


async def test_turns_become_candidates() -> None:
    llm = ScriptedLLM(
        reply(
            item(),
            item(
                kind="event",
                content="Alice ran 10 km on 7 May 2023.",
                source_turn_ids=["m3"],
                event_date="2023-05-07",
                importance=0.4,
            ),
        )
    )

    found = (await LLMExtractor(llm).extract(TURNS)).candidates

    assert [(c.kind, c.content, c.source_turn_ids, c.event_date) for c in found] == [
        ("preference", "Alice loves dark roast coffee.", ("m1",), None),
        ("event", "Alice ran 10 km on 7 May 2023.", ("m3",), date(2023, 5, 7)),
    ]
    assert found[0].confidence == 0.9


async def test_the_prompt_shows_turns_ids_dates_and_context() -> None:
    llm = ScriptedLLM(reply())

    await LLMExtractor(llm).extract(TURNS, context=["Alice lives in Oslo."])

    [(messages, schema)] = llm.calls
    assert schema == EXTRACTION_SCHEMA
    system, user = messages
    assert system.role == "system"
    assert load_prompt("extract").strip() in system.content
    assert "[m1] 2023-05-08 13:56 Alice (user): I love dark roast coffee." in user.content
    assert "[m2] 2023-05-08 13:56 the assistant (assistant): Noted!" in user.content
    assert "- Alice lives in Oslo." in user.content


async def test_items_are_cleaned() -> None:
    llm = ScriptedLLM(
        reply(
            item(source_turn_ids=["m1", "nope"], confidence=1.7, importance=-3),
            item(content="Made up.", source_turn_ids=["unknown"]),
            item(content="   "),
            item(content="Alice  loves\n dark roast coffee."),  # a repeat once whitespace is tidied
            item(kind="fact", content="Alice runs.", source_turn_ids=["m3"], event_date="7 May"),
        )
    )

    found = (await LLMExtractor(llm).extract(TURNS)).candidates

    assert [(c.kind, c.content, c.source_turn_ids) for c in found] == [
        ("preference", "Alice loves dark roast coffee.", ("m1",)),
        ("fact", "Alice runs.", ("m3",)),
    ]
    assert (found[0].confidence, found[0].importance) == (1.0, 0.0)
    assert found[1].event_date is None


async def test_an_invalid_reply_is_corrected_by_a_retry() -> None:
    llm = ScriptedLLM(reply(item(kind="opinion")), "```json\n" + reply(item()) + "\n```")

    found = (await LLMExtractor(llm).extract(TURNS)).candidates

    assert [c.content for c in found] == ["Alice loves dark roast coffee."]
    assert len(llm.calls) == 2
    correction = llm.calls[1][0][-1]
    assert correction.role == "user"
    assert "kind" in correction.content


async def test_a_cut_off_reply_that_repairs_is_used_marked_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    whole = reply(item(), item(content="Alice ran 10 km.", source_turn_ids=["m3"]))
    cut = whole[: whole.index("Alice ran")]  # the second memory is lost in the cut
    llm = ScriptedLLM(cut, finish_reason="length")

    with caplog.at_level(logging.WARNING, logger="mnemo.providers.llms.base"):
        extraction = await LLMExtractor(llm, max_tokens=40).extract(TURNS)

    assert extraction.truncated
    assert [c.content for c in extraction.candidates] == ["Alice loves dark roast coffee."]
    assert len(llm.calls) == 1
    assert "scripted: reply cut off at max_tokens=40" in caplog.text


async def test_a_whole_reply_is_not_marked_truncated() -> None:
    extraction = await LLMExtractor(ScriptedLLM(reply(item()))).extract(TURNS)
    assert not extraction.truncated


async def test_no_usable_reply_raises_llm_error() -> None:
    llm = ScriptedLLM("nope", "still nope", "no")

    with pytest.raises(LLMError, match="scripted gave no reply matching the JSON schema"):
        await LLMExtractor(llm, attempts=3).extract(TURNS)


async def test_no_turns_no_call() -> None:
    llm = ScriptedLLM()
    assert await LLMExtractor(llm).extract([]) == Extraction([])
    assert llm.calls == []


def test_it_is_an_extractor() -> None:
    assert isinstance(LLMExtractor(ScriptedLLM()), Extractor)
