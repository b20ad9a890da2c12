"""MnemoConfig checks what it is given and takes paths as typed."""

from __future__ import annotations

from pathlib import Path

import pytest

from mnemo import MnemoConfig
from mnemo.errors import ConfigurationError


def test_a_data_dir_given_as_text_becomes_a_path() -> None:
    assert MnemoConfig(data_dir="~/mnemo-data").data_dir == Path("~/mnemo-data")


@pytest.mark.parametrize(
    "bad", [{"pool_min_size": 0}, {"pool_min_size": 5, "pool_max_size": 2}, {"tenant_id": ""}]
)
def test_impossible_settings_are_configuration_errors(bad: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        MnemoConfig(**bad)  # type: ignore[arg-type]
