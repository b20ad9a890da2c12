"""Clicking through the inspector as a person would, against a real ``mnemo serve``.

The tests share one seeded server and run in this order; those that change data
(retry, rollback, edit, erase) each work on rows no other test reads.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.browser.conftest import Browser, Inspector, screenshot, serving
from tests.browser.seed import HOSTILE, HOSTILE_KEY, HOSTILE_SESSION, HOSTILE_USER
from tests.support.tiers import required_tiers

# Without Playwright the module skips, unless the browser tier is required (CI).
if "browser" in required_tiers():
    expect = importlib.import_module("playwright.sync_api").expect
else:
    expect = pytest.importorskip("playwright.sync_api", reason="browser tier: no playwright").expect


def sign_in(browser: Browser, inspector: Inspector, hash_route: str = "#/") -> None:
    page = browser.page
    page.goto(inspector.url(hash_route))
    page.fill("#api-key", inspector.key)
    page.click("text=Use key")
    expect(page.locator("#health [data-check=postgresql] .badge")).to_have_text("ok")


def test_the_key_is_asked_for_kept_for_the_session_only_and_forgotten(
    browser: Browser, inspector: Inspector
) -> None:
    page = browser.page
    page.goto(inspector.url())
    expect(page.locator("#api-key")).to_be_visible()
    sign_in(browser, inspector)
    users = page.locator("a.user-link")
    expect(users.first).to_be_visible()
    shown = users.all_inner_texts()
    assert {"alice", "bob", "carol", HOSTILE_USER} <= set(shown)
    assert "zed" not in shown  # another tenant's user
    assert page.evaluate("() => localStorage.length") == 0
    assert page.evaluate("() => document.cookie") == ""
    assert page.evaluate("() => sessionStorage.getItem('mnemo.inspector.key')") == inspector.key
    screenshot(browser, "users")
    page.click("#forget-key")
    expect(page.locator("#api-key")).to_be_visible()
    assert page.evaluate("() => sessionStorage.length") == 0


#: Elements the hostile text would have made, had any of it been parsed as markup.
INJECTED = "img, script, svg, iframe, b, a[href^=javascript], [onerror], [onload]"


def hostile_pages(inspector: Inspector) -> list[tuple[str, str, str]]:
    """Every page that shows stored text, as (route, element that shows it, text expected
    there), each showing hostile text stored for alice or for mallory (HOSTILE_USER)."""
    user, session, key = (quote(x, safe="") for x in (HOSTILE_USER, HOSTILE_SESSION, HOSTILE_KEY))
    mallory = f"#/user/{user}"
    return [
        ("#/", "a.user-link:has-text('mallory')", HOSTILE_USER),
        ("#/user/alice/memories", "a.memory-link >> text=onerror", HOSTILE),
        (f"#/memory/{inspector.seeded.hostile}", "#memory-content", HOSTILE),
        (f"#/memory/{inspector.seeded.mallory}", ".facts", "<b>tag</b>"),
        ("#/user/alice/settings?key=voice", "#setting-history", "onerror"),
        ("#/user/alice/conversations/trip", "#turns", "find_trails"),
        (f"{mallory}/memories", "#user-id", HOSTILE_USER),
        (f"{mallory}/search?q=onerror%20click", "#search-results", HOSTILE),
        (f"{mallory}/context?q=onerror%20click&max_tokens=400", "#context-text", HOSTILE),
        (f"{mallory}/conversations", "a.session-link", HOSTILE_SESSION),
        (f"{mallory}/conversations/{session}", "#turns", "My onerror question"),
        (f"{mallory}/documents?q=onerror%20guide", "#document-results", "__pwned=8"),
        (f"{mallory}/documents", "table.grid", "<b>onerror</b>.md"),
        (f"{mallory}/settings", "a.setting-link", HOSTILE_KEY),
        (f"{mallory}/settings?key={key}", "#setting-history", HOSTILE),
        (f"#/queue?status=done&user_id={user}", "tr.queued >> nth=0", "onerror"),
    ]


def test_hostile_stored_content_stays_inert_text(browser: Browser, inspector: Inspector) -> None:
    page = browser.page
    sign_in(browser, inspector)
    for hash_route, where, text in hostile_pages(inspector):
        page.goto(inspector.url(hash_route))
        expect(page.locator(where).first, hash_route).to_contain_text(text)
        assert page.evaluate("() => window.__pwned") is None, hash_route
        injected = page.locator(f"main :is({INJECTED}), #health :is({INJECTED})")
        made = injected.evaluate_all("found => found.map((e) => e.outerHTML)")
        assert made == [], hash_route


def test_filters_and_the_as_of_slider(browser: Browser, inspector: Inspector) -> None:
    page = browser.page
    sign_in(browser, inspector, "#/user/alice/memories")
    memories = page.locator("a.memory-link")
    expect(memories.filter(has_text="Berlin")).to_have_count(1)
    expect(memories.filter(has_text="Paris")).to_have_count(0)
    screenshot(browser, "user-memories")
    page.select_option("#filter-status", "superseded")
    page.click("text=Filter")
    expect(memories).to_have_text(["Alice lives in Paris."])
    page.select_option("#filter-status", "active")
    page.select_option("#filter-kind", "preference")
    page.fill("#filter-text", "WINDOW")
    page.click("text=Filter")
    expect(memories).to_have_text(["Alice prefers window seats on trains."])
    page.goto(inspector.url("#/user/alice/memories"))
    expect(memories.filter(has_text="Berlin")).to_have_count(1)
    slider = page.locator("#as-of")
    # April 2024: after Paris was learned, before Berlin replaced it.
    page.evaluate(
        """() => { const s = document.getElementById('as-of');
        const first = new Date('2024-03-10T09:00:00Z').getTime(), now = Date.now();
        s.value = String(Math.round((new Date('2024-04-15T00:00:00Z') - first) / (now - first)
            * Number(s.max)));
        s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change')); }"""
    )
    expect(page.locator("#as-of-label")).to_contain_text("as of 2024-04")
    expect(memories).to_have_text(["Alice lives in Paris."])
    assert slider.is_visible()
    page.click("#as-of-now")
    expect(memories.filter(has_text="Berlin")).to_have_count(1)


def test_a_memory_its_sources_history_and_supersession(
    browser: Browser, inspector: Inspector
) -> None:
    page = browser.page
    sign_in(browser, inspector, "#/user/alice/memories")
    page.locator("a.memory-link", has_text="Berlin").click()
    expect(page.locator("#memory-content")).to_contain_text("Berlin")
    expect(page.locator("#supersedes")).to_contain_text("Alice lives in Paris.")
    expect(page.locator("#history li[data-event=add]")).to_have_count(1)
    screenshot(browser, "memory")
    page.locator("#supersedes a").click()
    expect(page.locator("#memory-content")).to_have_text("Alice lives in Paris.")
    expect(page.locator("#superseded-by")).to_contain_text("Berlin")
    supersede = page.locator("#history li[data-event=supersede]")
    expect(supersede).to_contain_text("superseded_by")
    expect(supersede.locator("table.changes")).to_contain_text("active")
    page.locator(".source-turn a.turn-link").click()
    expect(page).to_have_url(re.compile(r"conversations/trip\?turn=1$"))
    expect(page.locator("#turns li.focus")).to_contain_text("I live in Paris.")
    expect(page.locator("#turns li.focus .extraction .badge")).to_have_text("done")


def test_search_draws_a_bar_per_score_component(browser: Browser, inspector: Inspector) -> None:
    page = browser.page
    sign_in(browser, inspector, "#/user/alice/search")
    query = "where did Alice live in June 2024?"  # a date: the context step lifts June's
    page.fill("#search-query", query)
    page.press("#search-query", "Enter")
    results = page.locator("#search-results > li")
    expect(results.filter(has_text="Berlin")).to_have_count(1)
    found = search_api(inspector, "alice", query)  # the same search (ids: reads reorder)
    expect(results).to_have_count(len(found["results"]))
    for hit in found["results"]:
        shown = results.filter(has=page.locator(f"a.memory-link[href='#/memory/{hit['id']}']"))
        components = [k for k in hit["scores"] if not k.endswith("_rank")]
        assert {"vector", "lexical", "neighbour", "context", "relevance", "recency", "access",
                "confidence", "importance"} <= set(components)  # fmt: skip
        for component in components:  # every number of the breakdown is drawn
            row = shown.locator(f".bar-row[data-component={component}]")
            expect(row.locator(".bar-fill")).to_have_count(1)
            expect(row.locator(".bar-value")).to_have_text(re.compile(r"^-?\d+(\.\d+)?$"))
    berlin = results.filter(has_text="Berlin")
    lifted = berlin.locator(".bar-row[data-component=context]")
    assert float(lifted.locator(".bar-value").inner_text()) > 0
    assert 0 < parse_width(lifted) <= 100
    assert 0 < parse_width(berlin.locator(".bar-row[data-component=vector]")) <= 100
    # The score is the weighted sum the page states, each weighted bar saying what it added.
    weights = found["weights"]
    assert weights and abs(sum(weights.values()) - 1) < 1e-9
    expect(page.locator("#score-formula")).to_contain_text(
        f"{weights['relevance']:.2f} × relevance"
    )
    added = berlin.locator(".bar-row[data-component=relevance] .bar-note").inner_text()
    assert re.fullmatch(r"\+\d\.\d{3}", added)
    score = float(berlin.locator(".score").inner_text())
    notes = [float(n) for n in berlin.locator(".bar-note").all_inner_texts() if n]
    assert len(notes) == sum(1 for w in weights.values() if w > 0)
    assert abs(sum(notes) - score) < 0.006  # each note rounded to 3 places
    page.locator("details.legend summary").click()
    expect(page.locator("details.legend dt", has_text="context")).to_have_count(1)
    screenshot(browser, "search")


def parse_width(row: Any) -> float:
    return float(row.locator(".bar-fill").evaluate("e => parseFloat(e.style.width)"))


def search_api(inspector: Inspector, user_id: str, query: str) -> dict[str, Any]:
    """The search the page makes, through the REST API with the same key."""
    response = httpx.post(
        f"{inspector.base_url}/api/v1/memories/{user_id}/search",
        json={"query": query, "top_k": 10},
        headers={"X-API-Key": inspector.key},
        timeout=30,
    )
    response.raise_for_status()
    found: dict[str, Any] = response.json()
    return found


def test_context_shows_tokens_per_section_and_what_was_dropped(
    browser: Browser, inspector: Inspector
) -> None:
    page = browser.page
    sign_in(browser, inspector, "#/user/alice/context")
    page.fill("#context-query", "what should I know about Alice's trip?")
    page.fill("#context-budget", "60")
    page.click("text=Compose")
    expect(page.locator("#context-total")).to_contain_text("of 60")
    sections = page.locator(".context-section")
    expect(sections.first).to_be_visible()
    assert sections.count() >= 3
    expect(sections.filter(has_text="tokens").first).to_contain_text("/")
    expect(page.locator("text=over budget").first).to_be_visible()
    screenshot(browser, "context")


def test_conversations_show_tool_calls_and_extraction_state(
    browser: Browser, inspector: Inspector
) -> None:
    page = browser.page
    sign_in(browser, inspector, "#/user/alice/conversations")
    expect(page.locator("a.session-link")).to_have_text(["health", "trip"])
    page.locator("a.session-link", has_text="trip").click()
    turns = page.locator("#turns > li")
    expect(turns).to_have_count(4)
    expect(turns.nth(2)).to_contain_text("find_trails")
    expect(turns.nth(3)).to_contain_text("Grunewald")
    expect(turns.nth(1).locator(".extraction .badge")).to_have_text("done")
    screenshot(browser, "conversation")


def test_a_dead_lettered_turn_is_shown_with_its_error_and_retried(
    browser: Browser, inspector: Inspector
) -> None:
    page = browser.page
    sign_in(browser, inspector, "#/queue")
    failed = page.locator("tr.queued")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("I'm allergic to peanuts.")
    expect(failed).to_contain_text("LLMError")
    screenshot(browser, "queue")
    page.click("#retry-failed")
    expect(page.locator(".notice")).to_have_text("1 turn(s) queued for extraction again.")
    expect(page.locator("tr.queued")).to_have_count(0)
    page.click("[data-status=done]")
    done = page.locator(f"tr.queued[data-message='{inspector.seeded.failed_turn}']")
    expect(done).to_have_count(1, timeout=30_000)
    expect(page.locator("#health")).to_contain_text("0 failed")


def test_documents_are_listed_and_searchable(browser: Browser, inspector: Inspector) -> None:
    page = browser.page
    sign_in(browser, inspector, "#/user/alice/documents")
    expect(page.locator("table.grid")).to_contain_text("rail-pass.md")
    page.fill("#document-query", "how long do refunds take?")
    page.click("text=Search documents")
    expect(page.locator("#document-results li").first).to_contain_text("ten days")


def test_a_setting_is_rolled_back_from_its_history(browser: Browser, inspector: Inspector) -> None:
    page = browser.page
    sign_in(browser, inspector, "#/user/alice/settings")
    page.locator("a.setting-link", has_text="voice").click()
    history = page.locator("#setting-history tbody tr")
    expect(history).to_have_count(3)
    screenshot(browser, "settings")
    page.click("button.rollback[data-version='1']")
    expect(history).to_have_count(4)
    expect(history.nth(3)).to_contain_text("rolled back to version 1 in the inspector")
    expect(page.locator("table.grid").first).to_contain_text('"calm"')


def test_editing_then_deleting_a_memory(browser: Browser, inspector: Inspector) -> None:
    page = browser.page
    sign_in(browser, inspector, "#/user/bob/memories")
    page.locator("a.memory-link").click()
    # The API's checks apply: empty content is refused, said on the page, and nothing changes.
    browser.expect_refusal(422, "/api/v1/memories/")
    page.fill("#edit-content", "")
    page.click("#save-memory")
    expect(page.locator("#edit-status [role=alert]")).to_contain_text("422")
    expect(page.locator("#memory-content")).to_have_text("Bob's only note: call the bank.")
    expect(page.locator("#history li[data-event=update]")).to_have_count(0)
    page.fill("#edit-content", "Bob's only note: call the bank on Monday.")
    page.fill("#edit-importance", "0.9")
    page.check("#edit-pinned")
    page.click("#save-memory")
    expect(page.locator("#memory-content")).to_have_text(
        "Bob's only note: call the bank on Monday."
    )
    update = page.locator("#history li[data-event=update]")
    expect(update).to_contain_text("call the bank on Monday")
    expect(update.locator("table.changes")).to_contain_text("pinned")
    page.click("#delete-memory")
    page.click("#delete-memory")
    expect(page.locator("#history li[data-event=delete]")).to_have_count(1)
    expect(page.locator(".badge-deleted").first).to_be_visible()
    page.goto(inspector.url("#/user/bob/memories?status=deleted"))
    expect(page.locator("a.memory-link")).to_have_text(
        ["Bob's only note: call the bank on Monday."]
    )


def test_erasing_a_user_needs_the_typed_id(browser: Browser, inspector: Inspector) -> None:
    page = browser.page
    sign_in(browser, inspector, "#/user/carol/memories")
    page.click("#erase-user")
    erase = page.locator("text=Erase everything")
    expect(erase).to_be_disabled()
    page.fill("input[name=confirm]", "caro")
    expect(erase).to_be_disabled()
    page.fill("input[name=confirm]", "carol")
    erase.click()
    expect(page.locator("#erased")).to_contain_text("memories: 1")
    page.click("#erased a")
    expect(page.locator("a.user-link", has_text="carol")).to_have_count(0)


def test_another_tenants_rows_stay_behind_the_wall(browser: Browser, inspector: Inspector) -> None:
    page = browser.page
    browser.expect_refusal(404, f"/api/v1/memories/{inspector.seeded.zed}")
    sign_in(browser, inspector, f"#/memory/{inspector.seeded.zed}")
    expect(page.locator("main [role=alert]")).to_contain_text("404")
    page.goto(inspector.url("#/user/zed/memories"))
    expect(page.locator("#user-id")).to_have_text("zed")
    expect(page.locator("main p.empty")).to_have_text("No memory matches these filters.")
    page.goto(inspector.url("#/user/zed/search?q=vault%20code"))
    expect(page.locator("main p.empty")).to_have_text("No memory.")
    page.goto(inspector.url("#/queue?status=done&user_id=zed"))
    expect(page.locator("main p.empty")).to_have_text("No done turn.")
    assert "7731" not in page.locator("body").inner_text()


def test_on_the_embedded_default_no_key_is_asked_for(
    browser: Browser, inspector: Inspector, tmp_path: Path
) -> None:
    """``mnemo serve`` with no database configured: its own embedded PostgreSQL, no keys."""
    data_dir = Path(tempfile.mkdtemp(prefix="mnemo-ui-embedded-"))  # see server_url's note
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MNEMO_", "POSTGRES_"))}
    env |= {"MNEMO_DATA_DIR": str(data_dir), "MNEMO_IN_PROCESS_WORKER": "false",
            "MNEMO_SHUTDOWN_SECONDS": "2"}  # fmt: skip
    try:
        with serving(env, tmp_path / "serve.log") as ready:
            base_url = ready()
            created = httpx.post(
                f"{base_url}/api/v1/memories",
                timeout=30,
                json={"user_id": "dana", "content": "Dana grows tomatoes."},
            )
            assert created.status_code == 201, created.text
            page = browser.page
            page.goto(f"{base_url}/ui/")
            expect(page.locator("#key-status")).to_contain_text("no API key needed")
            expect(page.locator("#health [data-check=postgresql] .badge")).to_have_text("ok")
            page.locator("a.user-link", has_text="dana").click()
            expect(page.locator("a.memory-link")).to_have_text(["Dana grows tomatoes."])
            assert page.locator("#api-key").count() == 0
            assert page.evaluate("() => sessionStorage.length + localStorage.length") == 0
            page.goto("about:blank")  # no connection left open to hold the shutdown
    finally:
        stop_embedded_server(data_dir / "pgdata")
        shutil.rmtree(data_dir, ignore_errors=True)


def stop_embedded_server(pgdata: Path) -> None:
    """Stop a PostgreSQL still running in ``pgdata`` (fast shutdown). The service stops its
    embedded server when it exits, but not always: this test must leave none behind."""
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return
    with contextlib.suppress(ProcessLookupError, ValueError):
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)
    deadline = time.monotonic() + 30
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
