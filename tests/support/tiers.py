"""Test tiers that need something outside Python (a browser, a cluster, a GPU).

A tier whose prerequisite is missing skips with the reason, except where
``MNEMO_REQUIRE_TIERS`` (a comma list; ``.ci/run`` sets it) names it: there a
missing prerequisite fails, so CI cannot pass by skipping.
"""

from __future__ import annotations

import os

import pytest


def required_tiers() -> set[str]:
    """The tiers ``MNEMO_REQUIRE_TIERS`` names."""
    listed = os.environ.get("MNEMO_REQUIRE_TIERS", "")
    return {name.strip() for name in listed.split(",") if name.strip()}


def missing_prerequisite(tier: str, reason: str) -> None:
    """Skip the test (or fail it, when the tier is required) because ``reason``."""
    if tier in required_tiers():
        pytest.fail(f"the {tier} tier is required (MNEMO_REQUIRE_TIERS) but {reason}")
    pytest.skip(f"{tier} tier: {reason}")
