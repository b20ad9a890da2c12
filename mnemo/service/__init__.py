"""The REST service: ``create_app(settings)`` builds it, ``mnemo serve`` runs it.

Needs the ``service`` extra (``pip install 'mnemo[service]'``). See docs/deploy.md.
``create_app`` is imported on first use, so the modules the CLI shares with the
service (API keys, settings) work without the extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mnemo.service.settings import ServiceSettings

if TYPE_CHECKING:
    from mnemo.service.app import create_app

__all__ = ["ServiceSettings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from mnemo.service.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
