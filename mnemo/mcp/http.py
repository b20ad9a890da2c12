"""``/mcp`` in ``mnemo serve``: the MCP tools over streamable HTTP, behind the service's
own API keys, rate limits, metrics and row-level security.

Each request is checked before the SDK's transport sees it: the key names the
tenant (401 without a valid one, 429 over its rate); the user is the one the key
is bound to (``mnemo keys create --user alice``) or, for a tenant-wide key, the
one the ``X-Mnemo-User`` header names (422 when missing; 403 when a bound key's
request names another user). Tool calls then act for that user on
``engine.for_tenant(tenant)``, whose connections row-level security confines.

The transport is stateless (any replica answers any request) and answers plain
JSON. In the unauthenticated local mode, where no key stands between a browser
and the port, the service lets only loopback Host and Origin headers through, on
every path (``mnemo.service.loopback``): the SDK's own check is therefore off.
Each tool call is timed and counted by tool and outcome (``observe``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.mcpserver import Context
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from mnemo.core.validation import require_scope_id
from mnemo.errors import Forbidden, InvalidInput, MnemoError, Unauthenticated
from mnemo.mcp.identity import Caller
from mnemo.mcp.server import ToolObserver, build_server
from mnemo.mcp.tools import ToolLimits
from mnemo.service.auth import Principal, presented_key
from mnemo.service.errors import error_response
from mnemo.service.settings import ServiceSettings
from mnemo.service.state import ServiceState

PATH = "/mcp"  # where mnemo.service.app mounts it (MCP_PATH)
#: The header a tenant-wide key uses to name the user a request acts for.
USER_HEADER = "X-Mnemo-User"
_CALLER = "mnemo.mcp.caller"
#: The service checks Host and Origin itself where that matters (the local mode).
ANY_HOST = TransportSecuritySettings(enable_dns_rebinding_protection=False)


class McpEndpoint:
    """The ASGI app at ``/mcp``: find the caller, then hand over to the SDK's transport."""

    #: The service's metrics label a request by ``scope["route"].path``.
    path = PATH

    def __init__(self, settings: ServiceSettings, *, observe: ToolObserver | None = None) -> None:
        limits = ToolLimits(max_page_size=settings.max_page_size, max_turns=settings.max_batch)
        self.server = build_server(caller_of_request, limits=limits, observe=observe)
        self._transport: ASGIApp = self.server.streamable_http_app(
            streamable_http_path=PATH,
            stateless_http=True,
            json_response=True,
            transport_security=ANY_HOST,
            max_request_body_size=settings.max_request_bytes,
        )

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Serve requests while open (inside the app's lifespan, before the engine closes).

        The SDK's session manager holds an anyio task group, which must be left by the
        task that entered it; a task of its own keeps that true even when whoever runs
        the lifespan starts and stops it from different tasks (as test fixtures do).
        """
        started, stop = asyncio.Event(), asyncio.Event()

        async def hold() -> None:
            async with self.server.session_manager.run():
                started.set()
                await stop.wait()

        holder = asyncio.create_task(hold(), name="mnemo-mcp-sessions")
        waiting = asyncio.create_task(started.wait())
        await asyncio.wait({holder, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if holder.done():
            holder.result()  # raises what stopped it from starting
        try:
            yield
        finally:
            stop.set()
            await holder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._transport(scope, receive, send)
            return
        scope.setdefault("route", self)  # refused requests are counted under /mcp too
        state: ServiceState = scope["app"].state.mnemo
        headers = Headers(scope=scope)
        try:
            key = presented_key(headers.get("authorization"), headers.get("x-api-key"))
            principal = await state.admit(key)
            user = user_of(principal, headers.get(USER_HEADER))
        except MnemoError as exc:
            await error_response(exc)(scope, receive, send)
            return
        scope[_CALLER] = Caller(state.engine.for_tenant(principal.tenant_id), user)
        await self._transport(scope, receive, send)


def user_of(principal: Principal, named: str | None) -> str:
    """The user a request acts for: the key's own, or the one a tenant-wide key names."""
    asked = require_scope_id(named, USER_HEADER, required=False)
    if principal.bound_user_id is not None:
        if asked is not None and asked != principal.bound_user_id:
            raise Forbidden(f"this API key acts for one user only, not {asked!r}")
        return principal.bound_user_id
    if asked is None:
        raise InvalidInput(
            f"name the user in the {USER_HEADER} header (or use a key made with "
            "`mnemo keys create --user ...`)"
        )
    return asked


async def caller_of_request(ctx: Context[Any, Any]) -> Caller:
    """The caller ``McpEndpoint`` found for the HTTP request carrying this tool call."""
    request = ctx.request_context.request
    caller = getattr(request, "scope", {}).get(_CALLER)
    if not isinstance(caller, Caller):  # only reachable if the endpoint was bypassed
        raise Unauthenticated("this request did not pass mnemo's /mcp endpoint")
    return caller
