"""The job queue from the store's side: defer jobs in a transaction, read the queue's state.

The queue is procrastinate's tables and functions (revision 0004). Deferring goes
through ``procrastinate_defer_jobs_v1`` on the caller's connection, so a job is
committed together with the rows it will work on — or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from mnemo.errors import Conflict
from mnemo.store.postgres.database import Connection, Database
from mnemo.store.postgres.queries import query

__all__ = ["FailedJob", "JobRequest", "JobStore", "job_params"]


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRequest:
    """A job to defer: its task, queue, keyword arguments and optional lock."""

    task: str
    queue: str
    args: dict[str, Any] = field(default_factory=dict)
    lock: str | None = None
    queueing_lock: str | None = None
    priority: int = 0
    scheduled_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FailedJob:
    """A job that failed for good (its retries exhausted)."""

    id: int
    queue: str
    task: str
    args: dict[str, Any]
    attempts: int
    at: datetime | None


class JobStore:
    """Deferring and inspecting jobs."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def defer(self, conn: Connection, job: JobRequest) -> int:
        """Defer ``job`` inside the caller's transaction; its id."""
        cursor = await conn.execute(query("jobs", "defer_job"), job_params(job))
        row = await cursor.fetchone()
        assert row is not None  # the function returns one id per job
        return int(row[0])

    async def defer_now(self, job: JobRequest, *, tenant_id: str | None = None) -> int:
        """Defer ``job`` in a transaction of its own; its id."""
        async with self.db.transaction(tenant_id) as conn:
            return await self.defer(conn, job)

    async def defer_unless_waiting(
        self, job: JobRequest, *, tenant_id: str | None = None
    ) -> int | None:
        """``defer_now``, or ``None`` when a job with the same queueing lock is waiting."""
        try:
            return await self.defer_now(job, tenant_id=tenant_id)
        except Conflict:
            if job.queueing_lock is None:
                raise
            return None

    async def queue_counts(self, queues: Sequence[str]) -> dict[str, dict[str, int]]:
        """Jobs per queue and status (``{"mnemo.extraction": {"todo": 3, ...}}``)."""
        rows = await self.db.fetch(query("jobs", "queue_counts"), {"queues": list(queues)})
        counts: dict[str, dict[str, int]] = {}
        for row in rows:
            counts.setdefault(row["queue_name"], {})[row["status"]] = int(row["jobs"])
        return counts

    async def ready_jobs(self, queues: Sequence[str]) -> int:
        """Jobs of ``queues`` waiting and due (a burst worker stops when there are none)."""
        rows = await self.db.fetch(query("jobs", "ready_jobs"), {"queues": list(queues)})
        return int(rows[0]["ready"])

    async def failed_jobs(self, queues: Sequence[str], *, limit: int = 20) -> list[FailedJob]:
        """The most recent jobs that failed for good."""
        rows = await self.db.fetch(
            query("jobs", "failed_jobs"), {"queues": list(queues), "limit": limit}
        )
        return [
            FailedJob(
                id=int(row["id"]),
                queue=row["queue_name"],
                task=row["task_name"],
                args=row["args"],
                attempts=int(row["attempts"]),
                at=row["at"],
            )
            for row in rows
        ]

    async def live_workers(self, *, heartbeat_within: float) -> int:
        """Workers that sent a heartbeat in the last ``heartbeat_within`` seconds."""
        rows = await self.db.fetch(query("jobs", "live_workers"), {"seconds": heartbeat_within})
        return int(rows[0]["live"])


def job_params(job: JobRequest | None) -> dict[str, Any]:
    """The ``job_*`` parameters of a ``procrastinate_job_to_defer_v1`` row (all ``None``
    without a job): ``defer_job`` and ``messages.append_turns`` take them."""
    if job is None:
        return dict.fromkeys(_JOB_FIELDS)
    return {
        "job_queue": job.queue,
        "job_task": job.task,
        "job_priority": job.priority,
        "job_lock": job.lock,
        "job_queueing_lock": job.queueing_lock,
        "job_args": Jsonb(job.args),
        "job_scheduled_at": job.scheduled_at,
    }


_JOB_FIELDS = (
    "job_queue", "job_task", "job_priority", "job_lock", "job_queueing_lock", "job_args",
    "job_scheduled_at",
)  # fmt: skip
