"""The "memory implementations for LLM context" classes, on mnemo's engine.

    memory = ConversationSummaryMemory({"database_url": ..., "redis_url": ...,
                                        "buffer_window_size": 10,
                                        "summary_context_weight": 0.3,
                                        "max_total_tokens": 4000})
    await memory.initialize()
    await memory.store({"session_id": "chat_123", "user_id": "user_456",
                        "role": "user", "content": "Hello"})
    context = await memory.get_context({"session_id": "chat_123"})

Turns live in PostgreSQL (``messages``) and are never rewritten; Redis (when
configured) only caches the recent windows and summaries. Shared config keys
(``database_url``, ``redis_url``, API keys, ``memory`` for a shared engine) are
described in ``mnemo.compat.base``. The other kinds of that design (vector,
working, key-value, entity memory, the orchestrator) live in sibling modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mnemo.compat.base import CompatMemory, message_fields
from mnemo.core.records import Scope
from mnemo.engine import AsyncMemory
from mnemo.kinds.buffer import BufferPolicy, ConversationBuffer
from mnemo.kinds.summary import ConversationSummary, SummaryPolicy

__all__ = ["ConversationBufferMemory", "ConversationSummaryMemory"]


class ConversationBufferMemory(CompatMemory):
    """Recent conversation history: the last ``window_size`` turns (``window_type``
    ``"turns"``), the newest turns within ``window_size`` tokens (``"tokens"``), or the
    turns of the last ``window_size`` seconds (``"time"``); a session inactive for
    ``ttl_seconds`` has an empty buffer (its turns stay stored and searchable)."""

    memory_type = "conversation_buffer"

    def __init__(
        self, config: Mapping[str, Any] | None = None, *, memory: AsyncMemory | None = None
    ) -> None:
        super().__init__(config, memory=memory)
        self.policy = BufferPolicy(
            self.config.get("window_type", "turns"),
            self.config.get("window_size", 10),
            self.config.get("ttl_seconds"),
        )
        self._buffer: ConversationBuffer | None = None

    async def _setup(self) -> None:
        policy = self.policy
        self._buffer = await self.engine.conversation_buffer(
            window_type=policy.window_type,
            window_size=policy.window_size,
            ttl_seconds=policy.ttl_seconds,
        )

    async def store(self, message: Mapping[str, Any]) -> str:
        """Store one turn (``session_id``, ``user_id``, ``role``, ``content``, optionally
        ``tool_calls``, ``tool_results``, ``metadata``, ``timestamp``, ``idempotency_key``);
        its id. The turn may be an OpenAI, Anthropic or Responses message with the scope
        keys added (detected, or named by ``format``)."""
        scope = await self._write_scope(message)
        fields, fmt = message_fields(message)
        ids = await self.engine.add_messages(
            [fields], user_id=scope.user_id, session_id=scope.session_id, format=fmt
        )
        return ids[0]

    async def get_context(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """The session's window ready for a prompt (``messages``, ``tokens``, ``expired``,
        ...); the request's ``format`` gives the messages in that provider's format."""
        scope = await self.request_scope(request)
        buffer = await self._ready_buffer()
        if scope is None:
            return _empty_context(request, window_type=self.policy.window_type)
        return await buffer.get_context(scope, fmt=request.get("format"))

    async def get_session_stats(
        self, session_id: str, user_id: str | None = None
    ) -> dict[str, Any]:
        """Counts, tokens, sizes, oldest/newest of a session, and what its buffer holds."""
        scope = await self.request_scope({"session_id": session_id, "user_id": user_id})
        buffer = await self._ready_buffer()
        if scope is None:
            return {"session_id": session_id, "messages": 0}
        return await buffer.stats(scope)

    async def _ready_buffer(self) -> ConversationBuffer:
        await self.initialize()
        assert self._buffer is not None  # set by _setup
        return self._buffer

    async def _write_scope(self, message: object) -> Scope:
        scope = await self.request_scope(message, write=True)
        assert scope is not None  # writes always resolve a user or raise
        return scope


class ConversationSummaryMemory(CompatMemory):
    """Recent turns verbatim plus a progressive summary of the older ones.

    Config: ``buffer_window_size`` (turns kept verbatim, 10), ``max_total_tokens``
    (4000), ``summary_context_weight`` (the summary's share of it, 0.3), and
    ``fold_every`` (fold once this many turns left the buffer, 1). Summaries
    come from the configured LLM (``llm``, or ``google_api_key`` for Gemini) or,
    without one, from the offline extractive summariser.
    """

    memory_type = "conversation_summary"

    def __init__(
        self, config: Mapping[str, Any] | None = None, *, memory: AsyncMemory | None = None
    ) -> None:
        super().__init__(config, memory=memory)
        self.policy = SummaryPolicy(
            buffer_window_size=self.config.get("buffer_window_size", 10),
            max_total_tokens=self.config.get("max_total_tokens", 4000),
            summary_context_weight=self.config.get("summary_context_weight", 0.3),
            fold_every=self.config.get("fold_every", 1),
        )
        self._summary: ConversationSummary | None = None

    async def _setup(self) -> None:
        policy = self.policy
        self._summary = await self.engine.conversation_summary(
            buffer_window_size=policy.buffer_window_size,
            max_total_tokens=policy.max_total_tokens,
            summary_context_weight=policy.summary_context_weight,
            fold_every=policy.fold_every,
        )

    async def store(self, message: Mapping[str, Any]) -> str:
        """Store one turn (as ``ConversationBufferMemory.store``) and fold the turns that
        left the buffer into the session summary; the turn's id."""
        scope = await self.request_scope(message, write=True)
        summary = await self._ready_summary()
        assert scope is not None  # writes always resolve a user or raise
        fields, fmt = message_fields(message)
        records = await summary.add(scope, [fields], fmt=fmt)
        return records[0].id

    async def get_context(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """``{"summary", "messages", "tokens", "summary_tokens", "message_tokens", ...}``
        within ``max_total_tokens`` (the request's ``max_tokens`` / ``max_total_tokens``
        overrides the config's)."""
        scope = await self.request_scope(request)
        summary = await self._ready_summary()
        if scope is None:
            return {**_empty_context(request), "summary": ""}
        limit = request.get("max_total_tokens", request.get("max_tokens"))
        return await summary.get_context(scope, max_total_tokens=limit, fmt=request.get("format"))

    async def get_session_stats(
        self, session_id: str, user_id: str | None = None
    ) -> dict[str, Any]:
        """Counts, tokens, sizes, oldest/newest of a session, and its summary's state."""
        scope = await self.request_scope({"session_id": session_id, "user_id": user_id})
        summary = await self._ready_summary()
        if scope is None:
            return {"session_id": session_id, "messages": 0}
        return await summary.stats(scope)

    async def _ready_summary(self) -> ConversationSummary:
        await self.initialize()
        assert self._summary is not None  # set by _setup
        return self._summary


def _empty_context(request: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "session_id": request.get("session_id"),
        "user_id": None,
        "messages": [],
        "message_count": 0,
        "tokens": 0,
        **extra,
    }
