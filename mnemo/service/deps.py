"""Dependencies routes declare: the service state, the caller, the caller's engine view."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Path, Query, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from mnemo.engine import AsyncMemory
from mnemo.errors import Forbidden
from mnemo.service.auth import Principal
from mnemo.service.state import ServiceState

_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key>")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="the API key")


def service_state(request: Request) -> ServiceState:
    """The state the app's lifespan opened."""
    state: ServiceState = request.app.state.mnemo
    return state


StateDep = Annotated[ServiceState, Depends(service_state)]


async def principal(
    state: StateDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_header)],
) -> Principal:
    """The authenticated caller, within its key's rate limit."""
    key = api_key or (bearer.credentials if bearer is not None else None)
    caller = await state.admit(key)
    if caller.bound_user_id is not None:
        raise Forbidden(
            f"this API key is bound to user {caller.bound_user_id!r} and serves only /mcp; "
            "use a tenant-wide key for the REST API"
        )
    return caller


PrincipalDep = Annotated[Principal, Depends(principal)]


def tenant_memory(state: StateDep, caller: PrincipalDep) -> AsyncMemory:
    """The engine, viewed as the caller's tenant."""
    return state.engine.for_tenant(caller.tenant_id)


MemoryDep = Annotated[AsyncMemory, Depends(tenant_memory)]
UserIdPath = Annotated[str, Path(min_length=1, max_length=255, description="the user's id")]
MemoryIdPath = Annotated[UUID, Path(description="the memory's id")]
UserIdQuery = Annotated[str, Query(min_length=1, max_length=255)]
