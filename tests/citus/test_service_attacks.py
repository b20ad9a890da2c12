"""The service's attack cases that read or write another tenant's rows, on the cluster.

Each case is the one of tests/service/test_attacks.py, with its checks (a clear 4xx or
nothing of the victim's, and a digest of the victim's rows unchanged). The cases about
keys and authentication do not touch the data's placement and are left to that suite.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from mnemo.cli.main import main as cli
from mnemo.service.app import create_app
from tests.citus.conftest import empty_tables
from tests.service import test_attacks as attacks
from tests.service.conftest import Service, service_config, service_settings

pytestmark = pytest.mark.citus

TENANT_CASES = [c for c in attacks.REJECTED if c.key == "attacker"]


@pytest.fixture(scope="module")
async def arena(shared_citus_url: str, embedder: Any) -> AsyncIterator[attacks.Arena]:
    url = shared_citus_url
    empty_tables(url)
    app = create_app(service_settings(url), config=service_config(url, embedder))
    async with app.router.lifespan_context(app):
        service = Service(app, url)
        victim_key, attacker_key = await service.key("beta"), await service.key("alpha")
        revoked_key = await service.key("alpha", name="to revoke")
        await asyncio.to_thread(
            cli, ["keys", "revoke", revoked_key.split("_")[1], "--database-url", url]
        )
        async with service.client(victim_key) as victim:
            created = await victim.post(
                f"{attacks.API}/memories",
                json={"user_id": attacks.VICTIM_USER, "content": attacks.SECRET},
            )
            assert created.status_code == 201, created.text
            for response in (
                await victim.post(
                    f"{attacks.API}/memories",
                    json={"user_id": "a1", "content": attacks.SECRET + " (a1)"},
                ),
                await victim.put(
                    f"{attacks.API}/settings/{attacks.VICTIM_USER}/codename",
                    json={"value": attacks.SECRET},
                ),
                await victim.post(
                    f"{attacks.API}/documents/{attacks.VICTIM_USER}",
                    json={"name": "plan.md", "content": f"The launch code is {attacks.SECRET}."},
                ),
            ):
                assert response.status_code < 300, response.text
        yield attacks.Arena(service, attacker_key, revoked_key, created.json()["id"], url)


def test_the_victim_tenants_rows_are_on_the_workers(arena: attacks.Arena) -> None:
    digest = attacks.snapshot(arena.database_url, "beta")
    assert digest["memories"].startswith("2:") and digest["kv_entries"].startswith("1:")


@pytest.mark.parametrize("case", TENANT_CASES, ids=[c.name for c in TENANT_CASES])
async def test_rejected_on_the_cluster(arena: attacks.Arena, case: attacks.Case) -> None:
    await attacks.test_rejected_with_a_clear_4xx_and_nothing_changed(arena, case)


@pytest.mark.parametrize("case", attacks.ISOLATED, ids=[c.name for c in attacks.ISOLATED])
async def test_isolated_on_the_cluster(arena: attacks.Arena, case: attacks.Case) -> None:
    await attacks.test_other_tenants_user_ids_reach_nothing_of_theirs(arena, case)
