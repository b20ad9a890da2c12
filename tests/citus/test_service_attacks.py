"""The service's attack cases that read or write another tenant's rows, on the cluster.

Each case is the one of tests/service/test_attacks.py, with its checks (a clear 4xx or
nothing of the victim's, and a digest of the victim's rows unchanged). The cases about
keys and authentication do not touch the data's placement and are left to that suite.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.citus.conftest import empty_tables
from tests.service import test_attacks as attacks
from tests.service.conftest import attack_service

pytestmark = pytest.mark.citus

TENANT_CASES = [c for c in attacks.REJECTED if c.key == "attacker"]


@pytest.fixture(scope="module")
async def arena(shared_citus_url: str, embedder: Any) -> AsyncIterator[attacks.Arena]:
    empty_tables(shared_citus_url)
    async with attack_service(shared_citus_url, embedder) as (service, keys):
        yield await attacks.victim_arena(service, keys)


def test_the_victim_tenants_rows_are_on_the_workers(arena: attacks.Arena) -> None:
    digest = attacks.snapshot(arena.database_url, "beta")
    assert digest["memories"].startswith("2:") and digest["kv_entries"].startswith("1:")


@pytest.mark.parametrize("case", TENANT_CASES, ids=[c.name for c in TENANT_CASES])
async def test_rejected_on_the_cluster(arena: attacks.Arena, case: attacks.Case) -> None:
    await attacks.test_rejected_with_a_clear_4xx_and_nothing_changed(arena, case)


@pytest.mark.parametrize("case", attacks.ISOLATED, ids=[c.name for c in attacks.ISOLATED])
async def test_isolated_on_the_cluster(arena: attacks.Arena, case: attacks.Case) -> None:
    await attacks.test_other_tenants_user_ids_reach_nothing_of_theirs(arena, case)
