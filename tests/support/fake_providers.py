"""A real local HTTP server speaking the OpenAI and Gemini embedding wire formats.

Routes: ``POST /v1/embeddings`` (OpenAI and compatible servers) and
``POST /v1beta/models/{model}:batchEmbedContents`` (Gemini API). Vectors are
deterministic functions of (model, task, text), so a test can compute the
expected reply with ``FakeProviderServer.vector``. ``queue(Fault(...))`` scripts
the replies to the next requests (errors, delays, malformed bodies, wrong
dimensions); every request is recorded in ``requests``.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

OPENAI_KEY = "sk-test-0123456789abcdef"
GOOGLE_KEY = "AIza-test-0123456789abcdef"
#: Vector length per model name; others get ``DEFAULT_DIMENSION``.
DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
    "gemini-embedding-001": 3072,
    "text-embedding-004": 768,
}
DEFAULT_DIMENSION = 24
_GEMINI_PATH = re.compile(r"^/v1beta/models/(?P<model>[^/:]+):batchEmbedContents$")


@dataclass(frozen=True)
class Fault:
    """How to answer one request instead of the normal reply.

    ``status`` with ``message`` gives an error in the route's format; ``raw``
    replaces the body entirely; ``delay`` sleeps first; ``dimension`` makes the
    vectors that long; ``reverse`` lists OpenAI results in reverse order (with
    correct ``index`` values); ``headers`` are added to the reply.
    """

    status: int = 200
    message: str = ""
    raw: bytes | None = None
    delay: float = 0.0
    dimension: int | None = None
    reverse: bool = False
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it."""

    path: str
    headers: dict[str, str]
    body: Any


class FakeProviderServer:
    """The server on 127.0.0.1 and a free port, in a background thread."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeProviderServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def reset(self) -> None:
        """Forget recorded requests and unused faults."""
        with self._lock:
            self.requests.clear()
            self._faults.clear()

    def queue(self, *faults: Fault) -> None:
        """Answer the next ``len(faults)`` requests with these, in order."""
        with self._lock:
            self._faults.extend(faults)

    @staticmethod
    def vector(model: str, task: str, text: str, dimension: int | None = None) -> list[float]:
        """The unit vector the server returns for ``text`` (``task``: input_type or taskType)."""
        size = dimension or DIMENSIONS.get(model, DEFAULT_DIMENSION)
        seed = int.from_bytes(hashlib.sha256(f"{model}|{task}|{text}".encode()).digest()[:8])
        values = np.random.default_rng(seed).standard_normal(size)
        return [float(v) for v in values / np.linalg.norm(values)]

    def _record(self, request: Recorded) -> Fault:
        with self._lock:
            self.requests.append(request)
            return self._faults.popleft() if self._faults else Fault()


def _handler_for(server: FakeProviderServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            headers = {k.lower(): v for k, v in self.headers.items()}
            fault = server._record(Recorded(self.path, headers, body))
            time.sleep(fault.delay)
            gemini = _GEMINI_PATH.match(self.path.split("?")[0])
            if gemini:
                status, reply = _gemini(gemini["model"], headers, body, fault)
            elif self.path == "/v1/embeddings":
                status, reply = _openai(headers, body, fault)
            else:
                status, reply = 404, {"error": {"message": f"no route {self.path}"}}
            self._send(status, fault.raw if fault.raw is not None else reply, fault.headers)

        def _send(self, status: int, reply: Any, headers: dict[str, str]) -> None:
            payload = reply if isinstance(reply, bytes) else json.dumps(reply).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and left, as a slow-reply test intends

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def _openai(headers: dict[str, str], body: Any, fault: Fault) -> tuple[int, Any]:
    auth = headers.get("authorization", "")
    if auth and auth != f"Bearer {OPENAI_KEY}":
        key = auth.removeprefix("Bearer ")
        return 401, _openai_error(f"Incorrect API key provided: {key}.", "invalid_api_key")
    if fault.status != 200:
        return fault.status, _openai_error(fault.message or "scripted failure", "fault")
    model, texts = body["model"], body["input"]
    task = body.get("input_type", "")
    size = fault.dimension or body.get("dimensions")
    data = [
        {
            "object": "embedding",
            "index": i,
            "embedding": FakeProviderServer.vector(model, task, t, size),
        }
        for i, t in enumerate(texts)
    ]
    if fault.reverse:
        data.reverse()
    return 200, {"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": 1}}


def _openai_error(message: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "code": code}}


def _gemini(model: str, headers: dict[str, str], body: Any, fault: Fault) -> tuple[int, Any]:
    if headers.get("x-goog-api-key") != GOOGLE_KEY:
        return 400, _gemini_error(400, "API key not valid. Please pass a valid API key.")
    if fault.status != 200:
        return fault.status, _gemini_error(fault.status, fault.message or "scripted failure")
    embeddings = []
    for request in body["requests"]:
        assert request["model"] == f"models/{model}", request["model"]
        size = fault.dimension or request.get("outputDimensionality")
        text = request["content"]["parts"][0]["text"]
        values = FakeProviderServer.vector(model, request.get("taskType", ""), text, size)
        if request.get("outputDimensionality"):
            values = [2.5 * v for v in values]  # like Gemini: shortened vectors are not unit length
        embeddings.append({"values": values})
    return 200, {"embeddings": embeddings}


def _gemini_error(code: int, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": "INVALID_ARGUMENT"}}
