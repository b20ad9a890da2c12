"""Fixtures of the framework adapters' tests: a sync ``Memory`` on a fresh database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mnemo import Memory, MnemoConfig


@pytest.fixture
def sync_memory(config: MnemoConfig) -> Iterator[Memory]:
    """A ``Memory`` (the sync face) on this test's database."""
    with Memory(config) as opened:
        yield opened
