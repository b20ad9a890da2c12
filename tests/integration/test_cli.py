"""The ``mnemo`` command against a real database."""

from __future__ import annotations

import json
import subprocess
import sys

import psycopg
import pytest

from mnemo.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_demo_runs_end_to_end(database_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mnemo.cli.main", "demo", "--database-url", database_url],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "stored 6 memories" in result.stdout
    assert "dark roast" in result.stdout
    assert "'memories': 6" in result.stdout


# README's first command installs mnemo without extras: the CLI must not need them.
WITHOUT_EXTRAS = """
import sys
for name in ("fastapi", "uvicorn", "redis", "prometheus_client", "onnxruntime", "pypdf", "yaml"):
    sys.modules[name] = None  # importing it now raises ImportError, as if not installed
from mnemo.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_the_cli_runs_without_any_extra_installed(database_url: str) -> None:
    def cli(*argv: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", WITHOUT_EXTRAS, *argv]
        return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)

    demo = cli("demo", "--database-url", database_url)
    assert demo.returncode == 0, demo.stderr
    assert "dark roast" in demo.stdout
    serve = cli("serve", "--database-url", database_url)
    assert serve.returncode != 0
    assert "pip install 'mnemo[service]'" in serve.stderr


def test_add_search_history_forget(capsys: pytest.CaptureFixture[str], database_url: str) -> None:
    db = ("--database-url", database_url)
    code, out = run(
        capsys,
        "add",
        "I prefer window seats",
        "--user",
        "ana",
        "--metadata",
        '{"source": "cli"}',
        *db,
    )
    assert code == 0
    memory_id = out.strip()
    code, out = run(capsys, "search", "where do I like to sit?", "--user", "ana", "--json", *db)
    hits = json.loads(out)
    assert hits[0]["id"] == memory_id
    assert hits[0]["metadata"] == {"source": "cli"}
    assert "relevance" in hits[0]["scores"]
    code, out = run(capsys, "history", memory_id, *db)
    assert [e["event"] for e in json.loads(out)] == ["add"]
    code, out = run(capsys, "forget", "--user", "ana", *db)
    assert json.loads(out)["memories"] == 1


def test_errors_are_reported_not_raised(
    capsys: pytest.CaptureFixture[str], database_url: str
) -> None:
    code = main(["get", "not-a-uuid", "--database-url", database_url])
    assert code == 2
    assert "InvalidInput" in capsys.readouterr().err


def test_db_index_scopes(capsys: pytest.CaptureFixture[str], database_url: str) -> None:
    from mnemo import Memory
    from mnemo.store.postgres.scope_indexes import index_name

    with Memory(database_url=database_url) as memory:
        memory.add_many(
            [{"content": f"Ann's note {i} about sailing"} for i in range(6)], user_id="ann"
        )
        memory.add("Bob's only note", user_id="bob")
    db = ("--database-url", database_url)
    code, out = run(capsys, "db", "index-scopes", "--min-rows", "5", *db)
    assert code == 0
    assert "built 1 scope index(es)" in out and "ann  memories  6" in out
    with psycopg.connect(database_url) as conn:
        found = conn.execute(
            "SELECT count(*) FROM pg_indexes WHERE indexname = %s",
            (index_name("default", "ann", "memories"),),
        ).fetchone()
    assert found == (1,)
    code, out = run(capsys, "db", "index-scopes", "--min-rows", "5", *db)
    assert code == 0 and "built 0 scope index(es)" in out  # already indexed
    code = main(["db", "index-scopes", "--min-rows", "0", *db])
    assert code == 2
    assert "min_rows must be a positive number" in capsys.readouterr().err


def test_db_current_and_upgrade(capsys: pytest.CaptureFixture[str], database_url: str) -> None:
    from mnemo.store.postgres.migrations import HEAD

    code, out = run(capsys, "db", "upgrade", "--database-url", database_url)
    assert code == 0 and HEAD in out
    code, out = run(capsys, "db", "current", "--database-url", database_url)
    assert out.strip() == HEAD
