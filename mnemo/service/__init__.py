"""The REST service: ``create_app(settings)`` builds it, ``mnemo serve`` runs it.

Needs the ``service`` extra (``pip install 'mnemo[service]'``). See docs/deploy.md.
"""

from mnemo.service.app import create_app
from mnemo.service.settings import ServiceSettings

__all__ = ["ServiceSettings", "create_app"]
