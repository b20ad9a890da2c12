"""mnemo's jobs on procrastinate: names, queues, locks, retries, and the app that runs them.

Jobs and what they do (the bodies are :class:`~mnemo.lifecycle.jobs.handlers.JobHandlers`):

    mnemo.extract            drain one user's pending turns (queue mnemo.extraction)
    mnemo.optimize_user      decay, consolidate and clean one user (mnemo.maintenance)
    mnemo.cleanup_tenant     remove a tenant's expired key-value / working rows
    mnemo.summarize_session  fold a session's older turns into its summary
    mnemo.index_scope        build a very large scope's own vector index
    mnemo.maintenance_sweep  periodic (``maintenance_cron``): defer the three above
                             for everyone, re-queue stranded extraction, prune old jobs

Every job touching one user carries the lock ``mnemo:<tenant>:<user>``, so a
user's extraction and upkeep never run at the same time (reconciliation reads
and writes the same memories). Failures retry with exponential back-off
(:class:`BackoffRetry`); a job that keeps failing ends ``failed``, visible in
``job_stats``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import procrastinate
from procrastinate.jobs import Job

from mnemo.config import LifecycleConfig
from mnemo.store.postgres.jobs import JobRequest

__all__ = [
    "CLEANUP",
    "EXTRACT",
    "EXTRACTION_QUEUE",
    "INDEX_SCOPE",
    "MAINTENANCE_QUEUE",
    "OPTIMIZE",
    "QUEUES",
    "SUMMARIZE",
    "SWEEP",
    "BackoffRetry",
    "cleanup_job",
    "extract_job",
    "index_scope_job",
    "optimize_job",
    "summarize_job",
    "user_lock",
]

EXTRACTION_QUEUE = "mnemo.extraction"
MAINTENANCE_QUEUE = "mnemo.maintenance"
QUEUES = (EXTRACTION_QUEUE, MAINTENANCE_QUEUE)

EXTRACT = "mnemo.extract"
OPTIMIZE = "mnemo.optimize_user"
CLEANUP = "mnemo.cleanup_tenant"
SUMMARIZE = "mnemo.summarize_session"
SWEEP = "mnemo.maintenance_sweep"
INDEX_SCOPE = "mnemo.index_scope"


def user_lock(tenant_id: str, user_id: str) -> str:
    """The lock serialising one user's jobs (JSON, so no separator can be forged)."""
    return "mnemo:" + json.dumps([tenant_id, user_id], separators=(",", ":"))


def extract_job(tenant_id: str, user_id: str) -> JobRequest:
    """Drain the user's pending turns (extraction before upkeep: higher priority)."""
    return JobRequest(
        task=EXTRACT, queue=EXTRACTION_QUEUE, priority=10,
        args={"tenant_id": tenant_id, "user_id": user_id}, lock=user_lock(tenant_id, user_id),
    )  # fmt: skip


def optimize_job(tenant_id: str, user_id: str) -> JobRequest:
    """Decay, consolidate and clean up one user."""
    return JobRequest(
        task=OPTIMIZE, queue=MAINTENANCE_QUEUE,
        args={"tenant_id": tenant_id, "user_id": user_id}, lock=user_lock(tenant_id, user_id),
    )  # fmt: skip


def cleanup_job(tenant_id: str) -> JobRequest:
    """Remove a tenant's expired rows."""
    return JobRequest(task=CLEANUP, queue=MAINTENANCE_QUEUE, args={"tenant_id": tenant_id})


def summarize_job(
    tenant_id: str, user_id: str, session_id: str, policy: dict[str, Any]
) -> JobRequest:
    """Fold one session's summary under ``policy`` (``SummaryPolicy`` fields)."""
    return JobRequest(
        task=SUMMARIZE, queue=MAINTENANCE_QUEUE,
        args={"tenant_id": tenant_id, "user_id": user_id, "session_id": session_id,
              "policy": policy},
        lock=user_lock(tenant_id, user_id),
    )  # fmt: skip


def index_scope_job(tenant_id: str, user_id: str, table: str) -> JobRequest:
    """Build the index of one scope's rows of ``table``; one waiting job per scope and table.

    No user lock: the index is built concurrently with the user's writes and jobs."""
    key = json.dumps(["index", tenant_id, user_id, table], separators=(",", ":"))
    return JobRequest(
        task=INDEX_SCOPE, queue=MAINTENANCE_QUEUE, queueing_lock="mnemo:" + key,
        args={"tenant_id": tenant_id, "user_id": user_id, "table": table},
    )  # fmt: skip


class BackoffRetry(procrastinate.BaseRetryStrategy):
    """Retry after ``base * 2 ** attempts`` seconds (at most ``cap``), ``attempts`` times in all."""

    def __init__(self, *, attempts: int, base_seconds: float, max_seconds: float) -> None:
        self.attempts = attempts
        self.base_seconds = base_seconds
        self.max_seconds = max_seconds

    @classmethod
    def from_config(cls, config: LifecycleConfig) -> BackoffRetry:
        return cls(
            attempts=config.job_attempts,
            base_seconds=config.retry_base_seconds,
            max_seconds=config.retry_max_seconds,
        )

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the job failed ``attempts + 1`` times."""
        return float(min(self.max_seconds, self.base_seconds * 2 ** min(attempts, 30)))

    def get_retry_decision(
        self, *, exception: BaseException, job: Job
    ) -> procrastinate.RetryDecision | None:
        """Retry unless this was the last attempt; ``job.attempts`` counts earlier failures."""
        if job.attempts + 1 >= self.attempts:
            return None
        retry_at = datetime.now(UTC) + timedelta(seconds=self.delay(job.attempts))
        return procrastinate.RetryDecision(retry_at=retry_at)
