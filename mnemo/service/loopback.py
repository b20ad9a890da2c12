"""The unauthenticated local mode answers loopback requests only (DNS rebinding, CSRF).

Without API keys (``MNEMO_AUTH=none``, the embedded local default) nothing but the
listening address stands between a web page the user visits and every memory: a
page can make the browser send requests to ``127.0.0.1:8000`` — cross-site, or
through DNS rebinding, where ``evil.example`` starts resolving to 127.0.0.1 and the
browser believes it talks to the page's own origin. Both are told apart by
headers a page cannot forge: the ``Host`` it was sent to must name a loopback host
(else ``421 Misdirected Request``) and an ``Origin``, when the browser sends one,
must be a loopback one too (else ``403``). The same check covers the REST API, the
inspector and ``/mcp``.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from mnemo.errors import Forbidden
from mnemo.service.errors import error_response

#: Host names a request to the local mode may name (any port).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: The status of a request sent to another host's name: this server does not answer for it.
MISDIRECTED = 421
#: ``name[:port]`` with a bracketed IPv6 name allowed; nothing else (no user info, no path).
_HOST = re.compile(r"(?P<name>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?")
_ORIGIN = re.compile(r"https?://(?P<host>.+)", re.IGNORECASE)


class LoopbackOnlyMiddleware:
    """Refuses requests whose ``Host`` or ``Origin`` is not a loopback one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host, origin = headers.get("host"), headers.get("origin")
        if not is_loopback_host(host):
            refused = error_response(Forbidden(
                f"this unauthenticated local service answers for 127.0.0.1, localhost and "
                f"[::1] only, not Host {host!r:.80}"
            ))  # fmt: skip
            refused.status_code = MISDIRECTED
        elif origin is not None and not is_loopback_origin(origin):
            refused = error_response(Forbidden(
                f"requests from web pages of {origin!r:.80} are refused: this local service "
                "has no API keys (set MNEMO_AUTH=keys to serve other origins)"
            ))  # fmt: skip
        else:
            await self.app(scope, receive, send)
            return
        await refused(scope, receive, send)


def is_loopback_host(host: str | None) -> bool:
    """Whether a ``Host`` header names a loopback host (with any port)."""
    match = _HOST.fullmatch(host or "")
    return match is not None and match["name"].strip("[]").lower() in LOOPBACK_HOSTS


def is_loopback_origin(origin: str) -> bool:
    """Whether an ``Origin`` header is an http(s) origin on a loopback host."""
    match = _ORIGIN.fullmatch(origin)
    return match is not None and is_loopback_host(match["host"])
