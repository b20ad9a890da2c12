"""``memory_tools``: ``remember``, ``recall`` and ``forget`` as the SDK's function tools.

The tools act for one user (and agent, tenant) fixed when they are made: the
model chooses what to remember or search for, never whose memory it is. A call
the model got wrong (empty text, an unknown id) returns a message saying so, for
the model to correct; a failure of the store itself is raised to the application.
"""

from __future__ import annotations

import json
from typing import Literal

from agents import FunctionTool, function_tool

from mnemo.engine import AsyncMemory
from mnemo.errors import InvalidInput, NotFound
from mnemo.integrations._bridge import Bridge
from mnemo.memory import Memory

Kind = Literal["note", "fact", "preference", "commitment", "instruction", "entity", "event"]


def memory_tools(
    memory: Memory | AsyncMemory,
    *,
    user_id: str,
    agent_id: str | None = None,
    tenant_id: str | None = None,
) -> list[FunctionTool]:
    """The ``remember``, ``recall`` and ``forget`` tools over ``user_id``'s memories."""
    bridge = Bridge(memory, tenant_id=tenant_id)

    async def remember(content: str, kind: Kind = "note") -> str:
        """Store something worth remembering about the user for later conversations.

        Args:
            content: The memory, as one self-contained sentence.
            kind: What sort of memory it is.
        """
        try:
            result = await bridge.arun(
                lambda m: m.add(content, kind=kind, user_id=user_id, agent_id=agent_id)
            )
        except InvalidInput as exc:
            return f"Not remembered: {exc.message}"
        return json.dumps({"remembered": result.id})

    async def recall(query: str, limit: int = 5) -> str:
        """Search the user's memories for what is relevant to a question.

        Args:
            query: What to look for, in natural language.
            limit: How many memories to return, at most.
        """
        try:
            hits = await bridge.arun(
                lambda m: m.search(query, limit=limit, user_id=user_id, agent_id=agent_id)
            )
        except InvalidInput as exc:
            return f"Could not search: {exc.message}"
        found = [{"id": h.id, "content": h.content, "kind": h.kind, "score": round(h.score, 3)}
                 for h in hits]  # fmt: skip
        return json.dumps(found, ensure_ascii=False)

    async def forget(memory_id: str) -> str:
        """Delete one of the user's memories, by the id ``recall`` gave.

        Args:
            memory_id: The memory's id.
        """
        try:
            await bridge.arun(lambda m: _forget(m, memory_id, user_id, agent_id))
        except (InvalidInput, NotFound) as exc:
            return f"Not forgotten: {exc.message}"
        return json.dumps({"forgotten": memory_id})

    return [function_tool(f, failure_error_function=None) for f in (remember, recall, forget)]


async def _forget(engine: AsyncMemory, memory_id: str, user_id: str, agent_id: str | None) -> None:
    """Delete the memory if it is this user's (and agent's): ids of others are not found."""
    record = await engine.get(memory_id)
    if record.user_id != user_id or (agent_id is not None and record.agent_id != agent_id):
        raise NotFound(f"no memory with id {memory_id}")
    await engine.delete(memory_id)
