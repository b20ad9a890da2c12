"""A test tier without its prerequisite skips, unless MNEMO_REQUIRE_TIERS names it."""

from __future__ import annotations

import pytest

from tests.support.tiers import missing_prerequisite, required_tiers


def test_a_tier_not_required_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNEMO_REQUIRE_TIERS", "citus")
    with pytest.raises(pytest.skip.Exception, match="browser tier: no chromium"):
        missing_prerequisite("browser", "no chromium")


def test_a_required_tier_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNEMO_REQUIRE_TIERS", " citus , browser ")
    assert required_tiers() == {"citus", "browser"}
    with pytest.raises(pytest.fail.Exception, match="browser tier is required"):
        missing_prerequisite("browser", "no chromium")
