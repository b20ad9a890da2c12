"""``Memory``: the synchronous face; each method runs the ``AsyncMemory`` method of its name."""

from __future__ import annotations

import builtins
from collections.abc import Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from mnemo._sync import LoopThread, SyncProxy, blocking
from mnemo.config import MnemoConfig
from mnemo.core.records import Scope
from mnemo.engine import AsyncMemory
from mnemo.providers.embedders.base import Embedder

R = TypeVar("R")


class Memory:
    """Long-term memory, synchronously. ``Memory()`` starts the embedded PostgreSQL if needed.

    Takes the same arguments as ``AsyncMemory``; ``close()`` (or ``with``) releases it.
    """

    def __init__(
        self,
        config: MnemoConfig | None = None,
        *,
        database_url: str | None = None,
        data_dir: str | Path | None = None,
        embedder: Embedder | str | None = None,
        tenant_id: str | None = None,
    ) -> None:
        self._engine = AsyncMemory(
            config,
            database_url=database_url,
            data_dir=data_dir,
            embedder=embedder,
            tenant_id=tenant_id,
        )
        self._loop = LoopThread()
        try:
            self._loop.run(self._engine.open())
        except BaseException:
            self._loop.stop()
            raise

    @property
    def engine(self) -> AsyncMemory:
        """The async engine underneath, for code that mixes both faces."""
        return self._engine

    @property
    def settings(self) -> SyncProxy:
        """``AsyncMemory.settings`` (versioned settings), each method blocking."""
        return SyncProxy(self._engine.settings, self._loop)

    @property
    def kv(self) -> SyncProxy:
        """``AsyncMemory.kv`` (the key-value store), each method blocking."""
        return SyncProxy(self._engine.kv, self._loop)

    @property
    def working(self) -> SyncProxy:
        """``AsyncMemory.working`` (working memory), each method blocking."""
        return SyncProxy(self._engine.working, self._loop)

    @property
    def entities(self) -> SyncProxy:
        """``AsyncMemory.entities`` (entity memory), each method blocking."""
        return SyncProxy(self._engine.entities, self._loop)

    @property
    def documents(self) -> SyncProxy:
        """``AsyncMemory.documents`` (reference documents), each method blocking."""
        return SyncProxy(self._engine.documents, self._loop)

    @property
    def records(self) -> SyncProxy:
        """``AsyncMemory.records`` (Memorizz-style collections), each method blocking."""
        return SyncProxy(self._engine.records, self._loop)

    @property
    def messages(self) -> SyncProxy:
        """``AsyncMemory.messages`` (conversation turns), each method blocking."""
        return SyncProxy(self._engine.messages, self._loop)

    @property
    def inspect(self) -> SyncProxy:
        """``AsyncMemory.inspect`` (read views for browsing), each method blocking."""
        return SyncProxy(self._engine.inspect, self._loop)

    def export_user(self, user_id: str) -> builtins.list[dict[str, Any]]:
        """``AsyncMemory.export_user``: every line of a user's export, header first."""

        async def collect() -> builtins.list[dict[str, Any]]:
            return [line async for line in self._engine.export_user(user_id)]

        return self._loop.run(collect())

    def scope(
        self, user_id: str, *, agent_id: str | None = None, session_id: str | None = None
    ) -> Scope:
        """``AsyncMemory.scope``: a checked ``Scope`` for the kind services."""
        return self._engine.scope(user_id, agent_id=agent_id, session_id=session_id)

    def conversation_buffer(self, **policy: Any) -> SyncProxy:
        """``AsyncMemory.conversation_buffer``; the buffer's methods block."""
        return SyncProxy(self._loop.run(self._engine.conversation_buffer(**policy)), self._loop)

    def conversation_summary(self, **policy: Any) -> SyncProxy:
        """``AsyncMemory.conversation_summary``; the summary's methods block."""
        return SyncProxy(self._loop.run(self._engine.conversation_summary(**policy)), self._loop)

    def run(self, coroutine: Coroutine[Any, Any, R]) -> R:
        """Run a coroutine that uses ``engine`` on this Memory's loop; block until it ends.

        For code written once against ``AsyncMemory`` that must also be called
        synchronously (the framework adapters in ``mnemo.integrations`` do this).
        """
        return self._loop.run(coroutine)

    def close(self) -> None:
        """Flush pending statistics and release connections; the instance is unusable after."""
        try:
            self._loop.run(self._engine.close())
        finally:
            self._loop.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    add = blocking(AsyncMemory.add)
    add_many = blocking(AsyncMemory.add_many)
    search = blocking(AsyncMemory.search)
    get = blocking(AsyncMemory.get)
    list = blocking(AsyncMemory.list)
    update = blocking(AsyncMemory.update)
    delete = blocking(AsyncMemory.delete)
    history = blocking(AsyncMemory.history)
    delete_user = blocking(AsyncMemory.delete_user)
    stats = blocking(AsyncMemory.stats)
    import_user = blocking(AsyncMemory.import_user)
    flush = blocking(AsyncMemory.flush)
    optimize = blocking(AsyncMemory.optimize)
    index_large_scopes = blocking(AsyncMemory.index_large_scopes)
    extraction_status = blocking(AsyncMemory.extraction_status)
    failed_extractions = blocking(AsyncMemory.failed_extractions)
    retry_failed_extractions = blocking(AsyncMemory.retry_failed_extractions)
    job_stats = blocking(AsyncMemory.job_stats)
    summarize_later = blocking(AsyncMemory.summarize_later)
    reembed = blocking(AsyncMemory.reembed)
    add_to_memory = blocking(AsyncMemory.add_to_memory)
    get_relevant_memories = blocking(AsyncMemory.get_relevant_memories)
    add_messages = blocking(AsyncMemory.add_messages)
    list_messages = blocking(AsyncMemory.list_messages)
    search_messages = blocking(AsyncMemory.search_messages)
    health = blocking(AsyncMemory.health)
    search_all = blocking(AsyncMemory.search_all)
    context = blocking(AsyncMemory.context)
    context_for = blocking(AsyncMemory.context_for)
