"""``/settings`` (versioned, with history) and ``/kv`` (JSON values by namespace).

Both are scoped to a user (and optionally an agent and session, as query
parameters). Changes made through the service record the API key as their actor.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from mnemo.errors import NotFound
from mnemo.service.auth import Principal
from mnemo.service.deps import MemoryDep, PrincipalDep, UserIdPath
from mnemo.service.schemas import API_PREFIX, RollbackIn, ScopeId, ValueIn

router = APIRouter(prefix=API_PREFIX, tags=["settings and key-value"])
KeyPath = Annotated[str, Path(min_length=1, max_length=255)]
AgentQuery = Annotated[ScopeId | None, Query()]
SessionQuery = Annotated[ScopeId | None, Query()]


@router.get("/settings/{user_id}")
async def active_settings(
    user_id: UserIdPath,
    memory: MemoryDep,
    agent_id: AgentQuery = None,
    session_id: SessionQuery = None,
) -> dict[str, Any]:
    """Every active setting of the scope, by key."""
    return await memory.settings.active(user_id=user_id, agent_id=agent_id, session_id=session_id)


@router.get("/settings/{user_id}/{key}/history")
async def setting_history(
    user_id: UserIdPath, key: KeyPath, memory: MemoryDep,
    agent_id: AgentQuery = None, session_id: SessionQuery = None,
) -> Any:  # fmt: skip
    """Every change of the setting, oldest first, with old and new value, actor, reason."""
    return await memory.settings.history(
        key, user_id=user_id, agent_id=agent_id, session_id=session_id
    )


@router.get("/settings/{user_id}/{key}")
async def get_setting(
    user_id: UserIdPath, key: KeyPath, memory: MemoryDep,
    agent_id: AgentQuery = None, session_id: SessionQuery = None,
) -> Any:  # fmt: skip
    """The setting with its version; 404 when it is not set."""
    entry = await memory.settings.entry(
        key, user_id=user_id, agent_id=agent_id, session_id=session_id
    )
    if entry is None:
        raise NotFound(f"no setting {key!r} in this scope")
    return entry


@router.put("/settings/{user_id}/{key}")
async def set_setting(
    user_id: UserIdPath, key: KeyPath, body: ValueIn, memory: MemoryDep, caller: PrincipalDep,
    agent_id: AgentQuery = None, session_id: SessionQuery = None,
) -> Any:  # fmt: skip
    """Change a setting (``expected_version`` makes it conditional); the new entry."""
    return await memory.settings.set(
        key, body.value, user_id=user_id, agent_id=agent_id, session_id=session_id,
        expected_version=body.expected_version, reason=body.reason,
        ttl_seconds=body.ttl_seconds, actor=_actor(caller),
    )  # fmt: skip


@router.post("/settings/{user_id}/{key}/rollback")
async def rollback_setting(
    user_id: UserIdPath, key: KeyPath, body: RollbackIn, memory: MemoryDep, caller: PrincipalDep,
    agent_id: AgentQuery = None, session_id: SessionQuery = None,
) -> Any:  # fmt: skip
    """Make the setting hold what version ``to_version`` set (recorded as a new version);
    the new entry, or ``null`` when that version was a removal; 404 for no such version."""
    return await memory.settings.rollback(
        key, body.to_version, user_id=user_id, agent_id=agent_id, session_id=session_id,
        expected_version=body.expected_version, reason=body.reason, actor=_actor(caller),
    )  # fmt: skip


@router.delete("/settings/{user_id}/{key}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_setting(
    user_id: UserIdPath, key: KeyPath, memory: MemoryDep, caller: PrincipalDep,
    agent_id: AgentQuery = None, session_id: SessionQuery = None,
) -> Response:  # fmt: skip
    """Remove a setting (its history is kept); 404 when it was not set."""
    removed = await memory.settings.delete(
        key, user_id=user_id, agent_id=agent_id, session_id=session_id, actor=_actor(caller)
    )
    if not removed:
        raise NotFound(f"no setting {key!r} in this scope")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/kv/{user_id}/{namespace}")
async def list_values(
    user_id: UserIdPath, namespace: KeyPath, memory: MemoryDep,
    agent_id: AgentQuery = None, session_id: SessionQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:  # fmt: skip
    """The namespace's live entries in key order."""
    return await memory.kv.list(
        namespace, user_id=user_id, agent_id=agent_id, session_id=session_id, limit=limit
    )


@router.get("/kv/{user_id}/{namespace}/{key}")
async def get_value(
    user_id: UserIdPath, namespace: KeyPath, key: KeyPath, memory: MemoryDep,
    agent_id: AgentQuery = None, session_id: SessionQuery = None,
) -> Any:  # fmt: skip
    """The entry with its version; 404 when absent or expired."""
    entry = await memory.kv.entry(
        namespace, key, user_id=user_id, agent_id=agent_id, session_id=session_id
    )
    if entry is None:
        raise NotFound(f"no key {key!r} in namespace {namespace!r}")
    return entry


@router.put("/kv/{user_id}/{namespace}/{key}")
async def set_value(
    user_id: UserIdPath, namespace: KeyPath, key: KeyPath, body: ValueIn, memory: MemoryDep,
    caller: PrincipalDep, agent_id: AgentQuery = None, session_id: SessionQuery = None,
) -> Any:  # fmt: skip
    """Store a JSON value (``ttl_seconds`` makes it expire); the new entry."""
    return await memory.kv.set(
        namespace, key, body.value, user_id=user_id, agent_id=agent_id, session_id=session_id,
        ttl_seconds=body.ttl_seconds, expected_version=body.expected_version,
        actor=_actor(caller), reason=body.reason,
    )  # fmt: skip


@router.delete("/kv/{user_id}/{namespace}/{key}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_value(
    user_id: UserIdPath, namespace: KeyPath, key: KeyPath, memory: MemoryDep,
    caller: PrincipalDep, agent_id: AgentQuery = None, session_id: SessionQuery = None,
) -> Response:  # fmt: skip
    """Remove a key; 404 when it was absent."""
    removed = await memory.kv.delete(
        namespace, key, user_id=user_id, agent_id=agent_id, session_id=session_id,
        actor=_actor(caller),
    )  # fmt: skip
    if not removed:
        raise NotFound(f"no key {key!r} in namespace {namespace!r}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _actor(caller: Principal) -> str:
    return f"api-key:{caller.key_id}" if caller.key_id else "local"
