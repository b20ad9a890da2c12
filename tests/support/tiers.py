"""Test tiers: groups of tests that need something beyond the default install.

A tier whose prerequisite is missing skips with a message saying what is missing
and how to get it — unless ``MNEMO_REQUIRE_TIERS`` (a comma list, set by ``.ci/run``)
names it, and then the missing prerequisite is a failure, so CI cannot pass by skipping.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

ENV_VAR = "MNEMO_REQUIRE_TIERS"


def required_tiers() -> set[str]:
    """The tiers ``MNEMO_REQUIRE_TIERS`` lists."""
    return {name.strip() for name in os.environ.get(ENV_VAR, "").split(",") if name.strip()}


def prerequisite_missing(tier: str, reason: str) -> NoReturn:
    """Skip the test for ``reason``; fail instead when the tier is required."""
    if tier in required_tiers():
        pytest.fail(f"tier {tier} is required ({ENV_VAR}) but {reason}", pytrace=False)
    pytest.skip(f"tier {tier} skipped: {reason}")
