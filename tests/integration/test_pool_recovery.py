"""The pool skips its per-borrow round trip, yet never lends a connection the server ended."""

from __future__ import annotations

import asyncio

import psycopg

from mnemo import AsyncMemory


async def test_connections_ended_by_the_server_are_replaced(
    memory: AsyncMemory, database_url: str
) -> None:
    await memory.add("Ann keeps bees on her balcony", user_id="ann")
    assert await memory.search("bees", user_id="ann")
    with psycopg.connect(database_url, autocommit=True) as admin:
        ended = admin.execute(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend') t"
        ).fetchone()
    assert ended is not None and ended[0] >= 1
    await asyncio.sleep(0.2)  # the servers' goodbye messages reach the sockets
    for _ in range(5):  # every pooled connection is borrowed at least once
        hits = await asyncio.gather(*(memory.search("bees", user_id="ann") for _ in range(4)))
        assert all(h and h[0].content == "Ann keeps bees on her balcony" for h in hits)
