"""The procrastinate ``App`` that runs mnemo's jobs, with each task bound to its handler."""

from __future__ import annotations

from typing import Any

import procrastinate

from mnemo.config import LifecycleConfig
from mnemo.lifecycle.jobs.handlers import JobHandlers
from mnemo.lifecycle.jobs.queue import (
    CLEANUP,
    EXTRACT,
    EXTRACTION_QUEUE,
    INDEX_SCOPE,
    MAINTENANCE_QUEUE,
    OPTIMIZE,
    SUMMARIZE,
    SWEEP,
    BackoffRetry,
)

__all__ = ["build_app"]


def build_app(handlers: JobHandlers, config: LifecycleConfig, conninfo: str) -> procrastinate.App:
    """An app whose tasks run ``handlers``, queueing on the database at ``conninfo``.

    The queue gets a small pool of its own (its listener holds one connection for
    good), so queue traffic never starves the engine's pool.
    """
    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo, min_size=1, max_size=config.worker_concurrency + 2, name="mnemo-queue"
    )
    app = procrastinate.App(connector=connector)
    retry = BackoffRetry.from_config(config)

    @app.task(name=EXTRACT, queue=EXTRACTION_QUEUE, retry=retry, pass_context=True)
    async def extract(
        context: procrastinate.JobContext, *, tenant_id: str, user_id: str
    ) -> dict[str, Any]:
        return await handlers.extract(tenant_id, user_id, attempt=context.job.attempts)

    @app.task(name=OPTIMIZE, queue=MAINTENANCE_QUEUE, retry=retry)
    async def optimize(*, tenant_id: str, user_id: str) -> dict[str, int]:
        return await handlers.optimize(tenant_id, user_id)

    @app.task(name=CLEANUP, queue=MAINTENANCE_QUEUE, retry=retry)
    async def cleanup(*, tenant_id: str) -> dict[str, int]:
        return await handlers.cleanup(tenant_id)

    @app.task(name=SUMMARIZE, queue=MAINTENANCE_QUEUE, retry=retry)
    async def summarize(
        *, tenant_id: str, user_id: str, session_id: str, policy: dict[str, Any]
    ) -> dict[str, Any]:
        return await handlers.summarize(tenant_id, user_id, session_id, policy)

    @app.task(name=INDEX_SCOPE, queue=MAINTENANCE_QUEUE, retry=retry)
    async def index_scope(*, tenant_id: str, user_id: str, table: str) -> dict[str, int]:
        return await handlers.index_scope(tenant_id, user_id, table)

    @app.task(name=SWEEP, queue=MAINTENANCE_QUEUE, pass_context=True)
    async def sweep(context: procrastinate.JobContext, timestamp: int) -> dict[str, int]:
        async def delete_old_jobs(hours: int) -> None:
            await context.app.job_manager.delete_old_jobs(nb_hours=hours)

        return await handlers.sweep(delete_old_jobs)

    if config.maintenance_cron:
        app.periodic(cron=config.maintenance_cron, periodic_id="mnemo")(sweep)
    return app
