"""The memory lifecycle's tests (decay, merges, removals, clean-up, the sweep) and the
expiry tests of key-value entries and working items run unchanged on the cluster, where
the tenant's expiry sweep goes user by user (one shard per batch)."""

from __future__ import annotations

import asyncio

import pytest

from mnemo import AsyncMemory
from tests.integration.kinds.test_kv import test_expired_keys_are_invisible_then_cleaned_up
from tests.integration.kinds.test_working import (
    test_expired_items_are_invisible_and_cleaned_up,
)
from tests.integration.lifecycle.conftest import engine, lifecycle_config  # noqa: F401
from tests.integration.lifecycle.test_upkeep import *  # noqa: F403

pytestmark = pytest.mark.citus

__all__ = [
    "test_expired_items_are_invisible_and_cleaned_up",
    "test_expired_keys_are_invisible_then_cleaned_up",
]


async def test_the_expiry_sweep_reaches_every_users_shard(memory: AsyncMemory) -> None:
    users = [f"user-{n}" for n in range(8)]  # 4 shards on 2 workers: several of each
    for user in users:
        await memory.kv.set("ns", "gone", 1, user_id=user, ttl_seconds=0.05)
        await memory.kv.set("ns", "kept", 2, user_id=user)
        await memory.working.put("ns", "gone", 1, user_id=user, ttl_seconds=0.05)
        await memory.working.put("ns", "kept", 2, user_id=user)
    await asyncio.sleep(0.1)
    assert await memory.kv.cleanup_expired() == {"kv_entries": len(users)}
    assert await memory.working.cleanup_expired() == {"working_items": len(users)}
    for user in users:
        assert await memory.kv.values("ns", user_id=user) == {"kept": 2}
        assert [i.key for i in await memory.working.list("ns", user_id=user)] == ["kept"]
