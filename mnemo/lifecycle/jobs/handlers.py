"""The bodies of mnemo's jobs, bound to one engine's services.

Each method is what one task does (see :mod:`mnemo.lifecycle.jobs.queue`) and
returns a small dict of counts, which procrastinate logs as the job's result.
Jobs carry their tenant and user in their arguments, so one worker serves
every tenant of the database.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from mnemo.core.records import Scope
from mnemo.lifecycle.cleanup import ExpiryCleaner
from mnemo.lifecycle.jobs.queue import (
    QUEUES,
    cleanup_job,
    extract_job,
    index_scope_job,
    optimize_job,
)
from mnemo.lifecycle.optimize import Optimizer
from mnemo.lifecycle.pipeline import ExtractionPipeline
from mnemo.lifecycle.scope_indexing import ScopeIndexer
from mnemo.store.postgres.extractions import ExtractionStore
from mnemo.store.postgres.jobs import JobRequest, JobStore
from mnemo.store.postgres.lifecycle import LifecycleStore

__all__ = ["EmbedTurns", "JobHandlers", "Summarize"]

logger = logging.getLogger(__name__)

#: Gives a user's turns stored without a vector their vectors: (tenant, user) -> how many.
EmbedTurns = Callable[[str, str], Awaitable[int]]
#: Folds one session's summary: (tenant, user, session, policy fields) -> turns folded.
Summarize = Callable[[str, str, str, dict[str, Any]], Awaitable[dict[str, Any]]]
#: Finished jobs older than this are deleted by the sweep (failed ones are kept).
KEEP_FINISHED_HOURS = 24


class JobHandlers:
    """What each job does; built once per engine."""

    def __init__(
        self,
        *,
        pipeline: ExtractionPipeline,
        optimizer: Optimizer,
        cleaner: ExpiryCleaner,
        extractions: ExtractionStore,
        memories: LifecycleStore,
        jobs: JobStore,
        summarize: Summarize | None = None,
        embed_turns: EmbedTurns | None = None,
        scope_indexer: ScopeIndexer | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.optimizer = optimizer
        self.cleaner = cleaner
        self.extractions = extractions
        self.memories = memories
        self.jobs = jobs
        self.summarize_session = summarize
        self.embed_turns = embed_turns
        self.scope_indexer = scope_indexer

    async def extract(self, tenant_id: str, user_id: str, *, attempt: int = 0) -> dict[str, Any]:
        """Embed the user's new turns, then drain their pending extraction; retries go
        one turn at a time. Embedding here keeps ``add(infer=True)`` a plain insert."""
        embedded = 0 if self.embed_turns is None else await self.embed_turns(tenant_id, user_id)
        batch = None if attempt == 0 else 1
        report = await self.pipeline.drain(tenant_id, user_id, batch=batch)
        return {**report.as_dict(), "embedded_turns": embedded}

    async def optimize(self, tenant_id: str, user_id: str) -> dict[str, int]:
        """Decay, consolidate and clean up one user for real."""
        report = await self.optimizer.optimize(tenant_id, user_id, dry_run=False)
        return report.counts

    async def cleanup(self, tenant_id: str) -> dict[str, int]:
        """Remove the tenant's expired rows."""
        return await self.cleaner.clean(tenant_id)

    async def summarize(
        self, tenant_id: str, user_id: str, session_id: str, policy: dict[str, Any]
    ) -> dict[str, Any]:
        """Fold the session's summary (a no-op when no summariser is wired)."""
        if self.summarize_session is None:
            return {"folded": 0}
        return await self.summarize_session(tenant_id, user_id, session_id, policy)

    async def index_scope(self, tenant_id: str, user_id: str, table: str) -> dict[str, int]:
        """Build one large scope's vector index (a no-op when no indexer is wired)."""
        if self.scope_indexer is None:
            return {"rows": 0}
        return await self.scope_indexer.build(Scope(tenant_id, user_id), table)

    async def sweep(self, delete_old_jobs: Callable[[int], Awaitable[None]]) -> dict[str, int]:
        """Defer upkeep for every user and tenant, re-queue stranded turns, prune old jobs."""
        users = await self.memories.users_with_memories()
        stranded = await self.extractions.users_with_pending()
        tenants = sorted({tenant for tenant, _ in users} | {tenant for tenant, _ in stranded})
        large = [] if self.scope_indexer is None else await self.scope_indexer.due()
        requests: list[JobRequest] = [
            *(extract_job(t, u) for t, u in stranded),
            *(optimize_job(t, u) for t, u in users),
            *(cleanup_job(t) for t in tenants),
            *(index_scope_job(s.tenant_id, s.user_id, table) for s, table in large),
        ]
        for request in requests:
            await self.jobs.defer_unless_waiting(request, tenant_id=request.args["tenant_id"])
        dropped = 0 if self.scope_indexer is None else await self.scope_indexer.drop_orphans()
        await delete_old_jobs(KEEP_FINISHED_HOURS)
        logger.info("maintenance sweep deferred %d jobs on %s", len(requests), ", ".join(QUEUES))
        return {
            "optimize": len(users), "extract": len(stranded), "cleanup": len(tenants),
            "index_scope": len(large), "dropped_indexes": dropped,
        }  # fmt: skip
