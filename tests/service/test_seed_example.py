"""The long-form memory service's own example (seed 004, "Example Usage"), end to end
through a real ``mnemo serve`` started with no configuration — the embedded PostgreSQL,
no API keys, extraction inside the process — and through the Python client.

Turn 1 goes to one session, the question to another: both the extracted memory and the
verbatim turn come back. Only the port is chosen (8000 may be taken on a shared
machine) and the data directory is the platform default under a temporary
``XDG_DATA_HOME``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mnemo.client import MnemoClient
from tests.service.test_serve import free_port, wait_until_ready

pytestmark = pytest.mark.slow

TURN_1 = "I love espresso and prefer dark roast coffee"
QUESTION = "What kind of coffee should I buy?"
#: What the offline extractor makes of turn 1.
EXTRACTED = "The user loves espresso and prefers dark roast coffee."


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("home")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("MNEMO_", "POSTGRES_", "REDIS_"))
    }
    env["XDG_DATA_HOME"] = str(home / "data")  # where the default data directory goes
    port = free_port()
    log = home / "serve.log"
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
        yield Served(process, base_url, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def eventually(check: Callable[[], Any], *, seconds: float = 90) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.25)
    raise AssertionError(f"nothing came within {seconds} s")


def test_start_up_says_the_worker_runs_inside(served: Served) -> None:
    log = served.log.read_text()
    assert "UNAUTHENTICATED mode" in log
    assert "extraction: a worker runs inside this process" in log
    ready = httpx.get(f"{served.base_url}/api/v1/health/ready", timeout=30).json()
    assert ready["checks"]["workers"]["status"] == "ok"
    assert ready["checks"]["workers"]["detail"] == "1 live worker(s)"  # counted once


def test_the_seed_example_through_the_service(served: Served) -> None:
    api = f"{served.base_url}/api/v1"
    first = httpx.post(f"{api}/conversation", timeout=60, json={
        "user_id": "user_123", "turn_number": 1, "message": TURN_1, "session_id": "monday",
    })  # fmt: skip
    assert first.status_code == 200, first.text
    assert first.json()["extraction"] in ("pending", "processing", "done")

    def extracted() -> list[str]:
        listed = httpx.get(f"{api}/memories", params={"user_id": "user_123"}, timeout=30)
        return [m["content"] for m in listed.json()["items"]]

    assert eventually(extracted) == [EXTRACTED]

    later = httpx.post(f"{api}/conversation", timeout=60, json={
        "user_id": "user_123", "turn_number": 500, "message": QUESTION, "session_id": "friday",
    })  # fmt: skip
    assert later.status_code == 200, later.text
    body = later.json()
    assert [m["content"] for m in body["memories"]][:1] == [EXTRACTED]
    assert f"session monday] user: {TURN_1}" in body["context"]
    assert f"user: {QUESTION}" in body["context"]  # this session's turn, as recent conversation


def test_the_seed_example_through_the_python_client(served: Served) -> None:
    with MnemoClient(served.base_url, timeout=60) as m:
        m.add(TURN_1, user_id="user_456", session_id="monday", infer=True)
        found = eventually(lambda: [r.content for r in m.list(user_id="user_456")])
        assert found == [EXTRACTED]
        assert m.search(QUESTION, user_id="user_456")[0].content == EXTRACTED
        reply = m.context(QUESTION, user_id="user_456", session_id="friday")
        assert f"session monday] user: {TURN_1}" in reply.text
        # The memory was found, and left out of the text as a duplicate of that turn.
        (memories,) = [s for s in reply.sections if s["name"] == "vector_search"]
        assert memories["found"] == 1 and memories["dropped_duplicates"] == 1
        assert [(d["content"], d["kept_in"]) for d in reply.dropped] == [(EXTRACTED, "past_turns")]


def test_sigterm_stops_the_service_and_its_worker(served: Served) -> None:
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=60) in (0, -signal.SIGTERM)
    log = served.log.read_text()
    assert "stopping the in-process extraction worker" in log
    assert "the in-process extraction worker stopped" in log
