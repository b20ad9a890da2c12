"""A small, bounded HTTP/1.1 load generator on asyncio streams (keep-alive, no TLS).

httpx costs about a millisecond of CPU per request, which on 2 shared cores
would be charged to the server under test; this client costs a few tens of µs.
It only speaks what the benchmarks need: a request with a JSON body, a response
with ``Content-Length``. Every loop is bounded in requests and in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Result:
    """Latencies (ms) and outcomes of one run."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    def percentiles(self) -> tuple[float, float, float]:
        q = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return q[49], q[94], q[98]

    def record(self, since: float, status: int) -> None:
        """One answered request: its latency from ``since`` (a perf_counter time)."""
        self.latencies.append((time.perf_counter() - since) * 1000)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


class Connection:
    """One keep-alive connection."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        """Send one request; an idle connection the server closed is reopened once."""
        fresh = self.writer is None
        try:
            return await self._exchange(method, path, body)
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError):
            if fresh:
                raise
            await self.close()
            return await self._exchange(method, path, body)

    async def _exchange(self, method: str, path: str, body: Any) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        payload = json.dumps(body).encode() if body is not None else b""
        self.writer.write(
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.head}"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next(
            int(line.split(":", 1)[1])
            for line in lines
            if line.lower().startswith("content-length:")
        )
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                await self.writer.wait_closed()
            self.writer = None


RequestFactory = Callable[[random.Random], tuple[str, str, Any]]


async def closed_loop(
    host: str,
    port: int,
    headers: dict[str, str],
    make: RequestFactory,
    *,
    concurrency: int,
    seconds: float,
    max_requests: int = 1_000_000,
    think: float = 0.0,
    seed: int = 1,
) -> Result:
    """``concurrency`` clients, each sending its next request when the last one is answered
    (after an exponential think time of mean ``think`` seconds, if given)."""
    result = Result()
    deadline = time.perf_counter() + seconds
    sent = 0

    async def client(index: int) -> None:
        nonlocal sent
        rng = random.Random(seed * 1000 + index)
        conn = Connection(host, port, headers)
        try:
            while time.perf_counter() < deadline and sent < max_requests:
                sent += 1
                method, path, body = make(rng)
                start = time.perf_counter()
                status, _ = await conn.request(method, path, body)
                result.record(start, status)
                if think:
                    await asyncio.sleep(rng.expovariate(1 / think))
        finally:
            await conn.close()

    start = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(concurrency)))
    result.seconds = time.perf_counter() - start
    return result


async def open_loop(
    host: str,
    port: int,
    headers: dict[str, str],
    make: RequestFactory,
    *,
    rate: float,
    seconds: float,
    max_connections: int = 256,
    seed: int = 1,
) -> Result:
    """Requests arriving at ``rate`` per second (Poisson), whether or not earlier ones
    were answered. Latency counts from a request's scheduled arrival, so time spent
    queued behind a slow server is included (no coordinated omission); a request finding
    every one of ``max_connections`` busy waits for one, and that wait counts too."""
    result = Result()
    rng = random.Random(seed)
    idle: list[Connection] = []
    slots = asyncio.Semaphore(max_connections)
    tasks: set[asyncio.Task[None]] = set()

    async def send(arrival: float, request: tuple[str, str, Any]) -> None:
        async with slots:
            conn = idle.pop() if idle else Connection(host, port, headers)
            status, _ = await conn.request(*request)
            result.record(arrival, status)
            idle.append(conn)

    start = time.perf_counter()
    arrival = start
    while arrival - start < seconds:
        arrival += rng.expovariate(rate)
        delay = arrival - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(send(arrival, make(rng)))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    result.seconds = time.perf_counter() - start
    for conn in idle:
        await conn.close()
    return result
