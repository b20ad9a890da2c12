"""Durable jobs on PostgreSQL (procrastinate): extraction, upkeep, clean-up, summaries.

``queue`` names the jobs and builds their requests, ``handlers`` holds what each
job does, ``app`` binds them into a procrastinate app, ``runner`` runs a worker
(with the retry of jobs left behind by dead workers).
"""

from mnemo.lifecycle.jobs.app import build_app
from mnemo.lifecycle.jobs.handlers import JobHandlers
from mnemo.lifecycle.jobs.queue import (
    CLEANUP,
    EXTRACT,
    EXTRACTION_QUEUE,
    INDEX_SCOPE,
    MAINTENANCE_QUEUE,
    OPTIMIZE,
    QUEUES,
    SUMMARIZE,
    SWEEP,
    BackoffRetry,
    cleanup_job,
    extract_job,
    index_scope_job,
    optimize_job,
    summarize_job,
    user_lock,
)
from mnemo.lifecycle.jobs.runner import WorkerOptions, WorkerRunner

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
    "JobHandlers",
    "WorkerOptions",
    "WorkerRunner",
    "build_app",
    "cleanup_job",
    "extract_job",
    "index_scope_job",
    "optimize_job",
    "summarize_job",
    "user_lock",
]
