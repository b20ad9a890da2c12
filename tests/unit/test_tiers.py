"""Test tiers skip when a prerequisite is missing, and fail instead when CI requires them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.llama_server import find_prerequisites
from tests.support.tiers import prerequisite_missing, required_tiers


def test_a_missing_prerequisite_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNEMO_REQUIRE_TIERS", "other")
    with pytest.raises(pytest.skip.Exception, match="tier real_llm skipped: no binary"):
        prerequisite_missing("real_llm", "no binary")


def test_a_required_tier_fails_instead(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNEMO_REQUIRE_TIERS", " other, real_llm ")
    assert required_tiers() == {"other", "real_llm"}
    with pytest.raises(pytest.fail.Exception, match="tier real_llm is required"):
        prerequisite_missing("real_llm", "no binary")


def test_the_llama_server_binary_is_looked_for_beside_the_repository(tmp_path: Path) -> None:
    missing = find_prerequisites(tmp_path / "repo")
    assert isinstance(missing, str)
    assert f"no llama-server at {tmp_path / 'shared' / 'llama' / 'llama-server'}" in missing
