"""``create_app(settings)``: the FastAPI application of the mnemo service.

Routes live under ``/api/v1`` (see ``routes``), Prometheus metrics at
``/metrics``, the OpenAPI docs at ``/docs``, the memory inspector at ``/ui``, and
the MCP tools at ``/mcp`` when the ``mcp`` extra is installed (``mnemo.mcp.http``).
The lifespan opens one engine for all tenants and closes it after the last
in-flight request (uvicorn waits for those on SIGTERM), flushing buffered
statistics. Without API keys (the local mode) every path answers loopback
``Host`` and ``Origin`` headers only (``mnemo.service.loopback``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from typing import TYPE_CHECKING, Any, cast

from fastapi import FastAPI, Response

import mnemo
from mnemo.config import MnemoConfig
from mnemo.errors import MnemoError
from mnemo.service.deps import StateDep
from mnemo.service.errors import install_error_handlers
from mnemo.service.inspector import mount_inspector
from mnemo.service.limits import BodyLimitMiddleware
from mnemo.service.loopback import LoopbackOnlyMiddleware
from mnemo.service.metrics import MetricsMiddleware, ServiceMetrics
from mnemo.service.routes import api_routers
from mnemo.service.settings import ServiceSettings
from mnemo.service.state import ServiceState

if TYPE_CHECKING:
    from mnemo.mcp.http import McpEndpoint

logger = logging.getLogger("mnemo.service")
MCP_PATH = "/mcp"
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


def create_app(
    settings: ServiceSettings | None = None, *, config: MnemoConfig | None = None
) -> FastAPI:
    """The service for ``settings`` (default: the environment).

    ``config`` replaces the engine configuration ``settings`` would build (tests
    pass one holding an already loaded embedder). Nothing connects until the
    app's lifespan starts.
    """
    settings = settings or ServiceSettings()
    settings.auth_mode()  # refuse an unsafe configuration before serving anything

    metrics = ServiceMetrics()
    mcp = _mcp_endpoint(settings, metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = await ServiceState.start(settings, config, metrics)
        app.state.mnemo = state
        try:
            async with mcp.running() if mcp is not None else nullcontext():
                yield
        finally:
            await state.stop()

    app = FastAPI(
        title="mnemo",
        version=mnemo.__version__,
        description="Long-term memory for LLM applications, on PostgreSQL + pgvector.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for router in api_routers():
        app.include_router(router)
    app.add_api_route("/metrics", _metrics, methods=["GET"], include_in_schema=False)
    if mcp is not None:
        # An ASGI app, not a request handler: Starlette's Route serves it as one.
        app.add_route(MCP_PATH, cast("Any", mcp), include_in_schema=False)
    mount_inspector(app)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_request_bytes,
        max_import_bytes=settings.max_import_bytes,
    )
    if settings.auth_mode() == "none":  # no key protects the port from web pages
        app.add_middleware(LoopbackOnlyMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app


def _mcp_endpoint(settings: ServiceSettings, metrics: ServiceMetrics) -> McpEndpoint | None:
    """The MCP endpoint, when the ``mcp`` extra is installed."""
    try:
        from mnemo.mcp.http import McpEndpoint
    except ImportError:
        logger.info("no MCP endpoint at %s: pip install 'mnemo[mcp]' to serve one", MCP_PATH)
        return None
    return McpEndpoint(settings, observe=metrics.observe_tool)


async def _metrics(state: StateDep) -> Response:
    """Prometheus text exposition of this instance's metrics (queues read at each scrape)."""
    try:
        state.metrics.record_queues((await state.engine.job_stats())["queues"])
    except MnemoError as exc:  # the scrape still answers; readiness reports the cause
        logger.warning("could not read the job queues for /metrics: %s", exc)
    return Response(state.metrics.exposition(), media_type=PROMETHEUS_TEXT)
