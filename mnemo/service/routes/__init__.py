"""One router per resource; each carries its full path under ``/api/v1``.

Full prefixes (rather than one outer prefix) keep every route's own ``path`` the
template the metrics label requests with.
"""

from __future__ import annotations

from fastapi import APIRouter

from mnemo.service.routes import (
    context,
    conversation,
    extractions,
    health,
    memories,
    reference,
    users,
    values,
)


def api_routers() -> list[APIRouter]:
    """Every resource's router."""
    return [
        health.router,
        memories.router,
        users.router,
        conversation.router,
        extractions.router,
        context.router,
        values.router,
        reference.router,
    ]
