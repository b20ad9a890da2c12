"""Honouring cancellation where driver errors are caught.

Cancelling a task in the middle of a database call can surface as a driver
error (psycopg cancels the query on the server and reports it) instead of
``asyncio.CancelledError``. Code that catches driver errors — to count a failed
attempt, or to retry later — calls :func:`raise_if_cancelling` first, so a
shutdown is never mistaken for a failure.
"""

from __future__ import annotations

import asyncio

__all__ = ["raise_if_cancelling"]


def raise_if_cancelling(exc: BaseException) -> None:
    """Raise ``CancelledError`` (from ``exc``) if the current task is being cancelled."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError from exc
