"""Search latency and throughput through ``mnemo serve`` with 1,000 users × 1,000 memories.

    python benchmarks/service_load.py [--users 1000] [--per-user 1000] [--seconds 15]

Bulk-loads the data once into an embedded PostgreSQL in ``--data-dir`` (see
``service_data.py``), starts ``mnemo serve`` on loopback (API keys on, rate
limiting off, Redis database 12 as the cache), and drives
``POST /api/v1/memories/{user}/search`` from ``loadgen.py``:

* closed loop at fixed concurrency levels, for **fresh** questions (every query
  is new, so the service embeds it with the default model) and for **repeated**
  ones (a user asks a question they asked before: the query vector comes from the
  cache), and for a mix with a stated share of repeats;
* 20 clients with think time (a chat app: each user pauses between turns);
* an open loop: fresh questions arriving at ``--rate`` per second (Poisson) whatever
  the server's pace, latency counted from each request's arrival.

It ends with the serve process's resident memory (the model loaded).

For each run it prints client-side p50/p95/p99 and throughput, and, from the
service's own /metrics, where the time went: embedding the query, the SQL and
scoring, and the rest of the request (HTTP, auth, JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen
import service_data
import synthetic

from mnemo import MnemoConfig
from mnemo.store.postgres.server import embedded_database_url

PEPPER = "service-benchmark"
REDIS_URL = "redis://127.0.0.1:6379/12"
SEARCH = "/api/v1/memories/{user}/search"


def start_server(data_dir: Path, port: int) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        **os.environ,
        "MNEMO_API_KEY_PEPPER": PEPPER,
        "MNEMO_AUTH": "keys",
        "MNEMO_RATE_LIMIT_RPS": "0",
        "MNEMO_REDIS_URL": REDIS_URL,
        "MNEMO_TENANT_ID": "bench",
    }
    cli = [sys.executable, "-m", "mnemo.cli.main"]
    created = subprocess.run(
        [*cli, "keys", "create", "--tenant", "bench", "--data-dir", str(data_dir)],
        env=env,
        capture_output=True,
        check=True,
    )
    key = created.stdout.decode().split()[0]
    log = open(data_dir / "serve.log", "wb")  # noqa: SIM115 - lives as long as the server
    server = subprocess.Popen(
        [*cli, "serve", "--data-dir", str(data_dir), "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return server, key
        except httpx.TransportError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit("mnemo serve did not start; see serve.log")


def metrics(port: int) -> dict[str, float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    out: dict[str, float] = {}
    for name, labels, value in re.findall(
        r"^(mnemo_\w+?_(?:sum|count))\{(.*)\} (\S+)$", text, re.M
    ):
        out[f"{name}{{{labels}}}"] = float(value)
    return out


def breakdown(before: dict[str, float], after: dict[str, float]) -> str:
    def mean(metric: str, labels: str) -> float:
        s = after.get(f"{metric}_sum{{{labels}}}", 0) - before.get(f"{metric}_sum{{{labels}}}", 0)
        n = after.get(f"{metric}_count{{{labels}}}", 0) - before.get(
            f"{metric}_count{{{labels}}}", 0
        )
        return s / n * 1000 if n else float("nan")

    http = mean(
        "mnemo_http_request_duration_seconds",
        'method="POST",route="/api/v1/memories/{user_id}/search"',
    )
    total = mean("mnemo_engine_duration_seconds", 'operation="search.total"')
    embed = mean("mnemo_engine_duration_seconds", 'operation="search.embed"')
    rank = mean("mnemo_engine_duration_seconds", 'operation="search.rank"')
    return (
        f"server mean {http:5.1f} ms = embed {embed:5.1f} + SQL/scoring {rank:5.1f}"
        f" + rest of search {total - embed - rank:4.1f} + HTTP/auth/JSON {http - total:4.1f}"
    )


class Queries:
    """Fresh questions (never asked before) and repeated ones (asked before by that user)."""

    def __init__(self, users: int) -> None:
        self.users = users
        self.templates = synthetic.questions(400, seed=3)
        self.counter = itertools.count()
        rng = random.Random(9)
        self.pairs = [(rng.randrange(users), rng.choice(self.templates)) for _ in range(500)]

    def fresh(self, rng: random.Random) -> tuple[str, str, object]:
        question = f"{rng.choice(self.templates)} #{next(self.counter)}"
        return (
            "POST",
            SEARCH.format(user=f"user-{rng.randrange(self.users)}"),
            {"query": question, "top_k": 10},
        )

    def repeated(self, rng: random.Random) -> tuple[str, str, object]:
        user, question = rng.choice(self.pairs)
        return "POST", SEARCH.format(user=f"user-{user}"), {"query": question, "top_k": 10}

    def mixed(self, repeat_share: float) -> loadgen.RequestFactory:
        return lambda rng: self.repeated(rng) if rng.random() < repeat_share else self.fresh(rng)


async def run(args: argparse.Namespace) -> None:
    data_dir = Path(args.data_dir)
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    pool, vectors, model = await service_data.pool_vectors(
        data_dir, args.pool, MnemoConfig(data_dir=data_dir)
    )
    url = embedded_database_url(data_dir)
    service_data.load(url, pool, vectors, model, args.users, args.per_user)
    if args.load_only:
        return
    server, key = start_server(data_dir, args.port)
    headers = {"Authorization": f"Bearer {key}"}
    queries = Queries(args.users)
    try:
        print(f"load average before the runs: {os.getloadavg()}")
        await loadgen.closed_loop(
            "127.0.0.1", args.port, headers, queries.fresh, concurrency=4, seconds=5
        )
        for pair in queries.pairs:  # every repeated question asked once, so it is cached
            await loadgen.closed_loop(
                "127.0.0.1",
                args.port,
                headers,
                lambda rng, p=pair: (
                    "POST",
                    SEARCH.format(user=f"user-{p[0]}"),
                    {"query": p[1], "top_k": 10},
                ),
                concurrency=1,
                seconds=5,
                max_requests=1,
            )
        kinds = {
            "fresh": queries.fresh,
            "repeated": queries.repeated,
            "mix": queries.mixed(args.repeat_share),
        }
        runs = [
            (_label(kind, args), kinds[kind], c, 0.0)
            for kind in ("fresh", "repeated", "mix")
            if kind in args.runs
            for c in args.levels
        ]
        if "think" in args.runs:
            runs.append(
                (f"{_label('mix', args)}, think {args.think:g} s", kinds["mix"], 20, args.think)
            )
        print(
            "\n| queries | clients | requests | req/s | p50 ms | p95 ms | p99 ms | errors"
            " | where the time goes |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for name, factory, concurrency, think in runs:
            before = metrics(args.port)
            result = await loadgen.closed_loop(
                "127.0.0.1",
                args.port,
                headers,
                factory,
                concurrency=concurrency,
                seconds=args.seconds,
                think=think,
            )
            print_row(name, str(concurrency), result, breakdown(before, metrics(args.port)))
        if "open" in args.runs:
            before = metrics(args.port)
            result = await loadgen.open_loop(
                "127.0.0.1", args.port, headers, queries.fresh, rate=args.rate, seconds=args.seconds
            )
            name = f"fresh, open loop, {args.rate:g}/s offered (Poisson)"
            print_row(name, "-", result, breakdown(before, metrics(args.port)))
        print(f"\nload average after the runs: {os.getloadavg()}")
        print(f"resident memory of the mnemo serve process: {_rss_mb(server.pid):.0f} MB")
    finally:
        server.terminate()
        server.wait(timeout=60)


def print_row(name: str, clients: str, result: loadgen.Result, where: str) -> None:
    p50, p95, p99 = result.percentiles()
    errors = sum(n for status, n in result.statuses.items() if status != 200)
    print(
        f"| {name} | {clients} | {len(result.latencies)} | {result.throughput:,.0f} | "
        f"{p50:.1f} | {p95:.1f} | {p99:.1f} | {errors} | {where} |",
        flush=True,
    )


def _rss_mb(pid: int) -> float:
    """The serve process's own resident memory (the model, the pools, the app); the
    embedded PostgreSQL it started runs in processes of its own, not counted here."""
    return psutil.Process(pid).memory_info().rss / 2**20


def _label(kind: str, args: argparse.Namespace) -> str:
    return f"mix {args.repeat_share:.0%} repeated" if kind == "mix" else kind


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--per-user", type=int, default=1000)
    parser.add_argument("--pool", type=int, default=2000, help="distinct base sentences")
    parser.add_argument("--seconds", type=float, default=15.0, help="per run")
    parser.add_argument(
        "--levels", type=lambda s: [int(x) for x in s.split(",")], default=[1, 5, 10, 20]
    )
    parser.add_argument("--repeat-share", type=float, default=0.5)
    parser.add_argument("--think", type=float, default=1.0, help="mean think time of the last run")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--runs",
        type=lambda s: s.split(","),
        default=["fresh", "repeated", "mix", "think", "open"],
    )
    parser.add_argument("--rate", type=float, default=100.0, help="open loop: requests/s offered")
    parser.add_argument("--load-only", action="store_true", help="load the data, measure nothing")
    parser.add_argument("--data-dir", default="/tmp/mnemo-service-bench")
    asyncio.run(run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
