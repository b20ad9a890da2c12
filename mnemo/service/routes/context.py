"""``/context``: the orchestrated, token-budgeted context of a user (``AsyncMemory.context``).

Instructions and settings, the session's summary and recent turns, relevant
memories, entities, working memory and reference passages, deduplicated and
within ``max_tokens``; a section that fails or times out is reported in
``errors`` (the answer is still 200), bad input is 422.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from mnemo.service.deps import MemoryDep
from mnemo.service.schemas import API_PREFIX, ContextBody, ContextOut

router = APIRouter(prefix=API_PREFIX, tags=["context"])


@router.post("/context", response_model=ContextOut)
async def build_context(body: ContextBody, memory: MemoryDep) -> Any:
    """Everything the model should know to answer ``query``, as text and as sections."""
    result = await memory.context(
        body.query,
        user_id=body.user_id,
        session_id=body.session_id,
        agent_id=body.agent_id,
        max_tokens=body.max_tokens,
        priorities=body.priorities,
        sections=body.sections,
    )
    return result.as_dict()
