"""``MemoryReader``: what context assembly reads from the engine, and nothing more.

The sources take this protocol, not ``AsyncMemory``: the orchestrator imports the
memory kinds below it and never the engine above it (``AsyncMemory`` satisfies
the protocol, which mypy checks where the engine calls ``build_context``).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Protocol

from mnemo.core.messages import MessageHit
from mnemo.core.records import MemoryRecord, Scope, SearchHit
from mnemo.kinds.buffer import ConversationBuffer
from mnemo.kinds.documents import DocumentService
from mnemo.kinds.entities import EntityService
from mnemo.kinds.settings import SettingsService
from mnemo.kinds.summary import ConversationSummary
from mnemo.kinds.working import WorkingMemoryService

__all__ = ["MemoryReader"]


class MemoryReader(Protocol):
    """The engine's read side as the context sections use it."""

    def scope(
        self, user_id: str, *, agent_id: str | None = ..., session_id: str | None = ...
    ) -> Scope: ...

    async def list(
        self,
        *,
        user_id: str,
        agent_id: str | None = ...,
        kinds: Sequence[str] | None = ...,
        limit: int = ...,
    ) -> builtins.list[MemoryRecord]: ...

    async def search(
        self, query: str, *, user_id: str, limit: int = ..., agent_id: str | None = ...
    ) -> builtins.list[SearchHit]: ...

    async def search_messages(
        self,
        query: str,
        *,
        user_id: str,
        agent_id: str | None = ...,
        limit: int = ...,
        exclude_session_id: str | None = ...,
    ) -> builtins.list[MessageHit]: ...

    async def conversation_summary(self) -> ConversationSummary: ...

    async def conversation_buffer(
        self, *, window_type: str = ..., window_size: float = ...
    ) -> ConversationBuffer: ...

    @property
    def settings(self) -> SettingsService: ...

    @property
    def working(self) -> WorkingMemoryService: ...

    @property
    def entities(self) -> EntityService: ...

    @property
    def documents(self) -> DocumentService: ...
