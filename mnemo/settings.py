"""The environment, read once by an entry point and turned into a ``MnemoConfig``.

Variables: ``MNEMO_DATABASE_URL`` (else ``POSTGRES_HOST/PORT/DB/USER/PASSWORD``,
else the embedded server), ``MNEMO_READ_DATABASE_URLS`` (comma-separated standbys of
it; ``MNEMO_READ_MAX_LAG_MS`` bounds their lag), ``MNEMO_REDIS_URL`` (else
``REDIS_URL``), ``MNEMO_DATA_DIR``,
``MNEMO_EMBEDDER``, ``MNEMO_LLM`` (+ ``MNEMO_LLM_BASE_URL``, ``MNEMO_LLM_API_KEY``),
``MNEMO_TENANT_ID``, ``MNEMO_SCORING_PRESET``, ``OPENAI_API_KEY``,
``GOOGLE_API_KEY``, ``MEMORY_DECAY_DAYS`` (decay half-life), ``MNEMO_IN_PROCESS_WORKER``
(run a job worker inside the engine; default: only with the embedded PostgreSQL).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from mnemo.config import LifecycleConfig, MnemoConfig, SearchConfig, split_database_urls
from mnemo.core.scoring import scoring_preset


class Settings(BaseSettings):
    """mnemo's environment variables."""

    model_config = SettingsConfigDict(env_prefix="MNEMO_", extra="ignore", populate_by_name=True)

    database_url: str | None = None
    read_database_urls: str | None = None
    read_max_lag_ms: float | None = None
    data_dir: Path | None = None
    embedder: str = "e5"
    llm: str | None = None
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    tenant_id: str = "default"
    scoring_preset: str = "default"
    in_process_worker: bool | None = None
    memory_decay_days: float = Field(default=90.0, alias="MEMORY_DECAY_DAYS", gt=0)

    postgres_host: str | None = Field(default=None, alias="POSTGRES_HOST")
    postgres_port: int = Field(default=5432, alias="POSTGRES_PORT")
    postgres_db: str = Field(default="postgres", alias="POSTGRES_DB")
    postgres_user: str = Field(default="postgres", alias="POSTGRES_USER")
    postgres_password: str | None = Field(default=None, alias="POSTGRES_PASSWORD")

    redis_url: str | None = None
    plain_redis_url: str | None = Field(default=None, alias="REDIS_URL")

    openai_api_key: str | None = Field(default=None, alias="OPENAI_API_KEY")
    google_api_key: str | None = Field(default=None, alias="GOOGLE_API_KEY")

    def resolved_database_url(self) -> str | None:
        """``MNEMO_DATABASE_URL``, else a URI from ``POSTGRES_*``, else ``None`` (embedded)."""
        if self.database_url:
            return self.database_url
        if not self.postgres_host:
            return None
        password = f":{quote(self.postgres_password, safe='')}" if self.postgres_password else ""
        user = quote(self.postgres_user, safe="")
        return (
            f"postgresql://{user}{password}@{self.postgres_host}:{self.postgres_port}"
            f"/{quote(self.postgres_db, safe='')}"
        )

    def embedder_options(self) -> dict[str, Any]:
        """Provider credentials to pass to the embedder named by ``embedder``."""
        name = self.embedder.split(":", 1)[0]
        if name == "openai" and self.openai_api_key:
            return {"api_key": self.openai_api_key}
        if name in ("google", "gemini") and self.google_api_key:
            return {"api_key": self.google_api_key}
        return {}

    def llm_options(self) -> dict[str, Any]:
        """Base URL and key for the LLM named by ``llm`` (``OPENAI_API_KEY`` for OpenAI)."""
        options: dict[str, Any] = {}
        if self.llm_base_url:
            options["base_url"] = self.llm_base_url
        key = self.llm_api_key
        if key is None and self.llm and self.llm.split(":", 1)[0] == "openai":
            key = self.openai_api_key
        if key is None and self.llm and self.llm.split(":", 1)[0] == "gemini":
            key = self.google_api_key
        if key:
            options["api_key"] = key
        return options

    def to_config(self, **overrides: Any) -> MnemoConfig:
        """The engine configuration these settings describe, with explicit overrides on top."""
        config = MnemoConfig(
            database_url=self.resolved_database_url(),
            read_database_urls=split_database_urls(self.read_database_urls or ""),
            data_dir=self.data_dir,
            embedder=self.embedder,
            embedder_options=self.embedder_options(),
            llm=self.llm,
            llm_options=self.llm_options(),
            tenant_id=self.tenant_id,
            search=SearchConfig(weights=scoring_preset(self.scoring_preset)),
            redis_url=self.redis_url or self.plain_redis_url,
            lifecycle=LifecycleConfig(
                decay_half_life_days=self.memory_decay_days,
                in_process_worker=self.in_process_worker,
            ),
        )
        return config.with_overrides(read_max_lag_ms=self.read_max_lag_ms, **overrides)
