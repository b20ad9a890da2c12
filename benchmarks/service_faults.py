"""Faults under a write load: kill the worker, stop Redis, restart the API process.

    python benchmarks/service_faults.py [--clients 8] [--seconds 40]

Runs ``mnemo serve`` (API keys, Redis database 13) and ``mnemo worker`` against a
fresh database on an embedded PostgreSQL, and ``--clients`` writers, each sending
its user's turns ``POST /api/v1/conversation`` with increasing turn numbers. A
writer retries a turn until it is acknowledged (HTTP 200), so a turn whose answer
was lost is sent again, and must still be stored once. Meanwhile, on a schedule:

* the worker is killed (SIGKILL) and started again;
* Redis is shut down and started again (the shared Redis: it is always restarted,
  in a ``finally``, with the machine's usual command);
* the API process is killed (SIGKILL) and started again, then stopped gracefully
  (SIGTERM) and started again.

Afterwards it waits for the queue to drain and counts, from PostgreSQL: turns
acknowledged, turns stored, duplicates, acknowledged turns missing, and the
extraction state of every stored turn.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import psycopg
from psycopg import sql

from mnemo.store.postgres.server import embedded_database_url

PEPPER = "service-faults"
REDIS_URL = "redis://127.0.0.1:6379/13"
REDIS_START = (
    "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' "
    "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log"
)
CLI = [sys.executable, "-m", "mnemo.cli.main"]
TOPICS = ["espresso", "hiking", "jazz", "sushi", "chess", "Lisbon", "cycling", "tea"]


class Processes:
    """The API and the worker, started and stopped on demand."""

    def __init__(self, env: dict[str, str], port: int, log_dir: Path) -> None:
        self.env, self.port, self.log_dir = env, port, log_dir
        self.api: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - kept by the child
        return subprocess.Popen([*CLI, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT)

    async def start_api(self) -> None:
        self.api = self._spawn("api", ["serve", "--port", str(self.port)])
        deadline = time.monotonic() + 120
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                try:
                    if (
                        await client.get(f"http://127.0.0.1:{self.port}/api/v1/health")
                    ).status_code == 200:
                        return
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
        raise SystemExit("the API did not start; see api.log")

    def start_worker(self) -> None:
        self.worker = self._spawn("worker", ["worker"])

    def stop(self, which: str, sig: int) -> None:
        process = getattr(self, which)
        if process is not None and process.poll() is None:
            process.send_signal(sig)
            process.wait(timeout=60)


class Writers:
    """Clients that send turns and retry each until it is acknowledged."""

    def __init__(self, port: int, key: str, clients: int) -> None:
        self.url = f"http://127.0.0.1:{port}/api/v1/conversation"
        self.headers = {"Authorization": f"Bearer {key}"}
        self.clients = clients
        self.acked: set[tuple[str, int]] = set()
        self.failures: Counter[str] = Counter()
        self.retries = 0

    async def run(self, seconds: float) -> None:
        stop_at = time.monotonic() + seconds
        await asyncio.gather(*(self._client(i, stop_at) for i in range(self.clients)))

    async def _client(self, index: int, stop_at: float) -> None:
        user = f"writer-{index}"
        async with httpx.AsyncClient(timeout=30, headers=self.headers) as client:
            turn = 1
            while time.monotonic() < stop_at:
                await self._send_until_acked(client, user, turn, stop_at + 90)
                turn += 1

    async def _send_until_acked(
        self, client: httpx.AsyncClient, user: str, turn: int, give_up_at: float
    ) -> None:
        body = {
            "user_id": user,
            "turn_number": turn,
            "include_memories": turn % 5 == 0,
            "message": f"turn {turn}: I like {TOPICS[turn % len(TOPICS)]} and my name is {user}",
        }
        while time.monotonic() < give_up_at:
            try:
                response = await client.post(self.url, json=body)
                if response.status_code == 200:
                    self.acked.add((user, turn))
                    return
                self.failures[f"HTTP {response.status_code}"] += 1
            except httpx.TransportError as exc:
                self.failures[type(exc).__name__] += 1
            self.retries += 1
            await asyncio.sleep(0.2)


async def faults(processes: Processes, log: list[str], start: float) -> None:
    async def at(second: float, what: str) -> None:
        await asyncio.sleep(max(0.0, start + second - time.monotonic()))
        log.append(f"{time.monotonic() - start:5.1f} s  {what}")

    await at(6, "kill -9 the worker")
    processes.stop("worker", signal.SIGKILL)
    await at(10, "start the worker again")
    processes.start_worker()
    await at(14, "shut Redis down")
    await asyncio.to_thread(
        subprocess.run, ["redis-cli", "-p", "6379", "shutdown", "nosave"], capture_output=True
    )
    await at(19, "start Redis again")
    await asyncio.to_thread(subprocess.run, REDIS_START, shell=True, check=True)
    await at(23, "kill -9 the API process, start it again")
    processes.stop("api", signal.SIGKILL)
    await processes.start_api()
    log.append(f"{time.monotonic() - start:5.1f} s  API answering again")
    await at(31, "SIGTERM the API process (graceful), start it again")
    processes.stop("api", signal.SIGTERM)
    await processes.start_api()
    log.append(f"{time.monotonic() - start:5.1f} s  API answering again")


def drain(url: str, timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    while True:
        with psycopg.connect(url) as conn:
            rows = conn.execute(
                "SELECT status, count(*) FROM message_extractions GROUP BY 1"
            ).fetchall()
        states = {status: int(n) for status, n in rows}
        if not states.get("pending") or time.monotonic() > deadline:
            return states
        time.sleep(1)


def verify(url: str, acked: set[tuple[str, int]]) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        stored = conn.execute(
            "SELECT user_id, turn_number, count(*) FROM messages GROUP BY 1, 2"
        ).fetchall()
        memories = conn.execute("SELECT count(*) FROM memories").fetchone()[0]
        unextracted = conn.execute(
            "SELECT count(*) FROM messages m LEFT JOIN message_extractions e"
            " ON e.tenant_id = m.tenant_id AND e.user_id = m.user_id AND e.message_id = m.id"
            " WHERE e.status IS DISTINCT FROM 'done'"
        ).fetchone()[0]
    present = {(user, turn) for user, turn, _ in stored}
    return {
        "turns acknowledged": len(acked),
        "turns stored": sum(n for _, _, n in stored),
        "turns stored twice or more": sum(1 for _, _, n in stored if n > 1),
        "acknowledged but missing": len(acked - present),
        "stored but never acknowledged": len(present - acked),
        "stored turns not extracted": int(unextracted),
        "memories extracted": int(memories),
    }


def setup(args: argparse.Namespace) -> tuple[str, str, dict[str, str], Path]:
    """A fresh database on the embedded server, the processes' environment, an API key."""
    data_dir = Path(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_database_url(data_dir)
    name = f"faults_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(server, dbname=name)
    env = {**os.environ, "MNEMO_DATABASE_URL": url, "MNEMO_API_KEY_PEPPER": PEPPER,
           "MNEMO_REDIS_URL": REDIS_URL, "MNEMO_RATE_LIMIT_RPS": "0",
           "MNEMO_SHUTDOWN_SECONDS": "20"}  # fmt: skip
    created = subprocess.run(
        [*CLI, "keys", "create", "--tenant", "faults"], env=env, capture_output=True, check=True
    )
    return url, created.stdout.decode().split()[0], env, data_dir


async def load_with_faults(processes: Processes, writers: Writers, seconds: float) -> list[str]:
    """The write load and, alongside, the fault schedule; the schedule as it happened."""
    log: list[str] = []
    await processes.start_api()
    processes.start_worker()
    await asyncio.gather(writers.run(seconds), faults(processes, log, time.monotonic()))
    return log


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--data-dir", default="/tmp/mnemo-service-faults")
    args = parser.parse_args()
    url, key, env, data_dir = setup(args)
    processes = Processes(env, args.port, data_dir)
    writers = Writers(args.port, key, args.clients)
    try:
        log = asyncio.run(load_with_faults(processes, writers, args.seconds))
        states = drain(url, timeout=300)
        counts = verify(url, writers.acked)
    finally:
        if subprocess.run(["redis-cli", "-p", "6379", "ping"], capture_output=True).returncode:
            subprocess.run(REDIS_START, shell=True, check=False)
        processes.stop("api", signal.SIGTERM)
        processes.stop("worker", signal.SIGTERM)
    print("\n".join(log))
    print(f"\nfailed attempts (then retried): {dict(writers.failures)}; retries {writers.retries}")
    print(f"extraction ledger: {states}")
    print("\n| count | value |\n|---|---:|")
    for label, value in counts.items():
        print(f"| {label} | {value:,} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
