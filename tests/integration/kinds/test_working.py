"""Working memory against a real PostgreSQL: items, capacity with each eviction policy,
TTL, the reasoning chain, scoping, statistics, the prompt context, bad input."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mnemo import AsyncMemory, InvalidInput, MnemoConfig
from mnemo.config import WorkingMemoryConfig
from mnemo.core.tokens import default_token_counter

pytestmark = pytest.mark.asyncio
U = {"user_id": "alice"}


async def test_items_round_trip_overwrite_and_remove(memory: AsyncMemory) -> None:
    wm = memory.working
    put = await wm.put("task", "plan", {"steps": ["read", "write"]}, **U, importance=0.9)
    assert put.evicted == () and put.item.importance == 0.9
    assert put.item.expires_at is not None  # the configured default TTL (one hour)
    item = await wm.get("task", "plan", **U)
    assert item is not None and item.value == {"steps": ["read", "write"]}
    again = await wm.put("task", "plan", "revised", **U, importance=0.3, ttl_seconds=None)
    assert again.item.created_at == put.item.created_at and again.item.expires_at is None
    assert (await wm.get("task", "plan", **U)).value == "revised"  # type: ignore[union-attr]
    assert await wm.remove("task", "plan", **U) is True
    assert await wm.remove("task", "plan", **U) is False
    assert await wm.get("task", "plan", **U) is None


async def test_importance_policy_evicts_the_least_important(memory: AsyncMemory) -> None:
    wm = memory.working
    for key, importance in (("a", 0.9), ("b", 0.1), ("c", 0.5)):
        await wm.put("ns", key, key, **U, importance=importance, capacity=3)
    result = await wm.put("ns", "d", "d", **U, importance=0.05, capacity=3, policy="importance")
    assert result.evicted == ("b",)  # the new item is kept even though it matters least
    assert [i.key for i in await wm.list("ns", **U)] == ["a", "c", "d"]
    shrunk = await wm.put("ns", "e", "e", **U, importance=0.7, capacity=2)
    assert shrunk.evicted == ("c", "d")
    assert [i.key for i in await wm.list("ns", **U)] == ["a", "e"]


async def test_lru_policy_evicts_the_least_recently_used(memory: AsyncMemory) -> None:
    wm = memory.working
    for key in ("a", "b", "c"):
        await wm.put("ns", key, key, **U, capacity=3, policy="lru")
        await asyncio.sleep(0.01)
    assert (await wm.get("ns", "a", **U)) is not None  # "a" becomes the most recent
    await asyncio.sleep(0.01)
    first = await wm.put("ns", "d", "d", **U, capacity=3, policy="lru")
    assert first.evicted == ("b",)
    await wm.get("ns", "c", **U)
    await asyncio.sleep(0.01)
    second = await wm.put("ns", "e", "e", **U, capacity=3, policy="lru")
    assert second.evicted == ("a",)


async def test_fifo_policy_evicts_the_oldest_even_when_used(memory: AsyncMemory) -> None:
    wm = memory.working
    for key in ("a", "b", "c"):
        await wm.put("ns", key, key, **U, capacity=3, policy="fifo", importance=1.0)
    await wm.get("ns", "a", **U)
    await wm.put("ns", "a", "overwritten", **U, capacity=3, policy="fifo")  # keeps its place
    result = await wm.put("ns", "d", "d", **U, capacity=3, policy="fifo", importance=0.0)
    assert result.evicted == ("a",)
    assert sorted(i.key for i in await wm.list("ns", **U)) == ["b", "c", "d"]


async def test_concurrent_writers_never_exceed_capacity(memory: AsyncMemory) -> None:
    wm = memory.working
    results = await asyncio.gather(
        *(wm.put("ns", f"k{n}", n, **U, importance=n / 20, capacity=5) for n in range(20))
    )
    assert sum(len(r.evicted) for r in results) == 15
    assert len(await wm.list("ns", **U)) == 5


async def test_expired_items_are_invisible_and_cleaned_up(memory: AsyncMemory) -> None:
    wm = memory.working
    await wm.put("ns", "short", 1, **U, ttl_seconds=0.3)
    await wm.put("ns", "long", 2, **U)
    await wm.append_step("ns", "brief step", **U, ttl_seconds=0.3)
    assert (await wm.get("ns", "short", **U)) is not None  # cached now
    assert len(await wm.get_chain("ns", **U)) == 1
    await asyncio.sleep(0.45)
    assert await wm.get("ns", "short", **U) is None
    assert [i.key for i in await wm.list("ns", **U)] == ["long"]
    assert await wm.get_chain("ns", **U) == []
    assert await wm.cleanup_expired() == {"working_items": 2}
    # Expired items do not count against capacity.
    await wm.put("ns", "gone", 0, **U, ttl_seconds=0.2, capacity=2)
    await asyncio.sleep(0.3)
    assert (await wm.put("ns", "new", 3, **U, capacity=2)).evicted == ()


async def test_reasoning_chain_keeps_its_order(memory: AsyncMemory) -> None:
    wm = memory.working
    steps = [
        ("Parse the question", {"entities": ["Lisbon"]}),
        ("Look up the weather", {"temp_c": 21}),
        ("Compose the answer", "It is 21 °C in Lisbon."),
    ]
    for text, result in steps:
        await wm.append_step("q1", text, result, **U, metadata={"tool": "none"})
    chain = await wm.get_chain("q1", **U)
    assert [(s.position, s.step, s.result) for s in chain] == [
        (n, text, result) for n, (text, result) in enumerate(steps, start=1)
    ]
    assert chain[0].metadata == {"tool": "none"}
    await wm.put("q1", "answer", "done", **U)
    assert await wm.clear_chain("q1", **U) == 3
    assert await wm.get_chain("q1", **U) == []
    assert (await wm.append_step("q1", "Start over", **U)).position == 1
    assert await wm.clear("q1", **U) == {"items": 1, "steps": 1}
    assert await wm.list("q1", **U) == []


async def test_chain_keeps_only_the_latest_steps(config: MnemoConfig) -> None:
    bounded = MnemoConfig(**{**_fields(config), "working": WorkingMemoryConfig(max_chain_steps=3)})
    async with AsyncMemory(bounded) as memory:
        for n in range(1, 6):
            await memory.working.append_step("ns", f"step {n}", n, **U)
        chain = await memory.working.get_chain("ns", **U)
        assert [s.position for s in chain] == [3, 4, 5]


async def test_scopes_never_see_each_other(memory: AsyncMemory) -> None:
    wm = memory.working
    await wm.put("ns", "k", "alice", user_id="alice")
    await wm.put("ns", "k", "alice/a1", user_id="alice", agent_id="a1")
    await wm.put("ns", "k", "alice/a1/s1", user_id="alice", agent_id="a1", session_id="s1")
    await wm.append_step("ns", "alice's step", user_id="alice", session_id="s1")
    assert (await wm.get("ns", "k", user_id="alice")).value == "alice"  # type: ignore[union-attr]
    assert (await wm.get("ns", "k", user_id="alice", agent_id="a1")).value == "alice/a1"  # type: ignore[union-attr]
    assert await wm.get("ns", "k", user_id="bob") is None
    assert await wm.get("ns", "k", user_id="alice", agent_id="a2") is None
    assert await wm.get("ns", "k", user_id="alice", session_id="s2") is None
    assert await wm.get_chain("ns", user_id="alice") == []
    assert await wm.get_chain("ns", user_id="bob", session_id="s1") == []
    assert len(await wm.get_chain("ns", user_id="alice", session_id="s1")) == 1
    assert await memory.for_tenant("other").working.get("ns", "k", user_id="alice") is None
    # Capacity is per scope: filling bob's namespace evicts nothing of alice's.
    for n in range(3):
        await wm.put("ns", f"b{n}", n, user_id="bob", capacity=1)
    assert (await wm.get("ns", "k", user_id="alice")) is not None


async def test_namespace_stats(memory: AsyncMemory) -> None:
    wm = memory.working
    await wm.put("reasoning", "a", "xy", **U, importance=0.2)
    await wm.put("reasoning", "b", [1], **U, importance=0.6, ttl_seconds=30)
    await wm.append_step("reasoning", "think", "ok", **U)
    await wm.put("other", "c", 1, **U, agent_id="bot")
    stats = {s.namespace: s for s in await wm.namespace_stats(**U)}
    assert set(stats) == {"other", "reasoning"}
    reasoning = stats["reasoning"]
    assert (reasoning.items, reasoning.steps) == (2, 1)
    assert reasoning.value_bytes == len('"xy"') + len("[1]") + len('"ok"') + len("think")
    assert reasoning.mean_importance == pytest.approx(0.4)
    assert reasoning.oldest is not None and reasoning.newest is not None
    assert reasoning.next_expiry is not None
    narrowed = await wm.namespace_stats(**U, agent_id="bot")
    assert [(s.namespace, s.items) for s in narrowed] == [("other", 1)]


async def test_context_packs_important_items_and_the_chain_in_order(memory: AsyncMemory) -> None:
    wm = memory.working
    await wm.put("t", "goal", "Book a table for four on Friday", **U, importance=1.0)
    await wm.put("t", "note", "x " * 400, **U, importance=0.1)
    await wm.put("t", "budget", {"max_eur": 120}, **U, importance=0.8)
    for n in range(1, 7):
        await wm.append_step("t", f"step number {n}", {"ok": n}, **U)
    context = await wm.context("t", **U, max_tokens=90)
    counter = default_token_counter()
    assert context.tokens == counter.count(context.text) <= 90
    assert [i.key for i in context.items][:2] == ["goal", "budget"]
    positions = [s.position for s in context.chain]
    assert positions == sorted(positions) and positions[-1] == 6  # the latest steps, in order
    assert context.text.index("## Working memory") < context.text.index("## Reasoning chain")
    assert "goal: Book a table" in context.text and 'budget: {"max_eur": 120}' in context.text
    full = await wm.context("t", **U, max_tokens=10_000)
    assert len(full.chain) == 6 and len(full.items) == 3 and full.dropped_items == 0
    empty = await wm.context("nothing-here", **U)
    assert (empty.text, empty.tokens) == ("", 0)


BAD_CALLS: list[tuple[str, Any, str]] = [
    ("unknown policy", lambda wm: wm.put("ns", "k", 1, **U, policy="random"), "policy"),
    ("zero capacity", lambda wm: wm.put("ns", "k", 1, **U, capacity=0), "capacity"),
    ("negative TTL", lambda wm: wm.put("ns", "k", 1, **U, ttl_seconds=-1), "ttl_seconds"),
    ("text TTL", lambda wm: wm.put("ns", "k", 1, **U, ttl_seconds="soon"), "ttl_seconds"),
    ("importance > 1", lambda wm: wm.put("ns", "k", 1, **U, importance=1.5), "importance"),
    ("non-JSON value", lambda wm: wm.put("ns", "k", object(), **U), "not JSON"),
    ("oversized value", lambda wm: wm.put("ns", "k", "x" * 1_048_577, **U), "limit is"),
    ("empty key", lambda wm: wm.put("ns", "", 1, **U), "key"),
    ("bad namespace", lambda wm: wm.put("-ns", "k", 1, **U), "namespace"),
    ("missing user", lambda wm: wm.put("ns", "k", 1, user_id=None), "user_id"),
    ("empty step", lambda wm: wm.append_step("ns", "  ", **U), "step"),
    ("broken step text", lambda wm: wm.append_step("ns", "\ud800", **U), "surrogate"),
    ("non-JSON result", lambda wm: wm.append_step("ns", "s", {1, 2}, **U), "not JSON"),
    ("bad metadata", lambda wm: wm.append_step("ns", "s", metadata=[1], **U), "metadata"),
    ("bad step TTL", lambda wm: wm.append_step("ns", "s", **U, ttl_seconds=0), "ttl_seconds"),
    ("bad budget", lambda wm: wm.context("ns", **U, max_tokens=0), "max_tokens"),
]


@pytest.mark.parametrize(("name", "call", "message"), BAD_CALLS, ids=[b[0] for b in BAD_CALLS])
async def test_bad_input_is_refused_and_changes_nothing(
    memory: AsyncMemory, name: str, call: Any, message: str
) -> None:
    wm = memory.working
    await wm.put("ns", "k", "original", **U)
    await wm.append_step("ns", "first", **U)
    with pytest.raises(InvalidInput, match=message):
        await call(wm)
    assert [(i.key, i.value) for i in await wm.list("ns", **U)] == [("k", "original")]
    assert [s.step for s in await wm.get_chain("ns", **U)] == ["first"]


def _fields(config: MnemoConfig) -> dict[str, object]:
    return {name: getattr(config, name) for name in config.__dataclass_fields__}
