"""The inspector's files: served at /ui from the package with a strict policy, self-contained,
and written so stored text can only ever become text."""

from __future__ import annotations

import re
from pathlib import Path

from mnemo.service.inspector import STATIC_DIR
from tests.service.conftest import Service

#: DOM sinks that parse markup or run code; the inspector renders through dom.js only.
SINKS = re.compile(
    r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|"
    r"setAttribute\(\s*['\"]on|createContextualFragment|srcdoc|DOMParser"
)


def static_files() -> list[Path]:
    return sorted(p for p in STATIC_DIR.rglob("*") if p.is_file())


def test_no_script_reaches_for_a_markup_sink() -> None:
    offenders = []
    for file in static_files():
        if file.suffix == ".js":
            text = file.read_text().replace('name === "srcdoc" || name === "innerHTML"', "")
            offenders += [f"{file.name}: {m.group()}" for m in SINKS.finditer(text)]
    assert offenders == []


def test_nothing_is_fetched_from_another_origin() -> None:
    for file in static_files():
        text = file.read_text()
        assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", text), file.name
        assert "@import" not in text and "url(http" not in text, file.name
    imports = {
        match
        for file in static_files()
        if file.suffix == ".js"
        for match in re.findall(r"from \"([^\"]+)\"", file.read_text())
    }
    assert imports and all(name.startswith((".", "..")) for name in imports)


async def test_the_pages_are_served_with_a_strict_policy(service: Service) -> None:
    async with service.client() as client:
        redirect = await client.get("/ui")
        assert redirect.status_code in (307, 308) and redirect.headers["location"].endswith("/ui/")
        index = await client.get("/ui/")
        script = await client.get("/ui/js/dom.js")
        missing = await client.get("/ui/js/nothing.js")
    assert index.status_code == 200 and '<script type="module" src="js/main.js">' in index.text
    policy = index.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert index.headers["x-content-type-options"] == "nosniff"
    assert script.status_code == 200
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert missing.status_code == 404


async def test_the_pages_hold_no_data_the_api_still_asks_for_a_key(service: Service) -> None:
    async with service.client() as client:
        assert (await client.get("/ui/index.html")).status_code == 200
        assert (await client.get("/api/v1/users")).status_code == 401
