"""Read-only methods read from the standby; read-your-writes, fallback, writes on the primary."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import pytest

from mnemo import AsyncMemory, MnemoConfig
from mnemo.store.postgres.replicas import ReplicaSet
from tests.replicas.conftest import pause_replay, replicas_of, resume_replay, statement_calls
from tests.support.replica_pair import ReplicaPair, wait_ready, wait_replayed, wait_streaming

pytestmark = pytest.mark.replicas


def new_user() -> str:
    return f"u-{uuid.uuid4().hex[:8]}"


async def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


def standby_usable(replicas: ReplicaSet) -> bool:
    return replicas.standbys[0].usable


async def test_read_only_methods_read_the_standby(
    replicated: AsyncMemory, replica_pair: ReplicaPair, database_urls: tuple[str, str]
) -> None:
    user = new_user()
    first = await replicated.add("I keep bees on the roof", user_id=user)
    wait_replayed(replica_pair.primary, replica_pair.standby)
    pause_replay(replica_pair)
    # Stored on the primary only while the standby does not replay: a read that finds
    # it was served by the primary, one that does not by the standby.
    await replicated.add("I also keep bees in the garden", user_id=user)
    replicas = replicas_of(replicated)
    before = replicas.counts["standby"]
    calls_before = statement_calls(database_urls[1], "%memories%")

    hits = await replicated.search("bees", user_id=user)
    listed = await replicated.list(user_id=user)
    stats = await replicated.stats(user)
    context = await replicated.context("bees", user_id=user)

    assert [h.id for h in hits] == [first.ids[0]]
    assert [m.id for m in listed] == [first.ids[0]]
    assert stats["memories"]["active"] == 1
    assert "roof" in context.text and "garden" not in context.text
    assert replicas.counts["standby"] > before
    assert statement_calls(database_urls[1], "%memories%") > calls_before


async def test_read_your_writes_after_wait(
    replicated: AsyncMemory, replica_pair: ReplicaPair
) -> None:
    user, other = new_user(), new_user()
    await replicated.add("other users read the standby", user_id=other)
    wait_replayed(replica_pair.primary, replica_pair.standby)
    pause_replay(replica_pair)
    replicas = replicas_of(replicated)

    added = await replicated.add("my passport number ends in 42", user_id=user, wait=True)

    behind = replicas.counts["behind"]
    hits = await replicated.search("passport", user_id=user)
    assert [h.id for h in hits] == added.ids  # read on the primary
    assert (await replicated.get(added.ids[0])).id == added.ids[0]  # by id alone too
    assert replicas.counts["behind"] > behind
    standby = replicas.counts["standby"]
    assert len(await replicated.list(user_id=other)) == 1
    assert replicas.counts["standby"] > standby  # users without a mark still read it

    resume_replay(replica_pair)
    wait_replayed(replica_pair.primary, replica_pair.standby)
    standby = replicas.counts["standby"]
    assert [h.id for h in await replicated.search("passport", user_id=user)] == added.ids
    assert replicas.counts["standby"] > standby  # caught up: the standby serves the user again


async def test_flush_gives_every_reader_what_was_written(
    replicated: AsyncMemory, replica_pair: ReplicaPair
) -> None:
    user = new_user()
    pause_replay(replica_pair)
    added = await replicated.add("the boiler is serviced in March", user_id=user)
    await replicated.flush()
    assert [m.id for m in await replicated.list(user_id=user)] == added.ids
    assert replicas_of(replicated).counts["behind"] > 0


async def test_writes_and_read_paths_never_write_on_the_standby(
    replicated: AsyncMemory, replica_pair: ReplicaPair
) -> None:
    user = new_user()
    added = await replicated.add("I drink my coffee black", user_id=user)
    memory_id = added.ids[0]
    await replicated.update(memory_id, content="I drink my coffee with milk")
    await replicated.add_messages(
        [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi"}],
        user_id=user, session_id="s1",
    )  # fmt: skip
    await replicated.kv.set("prefs", "theme", {"dark": True}, user_id=user)
    wait_replayed(replica_pair.primary, replica_pair.standby)
    replicas = replicas_of(replicated)
    before = replicas.counts["standby"]

    await replicated.search("coffee", user_id=user)
    await replicated.search_all("coffee", user_id=user)
    await replicated.list(user_id=user)
    await replicated.get(memory_id, user_id=user)
    await replicated.history(memory_id, user_id=user)
    await replicated.list_messages(user_id=user, session_id="s1")
    await replicated.search_messages("hello", user_id=user)
    await replicated.context("coffee", user_id=user, session_id="s1")
    await replicated.stats(user)
    await replicated.flush()  # the searches' access statistics, written on the primary
    await replicated.delete(memory_id)

    assert replicas.counts["standby"] > before
    assert replicas.counts["retried"] == 0  # no write of a read path reached the standby


async def test_reads_fall_back_when_replay_lags_beyond_the_bound(
    replica_config: MnemoConfig, replica_pair: ReplicaPair
) -> None:
    config = replica_config.with_overrides(read_max_lag_ms=200)
    async with AsyncMemory(config) as memory:
        replicas = replicas_of(memory)
        await until(lambda: standby_usable(replicas))
        await asyncio.sleep(0.8)  # idle past the bound: a caught-up standby stays in use
        assert standby_usable(replicas), replicas.standbys[0].reason
        user = new_user()
        pause_replay(replica_pair)
        await memory.add("written while the standby waits", user_id=user)
        await until(lambda: not standby_usable(replicas))
        assert "lag" in replicas.standbys[0].reason
        primary = replicas.counts["primary"]
        assert len(await memory.list(user_id=user)) == 1
        assert replicas.counts["primary"] > primary

        resume_replay(replica_pair)
        await until(lambda: standby_usable(replicas))
        standby = replicas.counts["standby"]
        assert len(await memory.list(user_id=user)) == 1
        assert replicas.counts["standby"] > standby


async def test_reads_fall_back_when_the_standby_is_down(
    replicated: AsyncMemory, replica_pair: ReplicaPair
) -> None:
    user = new_user()
    await replicated.add("the spare key is under the mat", user_id=user)
    replicas = replicas_of(replicated)
    replica_pair.standby.stop()
    try:
        for _ in range(5):  # the first may find the standby's dead connection
            assert len(await replicated.search("key", user_id=user)) == 1
        await until(lambda: not standby_usable(replicas))
        assert len(await replicated.list(user_id=user)) == 1
        health = await replicated.health()
        assert health.dependencies["read_replicas"].status == "down"
        assert health.status == "degraded"  # reads still work, on the primary
    finally:
        replica_pair.standby.start()
        wait_ready(replica_pair.standby)
        wait_streaming(replica_pair.primary)
    await until(lambda: standby_usable(replicas), timeout=30)
    assert (await replicated.health()).dependencies["read_replicas"].status == "ok"
    standby = replicas.counts["standby"]
    assert len(await replicated.list(user_id=user)) == 1
    assert replicas.counts["standby"] > standby


async def test_a_standby_down_at_start_does_not_stop_the_engine(
    replica_config: MnemoConfig,
) -> None:
    config = replica_config.with_overrides(read_database_urls=("postgresql://127.0.0.1:1/x",))
    async with AsyncMemory(config) as memory:
        user = new_user()
        await memory.add("still works", user_id=user)
        assert len(await memory.list(user_id=user)) == 1
        assert not replicas_of(memory).standbys[0].usable


async def test_the_tenant_wall_holds_on_the_standby(
    replica_config: MnemoConfig, replica_pair: ReplicaPair
) -> None:
    """The service's role and tenant setting apply to the standby's connections too."""
    guarded = replica_config.with_overrides(database_role="mnemo_service")
    async with AsyncMemory(guarded) as memory:
        mine, theirs = memory.for_tenant("t-mine"), memory.for_tenant("t-theirs")
        user = new_user()
        await mine.add("mine only", user_id=user)
        await theirs.add("theirs only", user_id=user)
        wait_replayed(replica_pair.primary, replica_pair.standby)
        replicas = replicas_of(memory)
        await until(lambda: standby_usable(replicas))
        standby = replicas.counts["standby"]
        assert [m.content for m in await mine.list(user_id=user)] == ["mine only"]
        assert [h.content for h in await theirs.search("only", user_id=user)] == ["theirs only"]
        assert replicas.counts["standby"] > standby


async def test_a_read_that_fails_on_the_standby_runs_again_on_the_primary(
    replicated: AsyncMemory, replica_pair: ReplicaPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write slipped into a read path is refused by the standby, then done on the primary."""
    replicas = replicas_of(replicated)
    await until(lambda: standby_usable(replicas))
    key = f"k-{uuid.uuid4().hex[:8]}"

    async def stats_that_write(scope: object) -> dict[str, str]:
        rows = await replicated.db.fetch(
            "INSERT INTO mnemo_meta (key, value) VALUES (%s, '1') RETURNING key", (key,)
        )
        return {"written": rows[0]["key"]}

    monkeypatch.setattr(replicated._user_data, "stats", stats_that_write)
    assert await replicated.stats(new_user()) == {"written": key}
    assert replicas.counts["retried"] == 1
    assert await replicated.db.fetch("SELECT key FROM mnemo_meta WHERE key = %s", (key,))
