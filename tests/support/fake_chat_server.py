"""A real HTTP server on 127.0.0.1 that speaks the chat-completions wire format.

Tests script its answers and then inspect what it received::

    with FakeChatServer() as server:
        server.script(reply_json({"ok": True}), status(429), ...)
        ... client pointed at server.base_url ...
        server.requests[0].body["stream"]

Each scripted answer is used once, in order; when the script runs out the last
answer repeats. An answer is a :class:`Answer` or a function of the request
returning one, so a test can answer depending on what the client sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


@dataclass(frozen=True)
class ReceivedRequest:
    """What the server received: method, path, headers (lower-case names), JSON body."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class Answer:
    """One scripted HTTP answer."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds to wait before answering (to provoke client timeouts).
    delay: float = 0.0


Script = Answer | Callable[[ReceivedRequest], Answer]


def chat_completion(
    content: str, *, model: str = "fake-model", finish: str = "stop"
) -> dict[str, Any]:
    """A chat-completions response body whose message says ``content``."""
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish,
            }
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    }


def reply(content: str, **kwargs: Any) -> Answer:
    """A 200 answer whose message text is ``content``."""
    return Answer(body=chat_completion(content, **kwargs))


def reply_json(value: Any) -> Answer:
    """A 200 answer whose message text is ``value`` as JSON."""
    return reply(json.dumps(value))


def error(status: int, message: str, **headers: str) -> Answer:
    """An error answer in OpenAI's shape: ``{"error": {"message": ...}}``."""
    body = {"error": {"message": message, "type": "invalid_request_error", "code": None}}
    return Answer(status=status, body=body, headers=headers)


class FakeChatServer:
    """A threaded HTTP server on a free port of 127.0.0.1; use it as a context manager."""

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self._script: list[Script] = [reply("ok")]
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def script(self, *answers: Script) -> None:
        """Answer the next requests with ``answers`` in order (the last one repeats)."""
        with self._lock:
            self._script = list(answers)
            self.requests.clear()

    def bodies(self) -> list[Any]:
        return [request.body for request in self.requests]

    def _next_answer(self, request: ReceivedRequest) -> Answer:
        with self._lock:
            self.requests.append(request)
            script = self._script.pop(0) if len(self._script) > 1 else self._script[0]
        return script(request) if callable(script) else script

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler_for(server: FakeChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            request = ReceivedRequest(
                method="POST",
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            answer = server._next_answer(request)
            if answer.delay:
                time.sleep(answer.delay)
            self._send(answer)

        def _send(self, answer: Answer) -> None:
            payload = answer.body if isinstance(answer.body, str) else json.dumps(answer.body)
            data = payload.encode("utf-8")
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test); nothing to tell it

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler
