"""Pointing mnemo at an external PostgreSQL: clear errors when it cannot be used."""

from __future__ import annotations

import os

import psycopg
import pytest

from mnemo import AsyncMemory, ExtensionMissing, MnemoConfig, StoreUnavailable
from mnemo.settings import Settings

SYSTEM_POSTGRES = os.environ.get(
    "MNEMO_TEST_PLAIN_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def plain_postgres_reachable() -> bool:
    try:
        with psycopg.connect(SYSTEM_POSTGRES, connect_timeout=2) as conn:
            row = conn.execute(
                "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"
            ).fetchone()
            return row is None
    except psycopg.Error:
        return False


@pytest.mark.skipif(
    not plain_postgres_reachable(), reason="no PostgreSQL without pgvector on :5432"
)
async def test_server_without_pgvector_explains_what_to_do(embedder) -> None:
    memory = AsyncMemory(MnemoConfig(database_url=SYSTEM_POSTGRES, embedder=embedder))
    with pytest.raises(ExtensionMissing, match="no pgvector extension") as info:
        await memory.open()
    assert "127.0.0.1:5432/postgres" in str(info.value)
    assert "MNEMO_DATABASE_URL" in str(info.value)


async def test_unreachable_server_is_store_unavailable_without_the_password(embedder) -> None:
    url = "postgresql://mnemo:s3cret-pw@127.0.0.1:1/nowhere"
    memory = AsyncMemory(MnemoConfig(database_url=url, embedder=embedder))
    with pytest.raises(StoreUnavailable, match=r"127\.0\.0\.1:1/nowhere") as info:
        await memory.open()
    assert "s3cret-pw" not in str(info.value)


def test_postgres_variables_build_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MNEMO_DATABASE_URL",):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("POSTGRES_HOST", "db.example")
    monkeypatch.setenv("POSTGRES_PORT", "6543")
    monkeypatch.setenv("POSTGRES_DB", "memorizz")
    monkeypatch.setenv("POSTGRES_USER", "postgres")
    monkeypatch.setenv("POSTGRES_PASSWORD", "p@ss word")
    config = Settings().to_config()
    assert config.database_url == "postgresql://postgres:p%40ss%20word@db.example:6543/memorizz"


def test_mnemo_database_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MNEMO_DATABASE_URL", "postgresql:///explicit")
    monkeypatch.setenv("POSTGRES_HOST", "ignored")
    assert Settings().to_config().database_url == "postgresql:///explicit"


def test_no_configuration_means_embedded(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in ("MNEMO_DATABASE_URL", "POSTGRES_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MNEMO_DATA_DIR", str(tmp_path))
    config = Settings().to_config()
    assert config.database_url is None
    assert config.data_dir == tmp_path
