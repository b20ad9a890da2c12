"""OpenAICompatibleLLM against llama-server: formats, grammars, cut-off replies, retries, time."""

from __future__ import annotations

import json
import time
from typing import Any

import jsonschema
import pytest

from mnemo.errors import LLMError
from mnemo.providers.llms.base import ChatMessage
from mnemo.providers.llms.registry import load_llm
from tests.real_llm.clients import client
from tests.support.llama_server import LlamaServer

pytestmark = pytest.mark.real_llm

PICK: dict[str, Any] = {
    "title": "pick",
    "type": "object",
    "properties": {
        "colour": {"type": "string", "enum": ["red", "green", "blue"]},
        "count": {"type": "integer", "minimum": 1, "maximum": 9},
        "code": {"const": "x7Q"},  # no model writes this unless a grammar makes it
    },
    "required": ["colour", "count", "code"],
    "additionalProperties": False,
}
FRUITS: dict[str, Any] = {
    "title": "fruits",
    "type": "object",
    "properties": {"fruits": {"type": "array", "items": {"type": "string"}}},
    "required": ["fruits"],
    "additionalProperties": False,
}
ASK_PICK = [ChatMessage.system("You answer questions."), ChatMessage.user("Pick a colour.")]
ASK_FRUITS = [ChatMessage.user("List thirty fruits.")]


async def test_json_schema_is_kept_and_its_grammar_shapes_the_raw_reply(
    llama_server: LlamaServer,
) -> None:
    async with client(llama_server) as llm:
        completion = await llm.complete(ASK_PICK, schema=PICK, max_tokens=60)
        again = await llm.complete_json(ASK_PICK, PICK, max_tokens=60)

    assert llm.response_format_mode == "json_schema"
    jsonschema.validate(json.loads(completion.text), PICK)  # the text itself, unrepaired
    assert again.parsed["code"] == "x7Q" and len(llm.received) == 2  # no retry needed


async def test_without_a_grammar_bad_replies_are_corrected_then_given_up(
    llama_server: LlamaServer,
) -> None:
    async with client(llama_server, response_format="none") as llm:
        with pytest.raises(LLMError, match=r"in 3 attempt\(s\)"):
            await llm.complete_json(ASK_PICK, PICK, max_tokens=40, attempts=3)

    assert len(llm.sent) == 3
    for before, after, reply in zip(llm.sent, llm.sent[1:], llm.received, strict=False):
        assert after[: len(before)] == before
        assert after[len(before)] == ChatMessage.assistant(reply.text)
        assert after[-1].role == "user" and "could not be used" in after[-1].content


async def test_a_cut_off_reply_that_repairs_is_accepted_and_marked(
    llama_server: LlamaServer,
) -> None:
    async with client(llama_server) as llm:
        completion = await llm.complete_json(ASK_FRUITS, FRUITS, max_tokens=20)

    [raw] = llm.received
    assert raw.finish_reason == "length"
    assert completion.truncated
    jsonschema.validate(completion.parsed, FRUITS)
    assert completion.parsed["fruits"] and raw.text.startswith("{")


async def test_cut_off_replies_that_never_fit_end_in_an_error_after_bounded_attempts(
    llama_server: LlamaServer,
) -> None:
    at_least_ten = {**FRUITS, "properties": {"fruits": {**FRUITS["properties"]["fruits"],
                                                        "minItems": 10}}}  # fmt: skip
    async with client(llama_server) as llm:
        with pytest.raises(LLMError, match=r"in 2 attempt\(s\)"):
            await llm.complete_json(ASK_FRUITS, at_least_ten, max_tokens=15, attempts=2)

    assert [c.finish_reason for c in llm.received] == ["length", "length"]


async def test_a_reply_slower_than_the_timeout_fails_in_bounded_time_and_the_server_recovers(
    llama_server: LlamaServer,
) -> None:
    story = [ChatMessage.user("Write a very long story about a dragon.")]
    async with client(llama_server, timeout=0.3, max_retries=1, backoff_seconds=0.01) as llm:
        started = time.perf_counter()
        with pytest.raises(LLMError, match=r"failed after 2 attempt\(s\): no reply within 0.3 s"):
            await llm.complete(story, max_tokens=250)
        assert time.perf_counter() - started < 5.0
    async with client(llama_server) as patient:
        assert (await patient.complete([ChatMessage.user("Say hi.")], max_tokens=5)).text


async def test_the_llamacpp_preset_reaches_the_server(llama_server: LlamaServer) -> None:
    llm = load_llm("llamacpp", base_url=llama_server.base_url)
    async with llm:
        completion = await llm.complete_json(ASK_PICK, PICK, max_tokens=60)
    assert completion.parsed["colour"] in ("red", "green", "blue")
    assert llm.model_id == "openai-compatible/local"
