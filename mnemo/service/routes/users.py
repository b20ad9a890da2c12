"""A user as a whole: statistics, GDPR erasure, export and import.

The long-form memory service's paths (``/memories/{user_id}/stats`` and
``/memories/{user_id}/all``) are kept; export and import live under ``/users``.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from mnemo.errors import InvalidInput
from mnemo.service.deps import MemoryDep, UserIdPath
from mnemo.service.schemas import API_PREFIX, DeletedOut, ImportOut

router = APIRouter(prefix=API_PREFIX, tags=["users"])
JSONL = "application/x-ndjson"


@router.get("/memories/{user_id}/stats")
async def user_stats(user_id: UserIdPath, memory: MemoryDep) -> dict[str, Any]:
    """Rows per table and a summary of the user's memories."""
    return await memory.stats(user_id)


@router.post("/memories/{user_id}/optimize")
async def optimize_user(
    user_id: UserIdPath,
    memory: MemoryDep,
    current_turn: Annotated[int | None, Query(ge=0, description="accepted, echoed")] = None,
    dry_run: Annotated[bool, Query(description="report what would change")] = False,
) -> dict[str, Any]:
    """Decay, consolidate and clean up the user's memories; the report of the changes."""
    report = await memory.optimize(user_id, dry_run=dry_run)
    return {**report.as_dict(), "counts": report.counts, "current_turn": current_turn}


@router.get("/users/{user_id}/jobs")
async def user_jobs(user_id: UserIdPath, memory: MemoryDep) -> dict[str, Any]:
    """Where the user's extraction stands: turns per status, how many of them were
    extracted from a reply cut off by the model's token limit, live workers."""
    stats = await memory.job_stats(user_id=user_id)
    keys = ("extraction", "extraction_truncated", "live_workers")
    return {key: stats[key] for key in keys}


@router.delete("/memories/{user_id}/all", response_model=DeletedOut)
async def delete_user(user_id: UserIdPath, memory: MemoryDep) -> Any:
    """Erase everything stored about the user in every table and cache (GDPR)."""
    counts = await memory.delete_user(user_id)
    return {"user_id": user_id, "deleted": counts, "total": sum(counts.values())}


@router.get(
    "/users/{user_id}/export",
    response_class=StreamingResponse,
    responses={200: {"content": {JSONL: {}}, "description": "JSON Lines"}},
)
async def export_user(user_id: UserIdPath, memory: MemoryDep) -> StreamingResponse:
    """Everything stored about the user as JSON Lines (a header line, then one per row)."""
    lines = memory.export_user(user_id)
    first = await anext(lines)  # errors (bad user id, store down) surface before streaming

    async def body() -> AsyncIterator[bytes]:
        yield _line(first)
        async for line in lines:
            yield _line(line)

    filename = "mnemo-export-" + re.sub(r"[^A-Za-z0-9._-]", "_", user_id)[:64] + ".jsonl"
    return StreamingResponse(
        body(),
        media_type=JSONL,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post(
    "/users/{user_id}/import",
    response_model=ImportOut,
    openapi_extra={
        "requestBody": {"required": True, "content": {JSONL: {"schema": {"type": "string"}}}}
    },
)
async def import_user(user_id: UserIdPath, request: Request, memory: MemoryDep) -> Any:
    """Store an export's JSON Lines for the user (memories are re-embedded, new ids)."""
    lines = _parse_lines(await request.body())
    result = await memory.import_user(user_id, lines)
    return {"user_id": user_id, **result}


def _line(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, default=str) + "\n").encode()


def _parse_lines(body: bytes) -> list[Any]:
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise InvalidInput("the import must be UTF-8 JSON Lines") from None
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.strip():
            try:
                lines.append(json.loads(raw))
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"line {number} is not JSON: {exc.msg}") from None
    if not lines:
        raise InvalidInput("the import is empty")
    return lines
