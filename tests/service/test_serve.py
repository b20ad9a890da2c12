"""``mnemo serve`` as a real process: the sync client against it, and a graceful stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from mnemo import AddResult, SearchHit
from mnemo.client import MnemoClient
from mnemo.errors import NotFound, Unauthenticated
from tests.service.conftest import PEPPER

pytestmark = pytest.mark.slow


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    key: str
    database_url: str
    log: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mnemo.cli.main", *args], env=env, capture_output=True, check=True
    )
    return done.stdout.decode()


@pytest.fixture
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {
        **os.environ,
        "MNEMO_API_KEY_PEPPER": PEPPER,
        "MNEMO_AUTH": "keys",
        "MNEMO_DATABASE_URL": database_url,
        "MNEMO_AUTH_CACHE_SECONDS": "0",
    }
    key = run_cli("keys", "create", "--tenant", "acme", "--name", "smoke", env=env).split()[0]
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "mnemo.cli.main", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base_url, process, log)
        yield Server(process, base_url, key, database_url, log)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def wait_until_ready(base_url: str, process: subprocess.Popen[bytes], log: object) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"mnemo serve exited: {Path(str(log)).read_text()[-2000:]}")
        try:
            if httpx.get(f"{base_url}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise AssertionError("mnemo serve did not become ready in 120 s")


def test_the_sync_client_against_a_running_service(server: Server) -> None:
    # With an external PostgreSQL, extraction is `mnemo worker`'s, and start-up says so.
    assert "no live worker on this database" in server.log.read_text()
    assert "`mnemo worker`" in server.log.read_text()
    with MnemoClient(server.base_url, api_key=server.key) as m:
        result = m.add("The deploy freeze starts on Friday", user_id="ops")
        assert isinstance(result, AddResult)
        hits = m.search("when does the freeze start?", user_id="ops")
        assert isinstance(hits[0], SearchHit) and hits[0].id == result.id
        assert next(iter(m.export_user("ops")))["type"] == "export"
        m.delete(result.id)
        with pytest.raises(NotFound):
            m.get(result.id)
    forged = "mk_" + "a" * 12 + "_" + "b" * 43
    with MnemoClient(server.base_url, api_key=forged) as stranger, pytest.raises(Unauthenticated):
        stranger.list(user_id="ops")


def test_sigterm_lets_the_in_flight_request_finish(server: Server) -> None:
    items = [
        {"content": f"turn {i}: we discussed the quarterly roadmap item {i}"} for i in range(40)
    ]
    outcome: dict[str, object] = {}

    def slow_batch() -> None:
        with MnemoClient(server.base_url, api_key=server.key, timeout=120) as m:
            outcome["ids"] = m.add_many(items, user_id="ops")

    writer = threading.Thread(target=slow_batch)
    writer.start()
    time.sleep(0.5)  # the batch is being embedded now
    server.process.send_signal(signal.SIGTERM)
    writer.join(timeout=120)
    # uvicorn re-raises the signal once it has shut down gracefully.
    assert server.process.wait(timeout=60) in (0, -signal.SIGTERM)
    assert len(outcome["ids"]) == 40  # type: ignore[arg-type]
    with psycopg.connect(server.database_url) as conn:
        stored = conn.execute("SELECT count(*) FROM memories WHERE user_id = 'ops'").fetchone()
    assert stored == (40,)
