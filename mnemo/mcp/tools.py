"""The memory tools an agent calls, each acting for the caller the transport names.

No tool takes a user or tenant id (``mnemo.mcp.identity``). Tools that take a
memory id look the memory up first and answer ``NotFound`` when it belongs to
another user, exactly as for an id that does not exist. Engine errors reach the
agent as tool errors reading ``<ErrorType>: <message>``; anything else is logged
and reported without its text.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, ParamSpec, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from mnemo.core.records import MemoryRecord
from mnemo.errors import InvalidInput, MnemoError, NotFound
from mnemo.mcp.identity import Caller, CallerResolver
from mnemo.mcp.results import (
    ContextBrief,
    ConversationStored,
    DeletedOut,
    ExtractionStatusOut,
    MemoryDeleted,
    MemoryOut,
    MemoryPage,
    MemoryWithHistory,
    SearchResults,
    SourcedHitOut,
    SourcedResults,
)
from mnemo.orchestrator import MAX_CONTEXT_TOKENS
from mnemo.service.schemas import MAX_QUERY_CHARS, MAX_SEARCH_RESULTS, Content, Kind, ScopeId, Unit

P = ParamSpec("P")
R = TypeVar("R")

EXTRACTION_STATES = ("pending", "done", "failed")
#: What ``delete_all_memories`` needs in ``confirm`` before it erases anything.
CONFIRM_ERASURE = "delete everything"

Query = Annotated[
    str, Field(min_length=1, max_length=MAX_QUERY_CHARS, description="what to look for")
]
MemoryId = Annotated[str, Field(min_length=1, max_length=64, description="a memory id (a UUID)")]
Session = Annotated[ScopeId | None, Field(description="one conversation session only")]
Agent = Annotated[ScopeId | None, Field(description="one agent's memories only")]
Filters = Annotated[
    dict[str, Any] | None,
    Field(description='metadata filter, e.g. {"topic": "travel"} or {"year": {"$gte": 2024}}'),
]
Kinds = Annotated[list[Kind] | None, Field(max_length=7, description="only these kinds")]


TurnIn = Annotated[
    dict[str, Any],
    Field(
        description='one turn: {"role": "user" | "assistant" | "tool" | "system", "content": "..."}'
    ),
]


@dataclass(frozen=True, slots=True)
class ToolLimits:
    """Bounds on one call (the service passes its own settings)."""

    max_page_size: int = 200
    max_turns: int = 1000


def tool_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Report mnemo's errors to the agent as tool errors naming their type."""

    @functools.wraps(fn)
    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except MnemoError as exc:
            raise ToolError(f"{type(exc).__name__}: {exc.message}") from exc

    return call


class MemoryTools:
    """The tools, bound to how callers are found and to the call limits."""

    def __init__(self, resolve: CallerResolver, limits: ToolLimits | None = None) -> None:
        self._resolve = resolve
        self._limits = limits or ToolLimits()

    @tool_errors
    async def add_memory(
        self,
        content: Annotated[Content, Field(description="the fact, preference, or note to keep")],
        ctx: Context[Any, Any],
        kind: Annotated[Kind, Field(description="what sort of memory this is")] = "note",
        metadata: Annotated[dict[str, Any] | None, Field(description="JSON attributes")] = None,
        importance: Annotated[Unit, Field(description="0..1, how much it matters")] = 0.5,
        confidence: Annotated[Unit, Field(description="0..1, how sure you are")] = 1.0,
        session_id: Session = None,
        agent_id: Agent = None,
    ) -> MemoryOut:
        caller = await self._resolve(ctx)
        result = await caller.memory.add(
            content, user_id=caller.user_id, kind=kind, metadata=metadata,
            importance=importance, confidence=confidence, session_id=session_id,
            agent_id=agent_id,
        )  # fmt: skip
        return MemoryOut.model_validate(result.memories[0])

    @tool_errors
    async def add_conversation(
        self,
        turns: Annotated[list[TurnIn], Field(min_length=1, description="the turns, in order")],
        ctx: Context[Any, Any],
        session_id: Session = None,
        agent_id: Agent = None,
        infer: Annotated[
            bool, Field(description="queue extraction of memories from these turns")
        ] = True,
    ) -> ConversationStored:
        if len(turns) > self._limits.max_turns:
            raise InvalidInput(f"at most {self._limits.max_turns} turns per call, got {len(turns)}")
        caller = await self._resolve(ctx)
        memory, user = caller.memory, caller.user_id
        if infer:
            result = await memory.add(
                turns, user_id=user, session_id=session_id, agent_id=agent_id, infer=True
            )
            return ConversationStored(ids=result.ids, extraction=result.extraction)
        ids = await memory.add_messages(
            turns, user_id=user, session_id=session_id, agent_id=agent_id
        )
        return ConversationStored(ids=ids, extraction={})

    @tool_errors
    async def search_memories(
        self,
        query: Query,
        ctx: Context[Any, Any],
        limit: Annotated[int, Field(ge=1, le=MAX_SEARCH_RESULTS)] = 10,
        kinds: Kinds = None,
        filters: Filters = None,
        as_of: Annotated[
            datetime | None, Field(description="what was true at this time (ISO 8601)")
        ] = None,
        session_id: Session = None,
        agent_id: Agent = None,
    ) -> SearchResults:
        caller = await self._resolve(ctx)
        hits = await caller.memory.search(
            query, user_id=caller.user_id, limit=limit, kinds=kinds, filters=filters,
            as_of=as_of, session_id=session_id, agent_id=agent_id,
        )  # fmt: skip
        return SearchResults.model_validate({"query": query, "results": hits}, from_attributes=True)

    @tool_errors
    async def get_context(
        self,
        query: Annotated[Query, Field(description="the message you are about to answer")],
        ctx: Context[Any, Any],
        max_tokens: Annotated[int, Field(ge=1, le=MAX_CONTEXT_TOKENS)] = 2000,
        session_id: Session = None,
        agent_id: Agent = None,
    ) -> ContextBrief:
        caller = await self._resolve(ctx)
        result = await caller.memory.context(
            query, user_id=caller.user_id, max_tokens=max_tokens, session_id=session_id,
            agent_id=agent_id,
        )  # fmt: skip
        return ContextBrief.of(result)

    @tool_errors
    async def list_memories(
        self,
        ctx: Context[Any, Any],
        kinds: Kinds = None,
        status: Annotated[
            Literal["active", "superseded", "deleted"] | None,
            Field(description="active (the default), superseded, or deleted"),
        ] = None,
        contains: Annotated[str | None, Field(min_length=1, max_length=1000)] = None,
        filters: Filters = None,
        limit: Annotated[int, Field(ge=1)] = 50,
        offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0,
        session_id: Session = None,
        agent_id: Agent = None,
    ) -> MemoryPage:
        if limit > self._limits.max_page_size:
            raise InvalidInput(f"limit must be at most {self._limits.max_page_size}, got {limit}")
        caller = await self._resolve(ctx)
        items = await caller.memory.inspect.memories(
            user_id=caller.user_id, kinds=kinds, status=status, contains=contains,
            filters=filters, limit=limit, offset=offset, session_id=session_id,
            agent_id=agent_id,
        )  # fmt: skip
        more = len(items) == limit
        return MemoryPage.model_validate(
            {"items": items, "limit": limit, "offset": offset,
             "next_offset": offset + limit if more else None},
            from_attributes=True,
        )  # fmt: skip

    @tool_errors
    async def get_memory(self, memory_id: MemoryId, ctx: Context[Any, Any]) -> MemoryWithHistory:
        caller = await self._resolve(ctx)
        record = await owned_memory(caller, memory_id)
        history = await caller.memory.history(record.id)
        return MemoryWithHistory.model_validate(
            {"memory": record, "history": history}, from_attributes=True
        )

    @tool_errors
    async def update_memory(
        self,
        memory_id: MemoryId,
        ctx: Context[Any, Any],
        content: Annotated[Content | None, Field(description="the corrected text")] = None,
        kind: Kind | None = None,
        metadata: Annotated[dict[str, Any] | None, Field(description="replaces it")] = None,
        importance: Unit | None = None,
        confidence: Unit | None = None,
        pinned: Annotated[bool | None, Field(description="pinned memories never decay")] = None,
    ) -> MemoryOut:
        caller = await self._resolve(ctx)
        record = await owned_memory(caller, memory_id)
        updated = await caller.memory.update(
            record.id, content, kind=kind, metadata=metadata, importance=importance,
            confidence=confidence, pinned=pinned,
        )  # fmt: skip
        return MemoryOut.model_validate(updated)

    @tool_errors
    async def delete_memory(self, memory_id: MemoryId, ctx: Context[Any, Any]) -> MemoryDeleted:
        caller = await self._resolve(ctx)
        record = await owned_memory(caller, memory_id)
        await caller.memory.delete(record.id)
        return MemoryDeleted(deleted=record.id)

    @tool_errors
    async def delete_all_memories(
        self,
        confirm: Annotated[
            str, Field(max_length=100, description=f"must read exactly {CONFIRM_ERASURE!r}")
        ],
        ctx: Context[Any, Any],
    ) -> DeletedOut:
        if confirm != CONFIRM_ERASURE:
            raise InvalidInput(
                f"nothing was deleted: confirm must read exactly {CONFIRM_ERASURE!r}, "
                "after the user asked for everything to be forgotten"
            )
        caller = await self._resolve(ctx)
        counts = await caller.memory.delete_user(caller.user_id)
        return DeletedOut(user_id=caller.user_id, deleted=counts, total=sum(counts.values()))

    @tool_errors
    async def search_all(
        self,
        query: Query,
        ctx: Context[Any, Any],
        limit: Annotated[int, Field(ge=1, le=MAX_SEARCH_RESULTS)] = 10,
        sources: Annotated[
            list[Literal["memories", "documents"]], Field(min_length=1, max_length=2)
        ] = ["memories", "documents"],  # noqa: B006 - never mutated; shown in the schema
        session_id: Session = None,
        agent_id: Agent = None,
    ) -> SourcedResults:
        caller = await self._resolve(ctx)
        hits = await caller.memory.search_all(
            query, user_id=caller.user_id, sources=sources, limit=limit, session_id=session_id,
            agent_id=agent_id,
        )  # fmt: skip
        return SourcedResults(query=query, results=[SourcedHitOut.of(hit) for hit in hits])

    @tool_errors
    async def extraction_status(
        self,
        ctx: Context[Any, Any],
        turn_ids: Annotated[
            list[str] | None,
            Field(max_length=1000, description="ids add_conversation returned"),
        ] = None,
    ) -> ExtractionStatusOut:
        caller = await self._resolve(ctx)
        memory, user = caller.memory, caller.user_id
        stats = await memory.job_stats(user_id=user)
        states = await memory.extraction_status(turn_ids, user_id=user) if turn_ids else {}
        counts = {status: 0 for status in EXTRACTION_STATES} | stats["extraction"]
        return ExtractionStatusOut.model_validate(
            {"counts": counts, "turns": states}, from_attributes=True
        )


async def owned_memory(caller: Caller, memory_id: str) -> MemoryRecord:
    """The caller's memory ``memory_id``; ``NotFound`` when it is another user's too."""
    record = await caller.memory.get(memory_id)
    if record.user_id != caller.user_id:
        raise NotFound(f"no memory with id {record.id}")
    return record
