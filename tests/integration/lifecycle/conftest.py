"""Engines with a fast in-process worker: short heartbeats and back-offs, so tests stay quick."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import psycopg
import pytest

from mnemo import AsyncMemory, MnemoConfig
from mnemo.config import LifecycleConfig

FAST = LifecycleConfig(
    in_process_worker=True,
    heartbeat_seconds=0.3,
    stalled_after_seconds=1.5,
    retry_base_seconds=0.05,
    retry_max_seconds=0.2,
    extraction_attempts=3,
    job_attempts=8,
    wait_timeout_seconds=60,
    maintenance_cron=None,
)


@pytest.fixture
def lifecycle_config(config: MnemoConfig) -> MnemoConfig:
    """The test database and embedder, with a fast in-process worker."""
    return replace(config, lifecycle=FAST)


@pytest.fixture
async def engine(lifecycle_config: MnemoConfig) -> AsyncIterator[AsyncMemory]:
    async with AsyncMemory(lifecycle_config) as opened:
        yield opened


def rows(database_url: str, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
    """Rows of one statement, read outside the engine (what is really stored)."""
    with psycopg.connect(database_url) as conn:
        return conn.execute(statement, params).fetchall()
