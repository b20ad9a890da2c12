"""Liveness (``/health``) and readiness with each dependency (``/health/ready``)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

import mnemo
from mnemo.errors import MnemoError
from mnemo.service.deps import StateDep
from mnemo.service.schemas import API_PREFIX, Dependency, HealthOut, Status
from mnemo.service.state import ServiceState

router = APIRouter(prefix=f"{API_PREFIX}/health", tags=["health"])
OVERALL: dict[str, Status] = {"healthy": "ok", "degraded": "degraded", "unhealthy": "down"}


@router.get("", response_model=HealthOut)
async def health(state: StateDep) -> Any:
    """The process is up and serving."""
    return HealthOut(status="ok", version=mnemo.__version__, auth=state.auth_mode)


@router.get("/ready", response_model=HealthOut, responses={503: {"model": HealthOut}})
async def ready(state: StateDep) -> Any:
    """PostgreSQL, the cache, the embedder, the LLM and the workers, each with its status
    and latency; 503 when PostgreSQL or the embedder cannot serve."""
    report = await state.engine.health()
    checks = {
        name: Dependency(status=dep.status, latency_ms=dep.latency_ms, detail=dep.detail)
        for name, dep in report.dependencies.items()
    }
    checks["workers"] = await _workers(state)
    overall = OVERALL[report.status]
    if overall == "ok" and checks["workers"].status != "ok":
        overall = "degraded"
    body = HealthOut(status=overall, version=mnemo.__version__, auth=state.auth_mode, checks=checks)
    return JSONResponse(body.model_dump(mode="json"), status_code=503 if overall == "down" else 200)


async def _workers(state: ServiceState) -> Dependency:
    """Whether a worker is alive to run queued extraction (turns wait durably if not)."""
    start = time.perf_counter()
    try:
        stats = await state.engine.job_stats()
    except MnemoError as exc:
        return Dependency(status="down", detail=exc.message)
    latency = round((time.perf_counter() - start) * 1000, 3)
    live = int(stats["live_workers"])
    if live:
        return Dependency(status="ok", latency_ms=latency, detail=f"{live} live worker(s)")
    detail = "no live worker: turns stay queued until `mnemo worker` runs"
    return Dependency(status="degraded", latency_ms=latency, detail=detail)
