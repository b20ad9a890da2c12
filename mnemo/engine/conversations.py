"""``AsyncMemory``'s conversation methods: messages, buffers, summaries, health.

One of ``AsyncMemory``'s method groups (see ``mnemo.engine``); everything here
runs on the engine's pool, cache, embedder and LLM.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, cast, overload

from mnemo._lazy import Opening, OpensOnUse
from mnemo.core.formats import require_format, to_format
from mnemo.core.messages import MessageHit, MessageRecord
from mnemo.core.tokens import default_token_counter
from mnemo.core.validation import require_scope_id, require_timestamp
from mnemo.engine.base import EngineBase
from mnemo.engine.reads import read_only
from mnemo.health import HealthReport, check_dependencies
from mnemo.kinds.buffer import BufferPolicy, ConversationBuffer
from mnemo.kinds.messages import MessageService, message_hit
from mnemo.kinds.summary import ConversationSummary, SummaryPolicy
from mnemo.lifecycle.summaries import SessionSummarizer
from mnemo.retrieval.search import HybridSearch
from mnemo.store.postgres.database import Database
from mnemo.store.postgres.messages import MESSAGE_TABLE, MessageStore
from mnemo.store.postgres.summaries import SummaryStore


class ConversationMethods(EngineBase):
    """Conversation turns (``m.messages``), buffers, summaries and health checks."""

    def _wire_conversations(self, db: Database) -> None:
        """Build the message store, its search and service on the engine's resources."""
        config = self.config
        store = MessageStore(db, ts_config=config.search.text_search_config)
        search = HybridSearch(
            MESSAGE_TABLE,
            message_hit,
            self._searches,
            self._embeddings,
            config.search,
            self.observers,
            metric="messages.search",
            routes=self._scope_routes,
            context=config.search.context,
        )
        self._messages = MessageService(
            store,
            search,
            self._embeddings,
            self.cache,
            default_token_counter(),
            config.limits,
            max_search_limit=config.search.max_limit,
        )
        self._summaries = SummaryStore(db)

    @property
    def messages(self) -> MessageService:
        """Conversation turns: ``add``, ``list``, ``page``, ``search``, stats, deletion;
        each takes a ``Scope`` (see ``scope``)."""
        if not self._opened:
            return cast(MessageService, OpensOnUse(cast(Opening, self), "messages"))
        return self._messages

    async def add_messages(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        user_id: str,
        session_id: str | None = None,
        agent_id: str | None = None,
        format: str | None = None,
    ) -> builtins.list[str]:
        """Store conversation turns verbatim (all or none); their ids in input order.

        Each message has ``role`` (user, assistant, tool, system) and ``content``,
        optionally ``name``, ``tool_calls`` (assistant), ``tool_results`` (tool),
        ``metadata``, ``created_at``, ``turn_number``, ``idempotency_key``,
        ``agent_id``. Messages may also be as OpenAI chat, Anthropic Messages or
        OpenAI Responses produce them (dicts or the SDKs' objects), detected per
        message or named by ``format`` (``"openai"``, ``"anthropic"``,
        ``"responses"``, ``"mnemo"``); they come back unchanged from
        ``list_messages(format=...)``. Without ``session_id`` turns go to the
        session ``"default"``. A retried message with the same ``idempotency_key``
        is not stored twice.
        """
        scope = self._scope(user_id, agent_id, session_id)
        await self._ready()
        with self.observers.timed("messages.add"):
            records = await self._messages.add(scope, messages, fmt=format)
        return [r.id for r in records]

    @overload
    async def list_messages(
        self,
        *,
        user_id: str,
        session_id: str | None = ...,
        agent_id: str | None = ...,
        roles: Sequence[str] | None = ...,
        limit: int = ...,
        after_turn: int | None = ...,
        newest_first: bool = ...,
        format: Literal["mnemo"] | None = ...,
    ) -> builtins.list[MessageRecord]: ...

    @overload
    async def list_messages(
        self,
        *,
        user_id: str,
        session_id: str | None = ...,
        agent_id: str | None = ...,
        roles: Sequence[str] | None = ...,
        limit: int = ...,
        after_turn: int | None = ...,
        newest_first: bool = ...,
        format: Literal["openai", "anthropic", "responses"],
    ) -> builtins.list[dict[str, Any]]: ...

    @read_only
    async def list_messages(
        self,
        *,
        user_id: str,
        session_id: str | None = None,
        agent_id: str | None = None,
        roles: Sequence[str] | None = None,
        limit: int = 100,
        after_turn: int | None = None,
        newest_first: bool = False,
        format: str | None = None,
    ) -> builtins.list[MessageRecord] | builtins.list[dict[str, Any]]:
        """Turns of a session by turn number (or of every session by time), ``limit`` at a
        time; ``after_turn`` continues a listing (for pages with cursors: ``m.messages.page``).

        ``MessageRecord`` objects, or with ``format`` (``"openai"``, ``"anthropic"``,
        ``"responses"``) that provider's messages, oldest first (the newest ``limit``
        with ``newest_first``), ready to send: a turn
        from that format as it came, tool results never without their calls (a listing
        starts after a leading result and ends after the results of its last calls).
        """
        scope = self._scope(user_id, agent_id, session_id)
        fmt = require_format(format)
        await self._ready()
        records = await self._messages.list(
            scope, roles=roles, limit=limit, after_turn=after_turn, newest_first=newest_first
        )
        if fmt in (None, "mnemo"):
            return records
        oldest_first = records[::-1] if newest_first else records
        return to_format(await self._messages.paired(scope, oldest_first), fmt)

    @read_only
    async def search_messages(
        self,
        query: str,
        *,
        user_id: str,
        session_id: str | None = None,
        agent_id: str | None = None,
        roles: Sequence[str] | None = None,
        limit: int = 10,
        filters: Mapping[str, Any] | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        exclude_session_id: str | None = None,
    ) -> builtins.list[MessageHit]:
        """The turns most relevant to ``query`` (content, tool calls and tool results),
        best first, with score breakdowns; ``exclude_session_id`` leaves one session's
        turns out (the user's other sessions, as the context's past turns read them)."""
        scope = self._scope(user_id, agent_id, session_id)
        start, end = require_timestamp(since, "since"), require_timestamp(until, "until")
        other_than = require_scope_id(exclude_session_id, "exclude_session_id", required=False)
        await self._ready()
        with self.observers.timed("messages.search.total"):
            return await self._messages.search(
                scope, query, roles=roles, limit=limit, filters=filters, since=start, until=end,
                exclude_session=other_than,
            )  # fmt: skip

    async def conversation_buffer(
        self,
        *,
        window_type: str = "turns",
        window_size: float = 10,
        ttl_seconds: float | None = None,
    ) -> ConversationBuffer:
        """The recent window of sessions by ``turns``, ``tokens`` or ``time`` (seconds),
        empty after ``ttl_seconds`` of inactivity (the turns stay stored)."""
        policy = BufferPolicy(window_type, window_size, ttl_seconds)
        await self._ready()
        return ConversationBuffer(self._messages, self.cache, default_token_counter(), policy)

    async def conversation_summary(
        self,
        *,
        buffer_window_size: int = 10,
        max_total_tokens: int = 4000,
        summary_context_weight: float = 0.3,
        fold_every: int = 1,
    ) -> ConversationSummary:
        """Recent turns plus a progressive summary of older ones (LLM when configured, else
        the offline summariser), within ``max_total_tokens``; turns are folded once
        ``fold_every`` of them have left the last ``buffer_window_size``."""
        policy = SummaryPolicy(
            buffer_window_size, max_total_tokens, summary_context_weight, fold_every
        )
        await self._ready()
        counter = default_token_counter()
        return ConversationSummary(
            self._messages,
            self._summaries,
            SessionSummarizer(self.llm, counter),
            self.cache,
            counter,
            policy,
        )

    async def health(self, *, probe_llm: bool = False) -> HealthReport:
        """Each dependency (PostgreSQL, cache, embedder, LLM) with status and latency.

        The LLM is called only with ``probe_llm=True``. Raises only if the engine
        cannot open at all (e.g. PostgreSQL unreachable at start-up).
        """
        await self._ready()
        return await check_dependencies(
            self.db, self.cache, self.embedder, self.llm, probe_llm=probe_llm
        )
