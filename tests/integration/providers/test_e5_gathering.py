"""Concurrent queries through the default embedder: gathered into shared model calls,
each vector the one the query gets alone."""

from __future__ import annotations

import asyncio
import threading

import numpy as np

from mnemo.providers.embedders import E5Embedder
from mnemo.providers.embedders._worker import ModelThread

QUESTIONS = [f"what did Caroline say about the {topic} last week?" for topic in (
    "adoption agency", "support group", "painting class", "camping trip", "new job",
    "pottery workshop", "charity race", "school play", "concert", "book club",
    "family dinner", "beach holiday",
)]  # fmt: skip


async def test_concurrent_queries_are_gathered_and_unchanged(e5_embedder: E5Embedder) -> None:
    alone = np.stack([await e5_embedder.embed(q, "query") for q in QUESTIONS])
    runs, calls = e5_embedder.gathered
    assert calls - runs == 0  # one at a time: nothing to gather, nothing waited

    together = await asyncio.gather(*(e5_embedder.embed(q, "query") for q in QUESTIONS))
    np.testing.assert_allclose(np.stack(together), alone, atol=1e-6)
    more_runs, more_calls = e5_embedder.gathered
    assert more_calls - calls == len(QUESTIONS)
    assert more_runs - runs < len(QUESTIONS)  # some calls shared a model run


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
