"""``/conversation`` and ``/messages``: conversation turns, stored verbatim.

``POST /conversation`` is the long-form memory service's call: it stores the
user's turn and queues its extraction in one transaction, then composes the
orchestrated context of at most ``max_tokens`` for it (``AsyncMemory.context``:
settings, the session's summary and recent turns — this one included —, the
relevant memories, the relevant past turns of the user's other sessions,
entities, working memory, reference passages) and returns
the memories that context drew on (best first, at most ``top_k``).
``include_memories=false`` leaves memories out of both. A retried turn (same
session and turn number) is stored once.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status

from mnemo.orchestrator import SECTION_NAMES
from mnemo.service.deps import MemoryDep, UserIdPath, UserIdQuery
from mnemo.service.schemas import (
    API_PREFIX,
    ConversationOut,
    ConversationTurn,
    CreatedOut,
    MessageBatch,
    MessageIn,
    ProviderFormat,
    ScopeId,
    SessionOut,
)

router = APIRouter(prefix=API_PREFIX, tags=["conversation"])
DEFAULT_SESSION = "default"
WITHOUT_MEMORIES = [name for name in SECTION_NAMES if name != "vector_search"]


@router.post("/conversation", response_model=ConversationOut)
async def conversation_turn(body: ConversationTurn, memory: MemoryDep) -> Any:
    """Store a turn (extraction queued), return relevant memories and a context block."""
    session = body.session_id or DEFAULT_SESSION
    turn = {
        "role": body.role,
        "content": body.message,
        "turn_number": body.turn_number,
        "idempotency_key": f"turn:{session}:{body.turn_number}",
    }
    stored = await memory.add([turn], user_id=body.user_id, session_id=session, infer=True)
    sections = None if body.include_memories else WITHOUT_MEMORIES
    result = await memory.context(body.message, user_id=body.user_id, session_id=session,
                                  max_tokens=body.max_tokens, sections=sections)  # fmt: skip
    found = result.section("vector_search")
    hits = list(found.found_records[: body.top_k]) if found is not None else []
    return {
        "user_id": body.user_id,
        "session_id": session,
        "turn_number": body.turn_number,
        "message_id": stored.ids[0],
        "extraction": stored.extraction.get(stored.ids[0], "pending"),
        "memories": hits,
        "context": result.text,
        "context_tokens": result.tokens,
    }


@router.post("/messages", status_code=status.HTTP_201_CREATED, response_model=CreatedOut)
async def add_messages(body: MessageBatch, memory: MemoryDep) -> Any:
    """Store turns of one session verbatim (with ``infer``, extraction is queued too)."""
    turns = [
        m.model_dump(exclude_none=True, mode="json") if isinstance(m, MessageIn) else m
        for m in body.messages
    ]
    if body.infer:
        result = await memory.add(
            turns, user_id=body.user_id, session_id=body.session_id, agent_id=body.agent_id,
            infer=True, format=body.format,
        )  # fmt: skip
        return {"ids": result.ids}
    ids = await memory.add_messages(
        turns, user_id=body.user_id, session_id=body.session_id, agent_id=body.agent_id,
        format=body.format,
    )  # fmt: skip
    return {"ids": ids}


@router.get("/messages")
async def list_messages(
    memory: MemoryDep,
    user_id: UserIdQuery,
    session_id: Annotated[ScopeId | None, Query()] = None,
    after_turn: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    newest_first: bool = False,
    format: Annotated[ProviderFormat | None, Query()] = None,
) -> list[dict[str, Any]]:
    """A session's turns by turn number, ``limit`` at a time after ``after_turn`` (or
    the newest ``limit``); with ``format``, as that provider's messages, oldest first,
    ready to send (tool results with their calls)."""
    if format is not None:
        return await memory.list_messages(
            user_id=user_id, session_id=session_id, after_turn=after_turn, limit=limit,
            newest_first=newest_first, format=format,
        )  # fmt: skip
    records = await memory.list_messages(
        user_id=user_id, session_id=session_id, after_turn=after_turn, limit=limit,
        newest_first=newest_first,
    )  # fmt: skip
    return [record.for_prompt() for record in records]


@router.get("/messages/window")
async def buffer_window(
    memory: MemoryDep,
    user_id: UserIdQuery,
    session_id: Annotated[ScopeId | None, Query()] = None,
    window_type: Literal["turns", "tokens", "time"] = "turns",
    window_size: Annotated[float, Query(gt=0, le=1_000_000_000)] = 10,
    format: Annotated[ProviderFormat | None, Query()] = None,
) -> dict[str, Any]:
    """The session's recent window (``ConversationBuffer.get_context``): the last
    ``window_size`` turns, tokens or seconds; with ``format``, that provider's messages."""
    buffer = await memory.conversation_buffer(window_type=window_type, window_size=window_size)
    return await buffer.get_context(memory.scope(user_id, session_id=session_id), fmt=format)


@router.get("/messages/summarized")
async def summary_window(
    memory: MemoryDep,
    user_id: UserIdQuery,
    session_id: Annotated[ScopeId | None, Query()] = None,
    buffer_window_size: Annotated[int, Query(ge=1, le=1000)] = 10,
    max_total_tokens: Annotated[int, Query(ge=1, le=1_000_000)] = 4000,
    format: Annotated[ProviderFormat | None, Query()] = None,
) -> dict[str, Any]:
    """The session's summary and the recent turns after it, within ``max_total_tokens``
    (``ConversationSummary.get_context``); with ``format``, that provider's messages."""
    summary = await memory.conversation_summary(
        buffer_window_size=buffer_window_size, max_total_tokens=max_total_tokens
    )
    return await summary.get_context(memory.scope(user_id, session_id=session_id), fmt=format)


@router.get("/users/{user_id}/sessions", response_model=list[SessionOut])
async def list_sessions(
    user_id: UserIdPath, memory: MemoryDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> Any:
    """The user's conversation sessions, most recently active first, with turn counts,
    tool calls and their turns per extraction state."""
    return await memory.inspect.sessions(user_id=user_id, limit=limit)
