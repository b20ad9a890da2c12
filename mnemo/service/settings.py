"""The service's environment: mnemo's ``Settings`` plus how the REST service runs.

Extra variables: ``MNEMO_HOST``, ``MNEMO_PORT``, ``MNEMO_AUTH`` (``auto`` | ``keys`` |
``none``), ``MNEMO_API_KEY_PEPPER``, ``MNEMO_RATE_LIMIT_RPS`` / ``MNEMO_RATE_LIMIT_BURST``,
``MNEMO_MAX_REQUEST_BYTES``, ``MNEMO_MAX_IMPORT_BYTES``, ``MNEMO_MAX_PAGE_SIZE``,
``MNEMO_MAX_BATCH``, ``MNEMO_AUTH_CACHE_SECONDS``, ``MNEMO_SHUTDOWN_SECONDS``.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field

from mnemo.errors import ConfigurationError
from mnemo.settings import Settings

AuthMode = Literal["keys", "none"]
#: The role the service's connections switch to; row-level security binds it.
SERVICE_ROLE = "mnemo_service"


class ServiceSettings(Settings):
    """mnemo's variables plus the REST service's own."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    auth: Literal["auto", "keys", "none"] = "auto"
    api_key_pepper: str | None = None
    #: How long a checked key is trusted before it is looked up again (revocation delay).
    auth_cache_seconds: float = Field(default=5.0, ge=0)
    #: Sustained requests per second per API key; 0 turns rate limiting off.
    rate_limit_rps: float = Field(default=100.0, ge=0)
    rate_limit_burst: int = Field(default=200, ge=1)
    max_request_bytes: int = Field(default=1_048_576, ge=1024)
    max_import_bytes: int = Field(default=64 * 1_048_576, ge=1024)
    max_page_size: int = Field(default=200, ge=1, le=1000)
    max_batch: int = Field(default=1000, ge=1, le=5000)
    #: Seconds in-flight requests get to finish after SIGTERM.
    shutdown_seconds: float = Field(default=30.0, ge=0)

    def auth_mode(self) -> AuthMode:
        """``keys`` or ``none``; unauthenticated only on the embedded local default.

        ``auto`` means ``none`` with the embedded PostgreSQL and ``keys`` with a
        configured one. ``none`` is refused with a configured PostgreSQL or a host
        other than loopback, because then anyone who can reach the port could read
        every user's memories.
        """
        mode: AuthMode
        if self.auth == "auto":
            mode = "none" if self.resolved_database_url() is None else "keys"
        else:
            mode = self.auth
        if mode == "none":
            if self.resolved_database_url() is not None:
                raise ConfigurationError(
                    "MNEMO_AUTH=none is only for the embedded local default; with "
                    "MNEMO_DATABASE_URL / POSTGRES_HOST set, create API keys (`mnemo keys create`)"
                )
            if not _is_loopback(self.host):
                raise ConfigurationError(
                    f"the unauthenticated mode listens on loopback only, not {self.host}; "
                    "set MNEMO_AUTH=keys to serve other hosts"
                )
        return mode


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
