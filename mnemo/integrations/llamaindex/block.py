"""``MnemoMemoryBlock``: a ``llama_index.core.memory.Memory`` block backed by mnemo."""

from __future__ import annotations

from typing import Any, Literal

from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.memory.memory import BaseMemoryBlock
from pydantic import ConfigDict, Field, PrivateAttr

from mnemo.engine import AsyncMemory
from mnemo.integrations._bridge import Bridge
from mnemo.integrations.llamaindex.messages import query_text, to_turns
from mnemo.memory import Memory


class MnemoMemoryBlock(BaseMemoryBlock[str]):
    """Long-term memory for LlamaIndex's ``Memory``: what mnemo knows, put into the chat.

    ``aget`` searches with the text of the latest messages and returns, in
    ``mode="memories"``, the user's ``limit`` most relevant memories as lines, or in
    ``mode="context"``, mnemo's whole token-budgeted context (instructions, summary,
    recent turns, memories, entities, documents) of at most ``max_tokens``.

    ``aput`` receives what the short-term memory flushes. With ``infer`` (the
    default) the messages are stored as the session's conversation turns and queued
    for extraction, which distils them into memories (``AsyncMemory.add(infer=True)``);
    without it each message is kept as a note, searchable at once. The session is
    the block's ``session_id``, else the ``Memory``'s own.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str = Field(default="mnemo", description="The block's name in the prompt.")
    memory: Memory | AsyncMemory
    user_id: str
    agent_id: str | None = None
    session_id: str | None = None
    tenant_id: str | None = None
    mode: Literal["memories", "context"] = "memories"
    limit: int = 5
    max_tokens: int = 1_000
    query_window: int = 3
    infer: bool = True

    _bridge: Bridge = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        self._bridge = Bridge(self.memory, tenant_id=self.tenant_id)

    async def _aget(
        self,
        messages: list[ChatMessage] | None = None,
        session_id: str | None = None,
        **block_kwargs: Any,
    ) -> str:
        query = query_text(messages, self.query_window)
        if not query:
            return ""
        session = self.session_id or session_id
        return await self._bridge.arun(lambda engine: self._recall(engine, query, session))

    async def _aput(self, messages: list[ChatMessage]) -> None:
        turns = to_turns(messages)
        if not turns:
            return
        flushed_from = next(
            (sid for m in messages if (sid := m.additional_kwargs.get("session_id"))), None
        )
        session = self.session_id or flushed_from
        await self._bridge.arun(
            lambda engine: engine.add(
                turns, user_id=self.user_id, agent_id=self.agent_id, session_id=session,
                infer=self.infer,
            )
        )  # fmt: skip

    async def _recall(self, engine: AsyncMemory, query: str, session: str | None) -> str:
        if self.mode == "context":
            result = await engine.context(
                query, user_id=self.user_id, agent_id=self.agent_id, session_id=session,
                max_tokens=self.max_tokens,
            )  # fmt: skip
            return result.text
        hits = await engine.search(
            query, user_id=self.user_id, agent_id=self.agent_id, limit=self.limit
        )
        return "\n".join(f"- {hit.content}" for hit in hits)
