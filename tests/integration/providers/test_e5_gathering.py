"""Concurrent queries gathered into shared model calls, each vector the one the query gets
alone; gathered by default only where a call is one batch (not with int8's one-text runs)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from mnemo.providers.embedders import E5Embedder
from mnemo.providers.embedders._worker import ModelThread

QUESTIONS = [f"what did Caroline say about the {topic} last week?" for topic in (
    "adoption agency", "support group", "painting class", "camping trip", "new job",
    "pottery workshop", "charity race", "school play", "concert", "book club",
    "family dinner", "beach holiday",
)]  # fmt: skip


@pytest.fixture(scope="module")
async def gathering(e5_cache_dir: Path) -> AsyncIterator[E5Embedder]:
    embedder = E5Embedder(cache_dir=e5_cache_dir, gather_queries=True)
    await embedder.open()
    yield embedder
    await embedder.aclose()


async def test_concurrent_queries_are_gathered_and_unchanged(gathering: E5Embedder) -> None:
    e5_embedder = gathering
    alone = np.stack([await e5_embedder.embed(q, "query") for q in QUESTIONS])
    runs, calls = e5_embedder.gathered
    assert calls - runs == 0  # one at a time: nothing to gather, nothing waited

    together = await asyncio.gather(*(e5_embedder.embed(q, "query") for q in QUESTIONS))
    np.testing.assert_allclose(np.stack(together), alone, atol=1e-6)
    more_runs, more_calls = e5_embedder.gathered
    assert more_calls - calls == len(QUESTIONS)
    assert more_runs - runs < len(QUESTIONS)  # some calls shared a model run


async def test_gathering_by_default_only_where_a_call_is_one_batch(
    e5_embedder: E5Embedder, e5_cache_dir: Path
) -> None:
    before = e5_embedder.gathered
    await asyncio.gather(*(e5_embedder.embed(q, "query") for q in QUESTIONS))
    assert e5_embedder.gathered == before  # int8, one text per run: not gathered
    async with E5Embedder(cache_dir=e5_cache_dir, min_cosine={"int8": 1.01}) as four_bit:
        assert four_bit.runtime == "onnxruntime-4bit"
        await asyncio.gather(*(four_bit.embed(q, "query") for q in QUESTIONS))
        runs, calls = four_bit.gathered
        assert calls == len(QUESTIONS) and runs < calls


async def test_the_model_runs_off_the_event_loop(e5_embedder: E5Embedder) -> None:
    seen: list[str] = []
    original = ModelThread.run

    async def spy(self: ModelThread, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        def where(*a, **k):  # type: ignore[no-untyped-def]
            seen.append(threading.current_thread().name)
            return fn(*a, **k)

        return await original(self, where, *args, **kwargs)

    ModelThread.run = spy  # type: ignore[method-assign]
    try:
        await asyncio.gather(*(e5_embedder.embed(q, "query") for q in QUESTIONS[:4]))
        await e5_embedder.embed_many(QUESTIONS, "passage")
    finally:
        ModelThread.run = original  # type: ignore[method-assign]
    assert seen and all(name.startswith("mnemo-e5") for name in seen)
    assert threading.current_thread().name not in seen
