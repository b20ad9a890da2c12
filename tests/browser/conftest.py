"""The inspector in headless Chromium (Debian's package) driven by Playwright, against
a real ``mnemo serve`` process on a database seeded with real data.

One server and one seeded database serve the whole module; each test gets a fresh
browser context and fails on any console error or uncaught exception. Without
Chromium or Playwright the tests skip, unless ``MNEMO_REQUIRE_TIERS`` names
``browser`` (CI), where they fail.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from psycopg.conninfo import conninfo_to_dict

from mnemo import MnemoConfig
from mnemo.providers.embedders.base import Embedder
from tests.browser.seed import TENANT, Seeded, seed, seed_dead_letter
from tests.conftest import create_database, drop_database, with_database
from tests.service.conftest import PEPPER
from tests.service.test_serve import free_port, run_cli, wait_until_ready
from tests.support.tiers import prerequisite_missing

pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
#: Where to save screenshots of the main pages (the ones in docs/ are made this way).
SCREENSHOTS_ENV = "MNEMO_INSPECTOR_SCREENSHOTS"


def chromium_path() -> str:
    """Debian's Chromium, or the test skips (fails when the browser tier is required)."""
    found = os.environ.get("MNEMO_CHROMIUM") or shutil.which("chromium")
    if not found:
        prerequisite_missing("browser", "no chromium on PATH (apt-get install chromium)")
    return str(found)


@dataclass
class Inspector:
    """The running service, its seeded data and an API key of the seeded tenant."""

    base_url: str
    key: str
    seeded: Seeded
    database_url: str

    def url(self, hash_route: str = "") -> str:
        return f"{self.base_url}/ui/{hash_route}"


@pytest.fixture(scope="module")
def inspector(
    server_url: str, template_url: str, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Inspector]:
    chromium_path()
    name = f"mnemo_browser_{uuid.uuid4().hex[:12]}"
    create_database(server_url, name, template=conninfo_to_dict(template_url)["dbname"])
    database_url = with_database(server_url, name)
    config = MnemoConfig(database_url=database_url, embedder=embedder)
    env = {
        **os.environ,
        "MNEMO_DATABASE_URL": database_url,
        "MNEMO_AUTH": "keys",
        "MNEMO_API_KEY_PEPPER": PEPPER,
        "MNEMO_AUTH_CACHE_SECONDS": "0",
        "MNEMO_RATE_LIMIT_RPS": "0",
        "MNEMO_IN_PROCESS_WORKER": "true",
    }
    # The session's event loop runs in this thread; the seeding gets one of its own.
    try:
        with ThreadPoolExecutor(1) as thread:
            failed = thread.submit(asyncio.run, seed_dead_letter(config)).result()
            # The service starts (and loads its model) while the rest is stored.
            with serving(env, tmp_path_factory.mktemp("inspector") / "serve.log") as ready:
                seeded = thread.submit(asyncio.run, seed(config, failed)).result()
                key = run_cli("keys", "create", "--tenant", TENANT, "--name", "ui", env=env)
                yield Inspector(ready(), key.split()[0], seeded, database_url)
    finally:
        drop_database(server_url, name)


@contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[Callable[[], str]]:
    """``mnemo serve`` started at once; the function given waits until it is ready and
    returns its URL. Stopped (SIGTERM) on exit."""
    port = free_port()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "mnemo.cli.main", "serve", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"

    def ready() -> str:
        wait_until_ready(base_url, process, log)
        return base_url

    try:
        yield ready
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Browser:
    """A Playwright page and every console error or page error it has seen."""

    page: Any
    errors: list[str] = field(default_factory=list)
    refusals: list[tuple[int, str]] = field(default_factory=list)

    def expect_refusal(self, status: int, url_part: str) -> None:
        """The test provokes ``status`` from a URL containing ``url_part``: the failed
        request and the console's report of it are not errors."""
        self.refusals.append((status, url_part))

    def unexpected_errors(self) -> list[str]:
        return [
            error
            for error in self.errors
            if not any(str(status) in error and part in error for status, part in self.refusals)
        ]


@pytest.fixture(scope="module")
def chromium(inspector: Inspector) -> Iterator[Any]:
    """Headless Chromium, started once for the module with a fresh profile of its own."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        prerequisite_missing("browser", "playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        # launch() gives the browser a new, empty user-data-dir, removed on close.
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser(chromium: Any) -> Iterator[Browser]:
    """A new page in a new context (its own storage), failing the test on console errors."""
    context = chromium.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    seen = Browser(page)
    page.on(
        "console",
        lambda m: m.type == "error" and seen.errors.append(f"{m.text} at {m.location.get('url')}"),
    )
    page.on("pageerror", lambda e: seen.errors.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: seen.errors.append(f"request failed: {r.url}"))
    page.on(
        "response", lambda r: r.status >= 400 and seen.errors.append(f"{r.status} from {r.url}")
    )
    try:
        yield seen
        assert seen.unexpected_errors() == [], f"console errors: {seen.errors}"
    finally:
        context.close()


def screenshot(browser: Browser, name: str) -> None:
    """Save the page as ``<name>.png`` where ``MNEMO_INSPECTOR_SCREENSHOTS`` says."""
    folder = os.environ.get(SCREENSHOTS_ENV)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        browser.page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
