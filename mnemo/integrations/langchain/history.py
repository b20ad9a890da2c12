"""``MnemoChatMessageHistory``: LangChain's chat message history over mnemo's turns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage

from mnemo.core.messages import MessageRecord
from mnemo.engine import AsyncMemory
from mnemo.integrations._bridge import Bridge
from mnemo.integrations._operations import session_turns
from mnemo.integrations.langchain.messages import from_turn, to_turn
from mnemo.memory import Memory


class MnemoChatMessageHistory(BaseChatMessageHistory):
    """The turns of one mnemo session as a LangChain chat history.

    ``user_id`` and ``session_id`` (and ``agent_id``, ``tenant_id`` if given) fix the
    scope; the framework never chooses it. Messages are appended as new turns,
    never rewritten; ``clear`` deletes the session's turns. Sync methods need a
    ``Memory``; async ones work with either face. A message mnemo cannot store
    (an unknown message class, empty text without tools, metadata that is not
    JSON) raises ``mnemo.InvalidInput``, a ``ValueError``, and stores nothing.
    """

    def __init__(
        self,
        memory: Memory | AsyncMemory,
        *,
        user_id: str,
        session_id: str,
        agent_id: str | None = None,
        tenant_id: str | None = None,
    ) -> None:
        self._bridge = Bridge(memory, tenant_id=tenant_id)
        self.user_id = user_id
        self.session_id = session_id
        self.agent_id = agent_id

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """Every turn of the session, oldest first."""
        return [from_turn(r) for r in self._bridge.run(self._load)]

    async def aget_messages(self) -> list[BaseMessage]:
        return [from_turn(r) for r in await self._bridge.arun(self._load)]

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        turns = _turns(messages)
        self._bridge.run(lambda engine: self._append(engine, turns))

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        turns = _turns(messages)
        await self._bridge.arun(lambda engine: self._append(engine, turns))

    def clear(self) -> None:
        self._bridge.run(self._clear)

    async def aclear(self) -> None:
        await self._bridge.arun(self._clear)

    async def _load(self, engine: AsyncMemory) -> list[MessageRecord]:
        return await session_turns(
            engine, user_id=self.user_id, session_id=self.session_id, agent_id=self.agent_id
        )

    async def _append(self, engine: AsyncMemory, turns: list[dict[str, Any]]) -> None:
        await engine.add_messages(
            turns, user_id=self.user_id, session_id=self.session_id, agent_id=self.agent_id
        )

    async def _clear(self, engine: AsyncMemory) -> None:
        scope = engine.scope(self.user_id, agent_id=self.agent_id, session_id=self.session_id)
        await engine.messages.delete_session(scope)


def _turns(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """Every message converted before anything is written (all or none)."""
    return [to_turn(message, index) for index, message in enumerate(messages)]
