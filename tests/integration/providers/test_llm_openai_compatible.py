"""The OpenAI-compatible client against a real local server speaking the wire format."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from mnemo.errors import LLMError
from mnemo.providers.llms.base import ChatMessage
from mnemo.providers.llms.openai_compatible import OpenAICompatibleLLM
from mnemo.providers.llms.registry import load_llm
from tests.support.fake_chat_server import (
    Answer,
    FakeChatServer,
    ReceivedRequest,
    error,
    reply,
    reply_json,
)

API_KEY = "sk-test-secret-0123456789"
SCHEMA: dict[str, Any] = {
    "title": "colour reply",
    "type": "object",
    "properties": {"colour": {"type": "string"}, "count": {"type": "integer"}},
    "required": ["colour", "count"],
    "additionalProperties": False,
}
GOOD = {"colour": "blue", "count": 3}
MESSAGES = [ChatMessage.system("You answer in JSON."), ChatMessage.user("Pick a colour.")]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeChatServer]:
    with FakeChatServer() as running:
        yield running


@pytest.fixture
async def llm(server: FakeChatServer) -> AsyncIterator[OpenAICompatibleLLM]:
    client = OpenAICompatibleLLM(
        "fake-model",
        base_url=server.base_url,
        api_key=API_KEY,
        timeout=0.5,
        max_retries=2,
        backoff_seconds=0.01,
    )
    async with client:
        yield client


def _format_type(request: ReceivedRequest) -> str | None:
    response_format = request.body.get("response_format")
    return response_format["type"] if response_format else None


async def test_plain_completion_sends_the_wire_format(
    server: FakeChatServer, llm: OpenAICompatibleLLM
) -> None:
    server.script(reply("Hello there", model="served-model"))

    completion = await llm.complete(MESSAGES, temperature=0.3, max_tokens=50)

    assert completion.text == "Hello there"
    assert completion.model == "served-model"
    assert completion.parsed is None
    assert completion.usage.prompt_tokens == 11
    assert completion.usage.total_tokens == 18
    assert completion.latency_seconds > 0
    [request] = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.body["stream"] is False
    assert request.body["model"] == "fake-model"
    assert request.body["temperature"] == 0.3
    assert request.body["max_tokens"] == 50
    assert request.body["messages"] == [
        {"role": "system", "content": "You answer in JSON."},
        {"role": "user", "content": "Pick a colour."},
    ]
    assert "response_format" not in request.body


async def test_good_json_is_returned_validated(
    server: FakeChatServer, llm: OpenAICompatibleLLM
) -> None:
    server.script(reply_json(GOOD))

    completion = await llm.complete_json(MESSAGES, SCHEMA)

    assert completion.parsed == GOOD
    [request] = server.requests
    sent = request.body["response_format"]
    assert sent["type"] == "json_schema"
    assert sent["json_schema"] == {"name": "colour_reply", "schema": SCHEMA, "strict": True}
    system = request.body["messages"][0]
    assert system["role"] == "system"
    assert system["content"].startswith("You answer in JSON.")
    assert '"colour"' in system["content"]  # the schema is stated in the one system message
    assert len(request.body["messages"]) == 2


async def test_json_in_code_fences_is_repaired_without_a_retry(
    server: FakeChatServer, llm: OpenAICompatibleLLM
) -> None:
    server.script(reply('Here you go:\n```json\n{"colour": "red", "count": 1,}\n```'))

    completion = await llm.complete_json(MESSAGES, SCHEMA)

    assert completion.parsed == {"colour": "red", "count": 1}
    assert len(server.requests) == 1


async def test_bad_json_then_good_retries_with_a_correction(
    server: FakeChatServer, llm: OpenAICompatibleLLM
) -> None:
    server.script(reply("I think blue is nice."), reply_json({"colour": "blue"}), reply_json(GOOD))

    completion = await llm.complete_json(MESSAGES, SCHEMA)

    assert completion.parsed == GOOD
    assert completion.usage.prompt_tokens == 33  # all three attempts are counted
    first, second, third = server.bodies()
    assert second["messages"][-2] == {"role": "assistant", "content": "I think blue is nice."}
    assert "not valid JSON" in second["messages"][-1]["content"]
    assert "'count' is a required property" in third["messages"][-1]["content"]
    assert len(third["messages"]) == len(first["messages"]) + 4


async def test_always_bad_json_raises_after_bounded_attempts(
    server: FakeChatServer, llm: OpenAICompatibleLLM
) -> None:
    server.script(reply("no JSON here, sorry"))

    with pytest.raises(LLMError, match=r"in 3 attempt\(s\).*not valid JSON"):
        await llm.complete_json(MESSAGES, SCHEMA)

    assert len(server.requests) == 3


async def test_rejected_json_schema_falls_back_and_remembers(server: FakeChatServer) -> None:
    def no_json_schema(request: ReceivedRequest) -> Answer:
        if _format_type(request) == "json_schema":
            return error(
                400, "Invalid parameter: 'response_format' of type 'json_schema' is not supported."
            )
        return reply_json(GOOD)

    server.script(no_json_schema)
    async with OpenAICompatibleLLM("m", base_url=server.base_url, backoff_seconds=0.01) as llm:
        first = await llm.complete_json(MESSAGES, SCHEMA)
        second = await llm.complete_json(MESSAGES, SCHEMA)

    assert first.parsed == second.parsed == GOOD
    assert [_format_type(r) for r in server.requests] == [
        "json_schema",
        "json_object",
        "json_object",
    ]
    assert llm.response_format_mode == "json_object"
    assert "authorization" not in server.requests[0].headers  # no key, no header


# llama-cpp-python's server (0.3.36) validates ``response_format.type`` against "text" /
# "json_object" inside its route and reports the pydantic error as an internal error.
LLAMA_CPP_PYTHON_REFUSAL = (
    "1 validation error for CreateChatCompletionRequest\nresponse_format.type\n  Input should "
    "be 'text' or 'json_object' [type=literal_error, input_value='json_schema', input_type=str]"
)


def llama_cpp_python_like(request: ReceivedRequest) -> Answer:
    """Answers as llama-cpp-python's server does: HTTP 500 for a ``json_schema`` format."""
    if _format_type(request) not in (None, "text", "json_object"):
        body = {"error": {"message": LLAMA_CPP_PYTHON_REFUSAL, "type": "internal_server_error",
                          "param": None, "code": None}}  # fmt: skip
        return Answer(status=500, body=body)
    return reply_json(GOOD)


async def test_a_500_refusing_json_schema_falls_back_to_json_object(
    server: FakeChatServer,
) -> None:
    server.script(llama_cpp_python_like)
    async with OpenAICompatibleLLM("m", base_url=server.base_url, max_retries=3) as llm:
        first = await llm.complete_json(MESSAGES, SCHEMA)
        second = await llm.complete_json(MESSAGES, SCHEMA)

    assert first.parsed == second.parsed == GOOD
    # Not retried as a transient 500: one refusal, then json_object from there on.
    assert [_format_type(r) for r in server.requests] == [
        "json_schema",
        "json_object",
        "json_object",
    ]
    assert llm.response_format_mode == "json_object"


async def test_a_500_refusing_a_pinned_format_fails_at_once_with_the_reason(
    server: FakeChatServer,
) -> None:
    server.script(llama_cpp_python_like)
    pinned = OpenAICompatibleLLM(
        "m", base_url=server.base_url, response_format="json_schema", max_retries=3
    )
    async with pinned:
        with pytest.raises(LLMError, match=r"answered 500: .*Input should be 'text' or"):
            await pinned.complete_json(MESSAGES, SCHEMA)

    assert len(server.requests) == 1


async def test_a_500_about_something_else_is_still_retried(server: FakeChatServer) -> None:
    server.script(error(500, "CUDA out of memory"), reply_json(GOOD))
    async with OpenAICompatibleLLM("m", base_url=server.base_url, backoff_seconds=0.01) as llm:
        completion = await llm.complete_json(MESSAGES, SCHEMA)

    assert completion.parsed == GOOD
    assert [_format_type(r) for r in server.requests] == ["json_schema", "json_schema"]
    assert llm.response_format_mode == "json_schema"


async def test_no_response_format_at_all_is_the_last_resort(server: FakeChatServer) -> None:
    def plain_only(request: ReceivedRequest) -> Answer:
        if "response_format" in request.body:
            return error(400, "Unrecognized request argument supplied: response_format")
        return reply_json(GOOD)

    server.script(plain_only)
    async with OpenAICompatibleLLM("m", base_url=server.base_url) as llm:
        completion = await llm.complete_json(MESSAGES, SCHEMA)

    assert completion.parsed == GOOD
    assert [_format_type(r) for r in server.requests] == ["json_schema", "json_object", None]
    assert llm.response_format_mode == "none"


async def test_429_then_ok_is_retried(server: FakeChatServer, llm: OpenAICompatibleLLM) -> None:
    server.script(error(429, "Rate limit reached", **{"Retry-After": "0"}), reply("fine"))

    completion = await llm.complete(MESSAGES)

    assert completion.text == "fine"
    assert len(server.requests) == 2


async def test_persistent_500_raises_after_bounded_retries(
    server: FakeChatServer, llm: OpenAICompatibleLLM
) -> None:
    server.script(error(500, "The server had an error"))

    with pytest.raises(LLMError, match=r"failed after 3 attempt\(s\).*500.*server had an error"):
        await llm.complete(MESSAGES)

    assert len(server.requests) == 3


async def test_slow_reply_times_out_then_succeeds_on_retry(
    server: FakeChatServer, llm: OpenAICompatibleLLM
) -> None:
    server.script(Answer(body=reply("late").body, delay=0.8), reply("prompt"))

    completion = await llm.complete(MESSAGES)

    assert completion.text == "prompt"
    assert len(server.requests) == 2


async def test_always_slow_raises_a_timeout_error(server: FakeChatServer) -> None:
    server.script(Answer(body=reply("late").body, delay=0.6))
    llm = OpenAICompatibleLLM(
        "m", base_url=server.base_url, timeout=0.2, max_retries=1, backoff_seconds=0.01
    )
    started = time.perf_counter()
    async with llm:
        with pytest.raises(LLMError, match=r"no reply within 0.2 s"):
            await llm.complete(MESSAGES)

    assert time.perf_counter() - started < 2


async def test_401_raises_with_the_server_message_but_never_the_key(
    server: FakeChatServer, llm: OpenAICompatibleLLM
) -> None:
    server.script(error(401, f"Incorrect API key provided: {API_KEY}."))

    with pytest.raises(LLMError) as caught:
        await llm.complete(MESSAGES)

    message = str(caught.value)
    assert "401" in message
    assert "Incorrect API key provided" in message
    assert API_KEY not in message
    assert API_KEY not in repr(caught.value)
    assert len(server.requests) == 1  # a 4xx is not retried


async def test_other_400_is_not_mistaken_for_a_format_rejection(
    server: FakeChatServer, llm: OpenAICompatibleLLM
) -> None:
    server.script(error(400, "This model's maximum context length is 8192 tokens."))

    with pytest.raises(LLMError, match="maximum context length"):
        await llm.complete_json(MESSAGES, SCHEMA)

    assert len(server.requests) == 1
    assert llm.response_format_mode == "json_schema"


async def test_a_reply_that_is_not_a_chat_completion_is_an_llm_error(
    server: FakeChatServer, llm: OpenAICompatibleLLM
) -> None:
    server.script(Answer(body={"unexpected": True}))

    with pytest.raises(LLMError, match="not a chat completion"):
        await llm.complete(MESSAGES)


async def test_unreachable_server_raises_after_retries() -> None:
    llm = OpenAICompatibleLLM(
        "m", base_url="http://127.0.0.1:9/v1", timeout=0.5, max_retries=1, backoff_seconds=0.01
    )
    async with llm:
        with pytest.raises(LLMError, match="could not reach the server"):
            await llm.complete(MESSAGES)


async def test_registry_builds_a_client_that_talks_to_the_server(server: FakeChatServer) -> None:
    server.script(reply("via registry"))
    llm = load_llm("openai-compatible:served-by-registry", base_url=server.base_url)
    async with llm:
        completion = await llm.complete(MESSAGES)

    assert completion.text == "via registry"
    assert server.requests[0].body["model"] == "served-by-registry"
