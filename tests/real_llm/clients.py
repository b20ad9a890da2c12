"""The real OpenAI-compatible client pointed at the tier's llama-server, keeping what it saw."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mnemo.providers.llms.base import ChatMessage, Completion
from mnemo.providers.llms.openai_compatible import OpenAICompatibleLLM
from tests.support.llama_server import LlamaServer

MODEL = "smollm2"


class RecordingLLM(OpenAICompatibleLLM):
    """``OpenAICompatibleLLM`` unchanged, keeping every request's messages and raw reply."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[list[ChatMessage]] = []
        self.received: list[Completion] = []

    async def complete(self, messages: Sequence[ChatMessage], **options: Any) -> Completion:
        self.sent.append(list(messages))
        completion = await super().complete(messages, **options)
        self.received.append(completion)
        return completion


def client(server: LlamaServer, **options: Any) -> RecordingLLM:
    """A client of ``server``: one attempt per request, 90 s each (CI may be busy)."""
    options = {"timeout": 90.0, "max_retries": 0, **options}
    return RecordingLLM(MODEL, base_url=server.base_url, **options)
