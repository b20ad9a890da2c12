"""The memory inspector: static pages at ``/ui`` that read the REST API of the same service.

Plain HTML, CSS and JavaScript modules shipped inside the package (``static/``):
nothing is built at install time and nothing is fetched from elsewhere. The pages
hold no data; they call ``/api/v1`` with the key the person enters (kept in the
tab's session storage), so the tenant wall and every check of the API apply.
They render every value as text (``static/js/dom.js``); the Content-Security-Policy
below also forbids inline scripts and any other origin, as a second wall.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"
#: Where the inspector is served.
UI_PATH = "/ui"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class InspectorFiles(StaticFiles):
    """The inspector's static files, each answered with the security headers."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        return response


def mount_inspector(app: FastAPI) -> None:
    """Serve the inspector at ``/ui/`` (``/ui`` redirects there)."""
    app.mount(UI_PATH, InspectorFiles(directory=STATIC_DIR, html=True), name="inspector")
