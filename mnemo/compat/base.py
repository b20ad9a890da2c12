"""What every compatibility class shares: a config dict in, an ``AsyncMemory`` underneath.

The seed designs configure each memory with one dict (``redis_url``,
``supabase_url``, API keys, per-kind options), often the same dict for every
kind. ``CompatMemory`` reads the keys it knows and ignores the others:

- ``database_url`` (any PostgreSQL with pgvector, Supabase's included; without it
  the environment decides: ``MNEMO_DATABASE_URL``, ``POSTGRES_*``, else the
  embedded server). ``supabase_url`` / ``supabase_key`` alone are refused: mnemo
  speaks SQL to PostgreSQL, so pass the project's connection string instead.
- ``redis_url`` (else ``MNEMO_REDIS_URL`` / ``REDIS_URL``; none: in-process cache),
  ``tenant_id``, ``data_dir``, ``user_id`` (the user of calls that name none).
- ``embedder`` / ``embedder_options`` and ``llm`` / ``llm_options`` as in
  ``MnemoConfig``; or ``openai_api_key`` + ``embedding_model`` (OpenAI embeddings)
  and ``google_api_key`` (+ ``summarization_model``) for Gemini summaries.
- ``memory``: an ``AsyncMemory`` to share (the orchestrator hands one engine to
  every kind); such an engine is not closed by the class.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self

from mnemo.core.records import Scope
from mnemo.engine import AsyncMemory
from mnemo.errors import ConfigurationError, InvalidInput


def engine_from_config(config: Mapping[str, Any]) -> AsyncMemory:
    """An unopened ``AsyncMemory`` for a seed-style config dict (see the module docs)."""
    from mnemo.settings import Settings

    if config.get("supabase_url") and not config.get("database_url"):
        raise ConfigurationError(
            "mnemo stores in PostgreSQL directly: pass database_url (for Supabase, the "
            "project's Postgres connection string) instead of supabase_url / supabase_key"
        )
    overrides: dict[str, Any] = {
        "database_url": config.get("database_url"),
        "redis_url": config.get("redis_url"),
        "tenant_id": config.get("tenant_id"),
        "data_dir": Path(config["data_dir"]) if config.get("data_dir") else None,
        **_embedder_options(config),
        **_llm_options(config),
    }
    return AsyncMemory(Settings().to_config(**overrides))


class CompatMemory:
    """Base of the seed-named memory classes: ``initialize``, ``health_check``, ``close``,
    and the scope of a request dict."""

    #: The seed's name for the kind, reported by ``health_check``.
    memory_type: ClassVar[str] = "memory"

    def __init__(
        self, config: Mapping[str, Any] | None = None, *, memory: AsyncMemory | None = None
    ) -> None:
        if config is not None and not isinstance(config, Mapping):
            raise ConfigurationError(f"config must be a dict, got {type(config).__name__}")
        self.config: dict[str, Any] = dict(config or {})
        shared = memory if memory is not None else self.config.get("memory")
        if shared is not None and not isinstance(shared, AsyncMemory):
            raise ConfigurationError("config['memory'] must be an AsyncMemory")
        self._engine = shared if shared is not None else engine_from_config(self.config)
        self._owns_engine = shared is None
        self._default_user = self.config.get("user_id")
        self._ready = False

    @property
    def engine(self) -> AsyncMemory:
        """The engine underneath (shared or owned)."""
        return self._engine

    async def initialize(self) -> None:
        """Open the engine (connect, migrate, load the embedder) and set this kind up.
        Idempotent; other methods call it on first use."""
        if not self._ready:
            await self._engine.open()
            await self._setup()
            self._ready = True

    async def close(self) -> None:
        """Release the engine if this instance created it."""
        if self._owns_engine:
            await self._engine.close()
        self._ready = False

    async def health_check(self, *, probe_llm: bool = False) -> dict[str, Any]:
        """``{"status": "healthy" | "degraded" | "unhealthy", "timestamp", "memory_type",
        "dependencies": {postgresql, cache, embedder, llm: {status, latency_ms, detail}}}``."""
        await self.initialize()
        report = (await self._engine.health(probe_llm=probe_llm)).as_dict()
        return {"memory_type": self.memory_type, **report}

    async def __aenter__(self) -> Self:
        await self.initialize()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _setup(self) -> None:
        """Build the kind on the open engine (subclasses)."""

    async def request_scope(self, request: object, *, write: bool = False) -> Scope | None:
        """The scope a request dict names: its ``user_id`` (else the config's ``user_id``,
        else the user whose turns the ``session_id`` holds), ``session_id``, ``agent_id``.

        ``None`` when a read (not a ``write``) names only a session holding no turns yet.
        """
        if not isinstance(request, Mapping):
            raise InvalidInput(f"the request must be a dict, got {type(request).__name__}")
        await self.initialize()
        session_id, agent_id = request.get("session_id"), request.get("agent_id")
        user_id = request.get("user_id") or self._default_user
        if user_id is None and session_id is not None:
            tenant = self._engine.config.tenant_id
            user_id = await self._engine.messages.session_owner(tenant, str(session_id))
            if user_id is None and not write:
                return None
        if user_id is None:
            raise InvalidInput("user_id is required (in the request or the config)")
        return self._engine.scope(user_id, agent_id=agent_id, session_id=session_id)


def message_fields(message: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """A seed-style message dict as an ``add_messages`` item (scope keys dropped,
    ``timestamp`` read as ``created_at``) and the ``format`` it names, if any: the
    message may be an OpenAI, Anthropic or Responses one with the scope keys added."""
    dropped = ("user_id", "session_id", "format")
    fields = {k: v for k, v in message.items() if k not in dropped}
    if "timestamp" in fields and "created_at" not in fields:
        fields["created_at"] = fields.pop("timestamp")
    return fields, message.get("format")


def _embedder_options(config: Mapping[str, Any]) -> dict[str, Any]:
    if config.get("embedder") is not None:
        return {"embedder": config["embedder"], "embedder_options": config.get("embedder_options")}
    if config.get("openai_api_key") and config.get("embedding_model"):
        return {
            "embedder": f"openai:{config['embedding_model']}",
            "embedder_options": {"api_key": config["openai_api_key"]},
        }
    return {}


def _llm_options(config: Mapping[str, Any]) -> dict[str, Any]:
    if config.get("llm") is not None:
        return {"llm": config["llm"], "llm_options": config.get("llm_options")}
    if config.get("google_api_key"):
        model = config.get("summarization_model")
        spec = f"gemini:{model}" if model else "gemini"
        return {"llm": spec, "llm_options": {"api_key": config["google_api_key"]}}
    return {}
