"""The embedded PostgreSQL: zero configuration, shared safely by several processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg

SCRIPT = textwrap.dedent(
    """
    import sys
    from mnemo import Memory
    with Memory() as m:  # configured only by MNEMO_DATA_DIR
        m.add(f"written by process {sys.argv[1]}", user_id="shared")
        hits = m.search("which process wrote this?", user_id="shared", limit=10)
        print(len(hits))
    """
)


def run_processes(data_dir: Path, count: int) -> list[subprocess.CompletedProcess[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MNEMO_", "POSTGRES_"))}
    env["MNEMO_DATA_DIR"] = str(data_dir)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT, str(n)],
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for n in range(count)
    ]
    return [
        subprocess.CompletedProcess(p.args, p.wait(timeout=120), *p.communicate()) for p in procs
    ]


def test_processes_share_one_embedded_server(tmp_path: Path) -> None:
    results = run_processes(tmp_path, 3)
    for result in results:
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "pgdata" / "PG_VERSION").exists()
    # All three writes landed in the one database; the server stopped with its last user.
    again = run_processes(tmp_path, 1)[0]
    assert again.returncode == 0, again.stderr
    assert int(again.stdout.strip()) == 4
    assert not (tmp_path / "pgdata" / "postmaster.pid").exists()


def test_embedded_url_is_a_unix_socket(server_url: str) -> None:
    if os.environ.get("MNEMO_TEST_DATABASE_URL"):
        return
    with psycopg.connect(server_url) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        vector = conn.execute(
            "SELECT default_version FROM pg_available_extensions WHERE name = 'vector'"
        ).fetchone()
    assert version is not None and version[0].startswith("18")
    assert vector is not None and vector[0] >= "0.8"


SHOW_SETTINGS = textwrap.dedent(
    """
    import psycopg, sys
    from pathlib import Path
    from mnemo.store.postgres.server import embedded_database_url
    with psycopg.connect(embedded_database_url(Path(sys.argv[1]))) as conn:
        print(conn.execute("SHOW shared_buffers").fetchone()[0])
    """
)


def test_memory_settings_are_tuned_from_the_second_start(tmp_path: Path) -> None:
    from mnemo.store.postgres.server import tuned_settings

    def shared_buffers() -> str:
        result = subprocess.run(
            [sys.executable, "-c", SHOW_SETTINGS, str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return result.stdout.strip()

    import psutil

    assert shared_buffers() == "128MB"  # PostgreSQL's own default on the first start
    expected = tuned_settings(psutil.virtual_memory().total)["shared_buffers"]
    assert shared_buffers() == expected.replace("1024MB", "1GB")
