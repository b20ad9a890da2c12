"""Shared fixtures: a real PostgreSQL, a fresh database per test, the default embedder.

The server is ``MNEMO_TEST_DATABASE_URL`` if set, else an embedded PostgreSQL
started once per session in a temporary directory. A template database is
migrated once; each test gets its own ``CREATE DATABASE ... TEMPLATE`` copy.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import sys
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from mnemo import AsyncMemory, MnemoConfig
from mnemo.providers.embedders.base import Embedder
from mnemo.store.postgres.migrate import migrate
from mnemo.store.postgres.server import embedded_database_url

TEMPLATE = f"mnemo_template_{os.getpid()}"


def with_database(url: str, dbname: str) -> str:
    """``url`` pointing at another database on the same server."""
    return make_conninfo(url, dbname=dbname)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A maintenance connection to the test server (database ``postgres``)."""
    external = os.environ.get("MNEMO_TEST_DATABASE_URL")
    if external:
        yield external
        return
    # Not under pytest's own temp root: a second pytest session on the machine resets
    # that root to 0700, and the server (run as another OS user when tests run as
    # root) could then no longer reach its data directory.
    data_dir = Path(tempfile.mkdtemp(prefix="mnemo-test-pg-"))
    # Registered before the server starts, so it runs after the server's own exit
    # handler has stopped it (atexit runs handlers last-in, first-out).
    atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    yield embedded_database_url(data_dir)


@pytest.fixture(scope="session")
def template_url(server_url: str) -> Iterator[str]:
    """A database migrated to the newest schema, copied by every test."""
    create_database(server_url, TEMPLATE)
    url = with_database(server_url, TEMPLATE)
    migrate(url)
    yield url
    drop_database(server_url, TEMPLATE)


@pytest.fixture
def database_url(server_url: str, template_url: str) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    with copied_database(server_url, template_url, "mnemo_test") as url:
        yield url


@contextmanager
def copied_database(server_url: str, template_url: str, prefix: str) -> Iterator[str]:
    """A new copy of the migrated template database (named ``prefix_<random>``), dropped
    afterwards: its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    create_database(server_url, name, template=conninfo_to_dict(template_url)["dbname"])
    try:
        yield with_database(server_url, name)
    finally:
        drop_database(server_url, name)


@pytest.fixture
def empty_database_url(server_url: str) -> Iterator[str]:
    """A fresh database with no schema at all."""
    name = f"mnemo_empty_{uuid.uuid4().hex[:12]}"
    create_database(server_url, name)
    yield with_database(server_url, name)
    drop_database(server_url, name)


@pytest.fixture(scope="session")
def e5_cache_dir() -> Iterator[Path]:
    """Where this session's e5 graphs are built, once (the first embedder that opens)."""
    path = Path(tempfile.mkdtemp(prefix="mnemo-test-e5-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def embedder(e5_cache_dir: Path) -> Embedder:
    """The default offline embedder (e5 on onnxruntime), loaded once."""
    from mnemo.providers.embedders.e5 import E5Embedder

    return E5Embedder(cache_dir=e5_cache_dir)


@pytest.fixture
def config(database_url: str, embedder: Embedder) -> MnemoConfig:
    return MnemoConfig(database_url=database_url, embedder=embedder, background_flush_seconds=0.05)


@pytest.fixture
async def memory(config: MnemoConfig) -> AsyncIterator[AsyncMemory]:
    async with AsyncMemory(config) as opened:
        yield opened


def create_database(server_url: str, name: str, template: str | None = None) -> None:
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(statement)


def drop_database(server_url: str, name: str) -> None:
    statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(statement)


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


# A hung asyncio test shows only an idle selector in pytest-timeout's dump; this
# prints every task's stack first, so the await that never returned is visible.
HUNG_AFTER_SECONDS = 60.0
_test_loop: list[asyncio.AbstractEventLoop] = []


@pytest.fixture(scope="session", autouse=True)
async def _remember_test_loop() -> None:
    _test_loop.append(asyncio.get_running_loop())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[object]:
    timer = threading.Timer(HUNG_AFTER_SECONDS, _dump_tasks_from_loop, args=(item.nodeid,))
    timer.daemon = True
    timer.start()
    try:
        return (yield)
    finally:
        timer.cancel()


def _dump_tasks_from_loop(nodeid: str) -> None:
    if _test_loop and not _test_loop[0].is_closed():
        _test_loop[0].call_soon_threadsafe(_dump_tasks, nodeid)


def _dump_tasks(nodeid: str) -> None:
    print(f"\n==== {nodeid} still running after {HUNG_AFTER_SECONDS:g}s; tasks:", file=sys.stderr)
    for task in asyncio.all_tasks():
        task.print_stack(file=sys.stderr)
