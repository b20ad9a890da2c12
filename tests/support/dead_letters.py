"""A real dead-lettered turn: an engine whose LLM (a local chat-completions server)
never answers with JSON keeps failing to extract it until the ledger gives up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from mnemo import AsyncMemory, MnemoConfig
from mnemo.providers.llms.openai_compatible import OpenAICompatibleLLM
from tests.support.fake_chat_server import FakeChatServer, reply


async def dead_letter(
    config: MnemoConfig, turn: Mapping[str, Any], *, user_id: str, session_id: str
) -> str:
    """Store ``turn`` for extraction through a failing LLM; its id, once ``failed``.

    ``config`` should run a fast in-process worker (short retries); the engine
    is closed before this returns, so the turn waits for someone to retry it.
    """
    with FakeChatServer() as server:
        server.script(reply("I'm sorry, I cannot produce JSON today."))
        llm = OpenAICompatibleLLM(
            "fake-model", base_url=server.base_url, api_key="sk-test", timeout=5,
            max_retries=1, backoff_seconds=0.01,
        )  # fmt: skip
        async with llm, AsyncMemory(replace(config, llm=llm)) as engine:
            result = await engine.add(
                [dict(turn)], user_id=user_id, session_id=session_id, infer=True, wait=True
            )
    [message_id] = result.ids
    if result.extraction != {message_id: "failed"}:
        raise AssertionError(f"the turn was not dead-lettered: {result.extraction}")
    return message_id
