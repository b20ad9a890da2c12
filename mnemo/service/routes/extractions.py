"""``/extractions``: the extraction queue of the tenant — turns waiting, failed
(dead-lettered, with their errors) or done — a retry of the failed ones, and the
states of given turns of a user."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from mnemo.service.deps import MemoryDep, UserIdPath
from mnemo.service.schemas import (
    API_PREFIX,
    ExtractionQueueOut,
    ExtractionStateOut,
    ExtractionStatus,
    RetryIn,
    RetryOut,
    ScopeId,
)

router = APIRouter(prefix=API_PREFIX, tags=["extraction"])


@router.get("/extractions", response_model=ExtractionQueueOut)
async def extraction_queue(
    memory: MemoryDep,
    status: ExtractionStatus = "failed",
    user_id: Annotated[ScopeId | None, Query(description="one user's turns only")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Turns in one extraction state, most recently changed first (``failed`` ones with
    their last error), the turns per state, and how many workers are alive."""
    items = await memory.inspect.extraction_queue(status=status, user_id=user_id, limit=limit)
    stats = await memory.job_stats(user_id=user_id)
    counts, live = stats["extraction"], stats["live_workers"]
    return {"status": status, "counts": counts, "items": items, "live_workers": live}


@router.post("/extractions/retry", response_model=RetryOut)
async def retry_extractions(memory: MemoryDep, body: RetryIn | None = None) -> Any:
    """Queue the dead-lettered turns of one user (or of the tenant) for extraction again."""
    user_id = body.user_id if body is not None else None
    return {"retried": await memory.retry_failed_extractions(user_id=user_id)}


@router.get("/users/{user_id}/extractions", response_model=dict[str, ExtractionStateOut])
async def extraction_states(
    user_id: UserIdPath,
    memory: MemoryDep,
    message_id: Annotated[list[str], Query(min_length=1, max_length=1000)],
) -> Any:
    """Where extraction of each given turn stands, by turn id (turns never queued are absent)."""
    return await memory.extraction_status(message_id, user_id=user_id)
