"""MicroBatcher: concurrent calls share model runs; an idle model runs a call at once."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from mnemo.errors import InvalidInput
from mnemo.providers.embedders._batcher import MicroBatcher
from mnemo.providers.embedders.base import Vectors


class SlowModel:
    """A stand-in model with real timing: each run takes ``seconds`` on a worker thread and
    gives every text a vector made of its length and first character."""

    def __init__(self, seconds: float = 0.02) -> None:
        self.seconds = seconds
        self.runs: list[list[str]] = []

    async def run(self, texts: list[str]) -> Vectors:
        self.runs.append(list(texts))
        if any(text == "bad" for text in texts):
            raise InvalidInput("cannot embed 'bad'")
        await asyncio.to_thread(lambda: __import__("time").sleep(self.seconds))
        return np.array([[len(t), ord(t[0])] for t in texts], dtype=np.float32)


async def test_a_lone_call_runs_at_once_and_alone() -> None:
    model = SlowModel()
    batcher = MicroBatcher(model.run)
    for text in ("a", "bb", "ccc"):
        vectors = await batcher.embed([text])
        assert vectors.tolist() == [[len(text), ord(text[0])]]
    assert model.runs == [["a"], ["bb"], ["ccc"]]
    assert (batcher.runs, batcher.calls) == (3, 3)


async def test_concurrent_calls_share_runs_and_get_their_own_vectors() -> None:
    model = SlowModel()
    batcher = MicroBatcher(model.run, max_texts=8)
    texts = [f"{chr(97 + i)}{'x' * i}" for i in range(20)]
    results = await asyncio.gather(*(batcher.embed([t]) for t in texts))
    for text, vectors in zip(texts, results, strict=True):
        assert vectors.tolist() == [[len(text), ord(text[0])]]
    assert [len(run) for run in model.runs] == [8, 8, 4]  # all arrived in the same tick
    assert sorted(t for run in model.runs for t in run) == sorted(texts)


async def test_multi_text_calls_stay_together() -> None:
    model = SlowModel()
    batcher = MicroBatcher(model.run, max_texts=4)
    first = asyncio.ensure_future(batcher.embed(["warm"]))
    await asyncio.sleep(0.005)  # its run is under way: the next calls wait for it
    calls = [["a1", "a2", "a3"], ["b1", "b2"], ["c1"]]
    results = await asyncio.gather(*(batcher.embed(c) for c in calls))
    await first
    assert [r.shape[0] for r in results] == [3, 2, 1]
    assert model.runs[1:] == [["a1", "a2", "a3"], ["b1", "b2", "c1"]]


async def test_a_failing_run_fails_its_callers_only() -> None:
    model = SlowModel()
    batcher = MicroBatcher(model.run)
    blocker = asyncio.ensure_future(batcher.embed(["first"]))
    await asyncio.sleep(0.005)
    failing = asyncio.gather(batcher.embed(["ok"]), batcher.embed(["bad"]))
    with pytest.raises(InvalidInput, match="'bad'"):
        await failing
    await blocker
    assert (await batcher.embed(["later"])).shape == (1, 2)


async def test_a_cancelled_caller_does_not_disturb_the_others() -> None:
    model = SlowModel(seconds=0.05)
    batcher = MicroBatcher(model.run)
    blocker = asyncio.ensure_future(batcher.embed(["first"]))
    await asyncio.sleep(0.005)
    leaving = asyncio.ensure_future(batcher.embed(["leaving"]))
    staying = asyncio.ensure_future(batcher.embed(["staying"]))
    await asyncio.sleep(0)
    leaving.cancel()
    assert (await staying).tolist() == [[7, ord("s")]]
    await blocker
    assert ["leaving"] not in model.runs and all("leaving" not in r for r in model.runs)
