"""``/memories``: create, read, list, change, delete, history, provenance, search."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import JSONResponse

from mnemo.errors import InvalidInput
from mnemo.service.deps import MemoryDep, MemoryIdPath, StateDep, UserIdPath, UserIdQuery
from mnemo.service.schemas import (
    API_PREFIX,
    MAX_QUERY_CHARS,
    MAX_SEARCH_RESULTS,
    CreatedOut,
    EventOut,
    Kind,
    MemoryBatch,
    MemoryCreate,
    MemoryOut,
    MemoryPage,
    MemoryUpdate,
    ProvenanceOut,
    QueuedOut,
    ScopeId,
    SearchBody,
    SearchOut,
)

router = APIRouter(prefix=f"{API_PREFIX}/memories", tags=["memories"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=MemoryOut,
    responses={status.HTTP_202_ACCEPTED: {"model": QueuedOut}},
)
async def create_memory(body: MemoryCreate, memory: MemoryDep) -> Any:
    """Store one memory of ``user_id`` (embedded here unless ``embedding`` is given).

    With ``infer`` the text is stored as a conversation turn and its extraction is
    queued: 202 with the turn's id, and no memory yet.
    """
    item = body.engine_item()
    content = item.pop("content")
    result = await memory.add(content, user_id=body.user_id, infer=body.infer, **item)
    if body.infer:
        queued = QueuedOut(ids=result.ids, extraction=result.extraction)
        return JSONResponse(queued.model_dump(), status_code=status.HTTP_202_ACCEPTED)
    return result.memories[0]


@router.post("/batch", status_code=status.HTTP_201_CREATED, response_model=CreatedOut)
async def create_memories(body: MemoryBatch, memory: MemoryDep, state: StateDep) -> Any:
    """Store many memories of one user, all or none; their ids in input order."""
    if len(body.items) > state.settings.max_batch:
        raise InvalidInput(
            f"at most {state.settings.max_batch} items per batch, got {len(body.items)}"
        )
    ids = await memory.add_many(
        [item.engine_item() for item in body.items],
        user_id=body.user_id,
        agent_id=body.agent_id,
        session_id=body.session_id,
        contextual=body.contextual,
        infer=body.infer,
    )
    return {"ids": ids}


@router.get("", response_model=MemoryPage)
async def list_memories(
    memory: MemoryDep,
    state: StateDep,
    user_id: UserIdQuery,
    agent_id: Annotated[ScopeId | None, Query()] = None,
    session_id: Annotated[ScopeId | None, Query()] = None,
    kind: Annotated[list[Kind] | None, Query(max_length=7)] = None,
    filters: Annotated[str | None, Query(max_length=10_000, description="a JSON filter")] = None,
    status: Annotated[
        Literal["active", "superseded", "deleted"] | None,
        Query(
            description="active (the default), superseded, or deleted (as history last saw them)"
        ),
    ] = None,
    contains: Annotated[
        str | None, Query(min_length=1, max_length=1000, description="text the content holds")
    ] = None,
    as_of: Annotated[
        datetime | None, Query(description="the memories valid at this time (without status)")
    ] = None,
    limit: Annotated[int, Query(ge=1)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Any:
    """A user's memories, newest first, one page at a time: current ones, or those
    superseded, deleted, or valid at ``as_of``; ``contains`` narrows to a text."""
    if limit > state.settings.max_page_size:
        raise InvalidInput(f"limit must be at most {state.settings.max_page_size}, got {limit}")
    items = await memory.inspect.memories(
        user_id=user_id,
        agent_id=agent_id,
        session_id=session_id,
        status=status,
        contains=contains,
        kinds=kind,
        filters=_json_filter(filters),
        as_of=as_of,
        limit=limit,
        offset=offset,
    )
    more = len(items) == limit
    return {
        "items": items,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if more else None,
    }


# A lookup by id may name the memory's user: then only that user's memory is found, and
# on a Citus cluster the lookup runs on that user's shard instead of on every shard.
OwnerQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=255,
        description="the memory's user, if known: 404 for another user's memory",
    ),
]


@router.get("/{memory_id}", response_model=MemoryOut)
async def get_memory(memory_id: MemoryIdPath, memory: MemoryDep, user_id: OwnerQuery = None) -> Any:
    """One memory; 404 when it does not exist in the caller's tenant (or user, if named)."""
    return await memory.get(str(memory_id), user_id=user_id)


@router.patch("/{memory_id}", response_model=MemoryOut)
async def update_memory(
    memory_id: MemoryIdPath, body: MemoryUpdate, memory: MemoryDep, user_id: OwnerQuery = None
) -> Any:
    """Change a memory; the previous version stays in its history."""
    changes = body.model_dump(exclude_none=True)
    return await memory.update(str(memory_id), user_id=user_id, **changes)


@router.delete("/{memory_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_memory(
    memory_id: MemoryIdPath, memory: MemoryDep, user_id: OwnerQuery = None
) -> Response:
    """Delete a memory; its history keeps what it was."""
    await memory.delete(str(memory_id), user_id=user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{memory_id}/provenance", response_model=ProvenanceOut)
async def memory_provenance(memory_id: MemoryIdPath, memory: MemoryDep) -> Any:
    """Where a memory came from and what it became: its source turns (with their
    extraction states), the memory that superseded it and those it superseded.
    Also answers for a memory deleted or merged away, from its history."""
    return await memory.inspect.provenance(str(memory_id))


@router.get("/{memory_id}/history", response_model=list[EventOut])
async def memory_history(
    memory_id: MemoryIdPath, memory: MemoryDep, user_id: OwnerQuery = None
) -> Any:
    """Every change of a memory, oldest first."""
    return await memory.history(str(memory_id), user_id=user_id)


@router.post("/{user_id}/search", response_model=SearchOut)
async def search_memories(
    user_id: UserIdPath,
    memory: MemoryDep,
    body: SearchBody | None = None,
    query: Annotated[str | None, Query(min_length=1, max_length=MAX_QUERY_CHARS)] = None,
    top_k: Annotated[int | None, Query(ge=1, le=MAX_SEARCH_RESULTS)] = None,
    as_of: Annotated[datetime | None, Query()] = None,
) -> Any:
    """The user's memories most relevant to ``query``, best first, with score breakdowns.

    ``query`` and ``top_k`` may come as query parameters (as in the long-form memory
    service) or in the JSON body, which also takes ``filters``, ``kinds``,
    ``agent_id``, ``session_id`` and ``as_of``.
    """
    options = body or SearchBody()
    text = options.query or query
    if text is None:
        raise InvalidInput("query is required (as a query parameter or in the body)")
    hits = await memory.search(
        text,
        user_id=user_id,
        limit=options.top_k or top_k or 10,
        filters=options.filters,
        kinds=options.kinds,
        agent_id=options.agent_id,
        session_id=options.session_id,
        as_of=options.as_of or as_of,
    )
    weights = memory.config.search.weights.shares()
    return {"user_id": user_id, "query": text, "results": hits, "weights": weights}


def _json_filter(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"filters is not valid JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise InvalidInput("filters must be a JSON object")
    return value
