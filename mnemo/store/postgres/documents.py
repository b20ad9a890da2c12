"""The documents and chunks tables: atomic (re)loads, listing, search support.

A document belongs to one user, or to the whole tenant when its ``user_id`` is
``SHARED_USER`` (``''``, which no caller's user id can be). Re-loading a document
replaces its chunks in one transaction: a concurrent reader's statement sees
the old chunks or the new ones, never a mix.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from mnemo.core.document_records import ChunkRecord, DocumentRecord
from mnemo.core.records import Scope
from mnemo.core.scoring import Candidate
from mnemo.errors import MnemoError
from mnemo.store.postgres.database import Connection, Database
from mnemo.store.postgres.errors import wrapped_errors
from mnemo.store.postgres.filters import Fragment
from mnemo.store.postgres.queries import query
from mnemo.store.postgres.search import SearchableTable, SearchStore, merged_candidates

logger = logging.getLogger(__name__)

#: The ``user_id`` of documents shared by every user of a tenant.
SHARED_USER = ""

DOCUMENT_COLUMNS = (
    "id",
    "user_id",
    "agent_id",
    "session_id",
    "name",
    "uri",
    "format",
    "title",
    "content_hash",
    "char_count",
    "chunk_count",
    "metadata",
    "version",
    "loaded_at",
    "created_at",
)
_COLUMNS = sql.SQL(", ").join(sql.SQL("d.{}").format(sql.Identifier(c)) for c in DOCUMENT_COLUMNS)


@dataclass(frozen=True, slots=True)
class DocumentWrite:
    """A document about to replace the stored one of the same name (or be added)."""

    id: str
    name: str
    uri: str | None
    format: str
    title: str | None
    content_hash: bytes
    char_count: int
    metadata: dict[str, Any]
    agent_id: str | None
    session_id: str | None


@dataclass(frozen=True, slots=True)
class ChunkWrite:
    id: str
    index: int
    heading_path: tuple[str, ...]
    char_start: int
    char_end: int
    tokens: int
    content: str
    embedding: Any


class DocumentStore:
    """SQL on ``documents`` and ``chunks``; every statement bound to one tenant."""

    def __init__(self, db: Database, *, ts_config: str) -> None:
        self._db = db
        self._ts_config = ts_config

    async def by_name(self, tenant_id: str, owner: str, name: str) -> DocumentRecord | None:
        params = {"tenant": tenant_id, "user": owner, "name": name}
        rows = await self._db.fetch(_formatted("document_by_name"), params, tenant_id=tenant_id)
        return document_from_row(rows[0]) if rows else None

    async def by_id(self, scope: Scope, document_id: str) -> DocumentRecord | None:
        """A document of the scope's user or of the tenant's shared corpus."""
        params = {"tenant": scope.tenant_id, "users": _readers(scope), "id": document_id}
        rows = await self._db.fetch(_formatted("document_by_id"), params, tenant_id=scope.tenant_id)
        return document_from_row(rows[0]) if rows else None

    async def reusable_embeddings(
        self, tenant_id: str, owner: str, document_id: str, model: str, hashes: Sequence[bytes]
    ) -> dict[bytes, Any]:
        """Stored vectors (by ``model``) of this document's chunks, by content hash."""
        params = {
            "tenant": tenant_id,
            "user": owner,
            "document": document_id,
            "model": model,
            "hashes": list(hashes),
        }
        rows = await self._db.fetch(
            query("documents", "reusable_embeddings"), params, tenant_id=tenant_id
        )
        return {bytes(r["content_hash"]): r["embedding"] for r in rows}

    async def replace(
        self,
        tenant_id: str,
        owner: str,
        document: DocumentWrite,
        chunks: Sequence[ChunkWrite],
        *,
        model: str,
    ) -> DocumentRecord:
        """Insert or replace the document named ``document.name`` and all its chunks,
        in one transaction; the stored document (its version counts the loads)."""
        who = {"tenant": tenant_id, "user": owner}
        async with self._db.transaction(tenant_id) as conn:
            await conn.execute(query("documents", "lock_document"), {**who, "name": document.name})
            async with conn.cursor(row_factory=dict_row) as cur:
                await cur.execute(
                    _formatted("upsert_document"), _document_params(who, document, len(chunks))
                )
                stored = document_from_row(await _one(cur))
            await conn.execute(query("documents", "delete_chunks"), {**who, "document": stored.id})
            if chunks:
                params = _chunk_params(who, stored, chunks, model=model, ts_config=self._ts_config)
                await conn.execute(query("documents", "insert_chunks"), params)
        await self._db.statistics.wrote("chunks", len(chunks))
        return stored

    async def list_page(
        self, scope: Scope, *, include_shared: bool, limit: int, offset: int
    ) -> list[DocumentRecord]:
        params = {
            "tenant": scope.tenant_id,
            "users": _readers(scope) if include_shared else [scope.user_id],
            "agent": scope.agent_id,
            "session": scope.session_id,
            "limit": limit,
            "offset": offset,
        }
        rows = await self._db.fetch(_formatted("list_documents"), params, tenant_id=scope.tenant_id)
        return [document_from_row(r) for r in rows]

    async def delete(self, tenant_id: str, owner: str, document_id: str) -> bool:
        params = {"tenant": tenant_id, "user": owner, "id": document_id}
        rows = await self._db.fetch(
            query("documents", "delete_document"), params, tenant_id=tenant_id
        )
        return bool(rows)

    async def chunks_of(self, tenant_id: str, owner: str, document_id: str) -> list[dict[str, Any]]:
        """The stored chunks of a document, in order (id, index, heading, content, version)."""
        params = {"tenant": tenant_id, "user": owner, "document": document_id}
        return await self._db.fetch(
            query("documents", "chunks_of_document"), params, tenant_id=tenant_id
        )

    async def stats(self, tenant_id: str, owner: str) -> dict[str, Any]:
        params = {"tenant": tenant_id, "user": owner}
        rows = await self._db.fetch(
            query("documents", "document_stats"), params, tenant_id=tenant_id
        )
        return rows[0]

    async def shared_chunk_count(self, tenant_id: str) -> int:
        rows = await self._db.fetch(
            query("documents", "shared_chunk_count"), {"tenant": tenant_id}, tenant_id=tenant_id
        )
        return int(rows[0]["n"])


@asynccontextmanager
async def snapshot(db: Database, tenant_id: str) -> AsyncIterator[Database]:
    """A ``Database`` whose every statement runs in one read-only REPEATABLE READ
    transaction: several statements (candidates, then their records) see the
    same committed state, so a concurrent re-load shows wholly or not at all."""
    async with db.transaction(tenant_id) as conn:
        await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield _Pinned(db, conn)


class _Pinned(Database):
    """A ``Database`` that runs everything on one connection (see ``snapshot``)."""

    def __init__(self, db: Database, conn: Connection) -> None:
        super().__init__(db.pool, tenant_guard=False)
        self._conn = conn

    @asynccontextmanager
    async def connection(self, tenant_id: str | None = None) -> AsyncIterator[Connection]:
        async with wrapped_errors():
            yield self._conn


class ChunkSearchStore(SearchStore):
    """The shared candidate query on ``chunks``; records of the user's (and the
    tenant's shared) chunks, with their document's name and title.

    With ``shared_apart`` (the shared corpus's own fragment), the shared corpus is
    searched in a statement of its own and the two candidate lists merged: on Citus
    the corpus (``user_id = ''``) lives on another shard than the user's rows, and one
    statement over both would ask two shards.
    """

    def __init__(
        self,
        db: Database,
        *,
        ts_config: str,
        include_shared: bool = True,
        shared_apart: Fragment | None = None,
    ) -> None:
        super().__init__(db, ts_config=ts_config)
        self._chunk_db = db
        self._include_shared = include_shared
        self._shared_apart = shared_apart

    async def candidates(
        self, table: SearchableTable[Any], where: Fragment, **options: Any
    ) -> list[Candidate]:
        found = await super().candidates(table, where, **options)
        if self._shared_apart is None:
            return found
        shared = await super().candidates(table, self._shared_apart, **options)
        return merged_candidates([found, shared], depth=options["depth"])

    async def records(
        self, table: SearchableTable[Any], scope: Scope, ids: Sequence[str]
    ) -> list[Any]:
        """The ``ChunkRecord``s of these ids, in the order asked."""
        if not ids:
            return []
        readers = _readers(scope) if self._include_shared else [scope.user_id]
        apart = self._shared_apart is not None
        rows: list[dict[str, Any]] = []
        for users in [[u] for u in readers] if apart else [readers]:
            params = {"tenant": scope.tenant_id, "users": users, "ids": list(ids)}
            rows += await self._chunk_db.fetch(
                query("documents", "chunk_records"), params, tenant_id=scope.tenant_id
            )
        by_id = {str(r["id"]): chunk_from_row(r) for r in rows}
        return [by_id[i] for i in ids if i in by_id]


#: Chunks as a searchable table: neutral signals; neighbours are adjacent chunks.
CHUNK_TABLE: SearchableTable[Any] = SearchableTable(
    name="chunks",
    columns=("id",),
    record=dict,
    neighbour_group=("document_id",),
    neighbour_order=("chunk_index",),
)


def chunk_fragment(
    scope: Scope,
    *,
    include_shared: bool,
    document_ids: Sequence[str] | None = None,
    shared_ids: Sequence[str] | None = None,
    extra: Fragment | None = None,
    only_shared: bool = False,
) -> Fragment:
    """The chunks a search in ``scope`` may return (alias ``m``): the user's, and the
    tenant's shared ones (only ``shared_ids`` of them when given); a document with
    an agent or session id shows only to that agent / session. ``only_shared``: the
    shared ones alone (searched apart from the user's on Citus)."""
    params: dict[str, Any] = {"tenant": scope.tenant_id, "user": scope.user_id}
    shared: sql.Composable = sql.SQL("m.user_id = ''")
    if shared_ids is not None:
        shared = sql.SQL("(m.user_id = '' AND m.id = ANY(%(shared_ids)s::uuid[]))")
        params["shared_ids"] = list(shared_ids)
    owners: sql.Composable = sql.SQL("(m.user_id = %(user)s)")
    if only_shared:
        owners = shared
    elif include_shared:
        owners = sql.SQL("(m.user_id = %(user)s OR {})").format(shared)
    parts: list[sql.Composable] = [sql.SQL("m.tenant_id = %(tenant)s"), owners]
    if scope.agent_id is not None:
        parts.append(sql.SQL("(m.agent_id IS NULL OR m.agent_id = %(agent)s)"))
        params["agent"] = scope.agent_id
    if scope.session_id is not None:
        parts.append(sql.SQL("(m.session_id IS NULL OR m.session_id = %(session)s)"))
        params["session"] = scope.session_id
    if document_ids is not None:
        parts.append(sql.SQL("m.document_id = ANY(%(document_ids)s::uuid[])"))
        params["document_ids"] = list(document_ids)
    if extra is not None:
        parts.append(extra.sql)
        params.update(extra.params)
    return Fragment(sql.SQL(" AND ").join(parts), params)


def document_from_row(row: dict[str, Any]) -> DocumentRecord:
    values = {
        name: row[name] for name in DOCUMENT_COLUMNS if name not in ("user_id", "content_hash")
    }
    values["id"] = str(values["id"])
    return DocumentRecord(
        **values,
        user_id=row["user_id"] or None,
        shared=row["user_id"] == SHARED_USER,
        content_hash=bytes(row["content_hash"]).hex(),
    )


def chunk_from_row(row: dict[str, Any]) -> ChunkRecord:
    return ChunkRecord(
        id=str(row["id"]),
        document_id=str(row["document_id"]),
        document_name=row["document_name"],
        document_title=row["document_title"],
        document_format=row["document_format"],
        document_version=row["document_version"],
        user_id=row["user_id"] or None,
        shared=row["user_id"] == SHARED_USER,
        agent_id=row["agent_id"],
        session_id=row["session_id"],
        index=row["chunk_index"],
        heading_path=list(row["heading_path"]),
        char_start=row["char_start"],
        char_end=row["char_end"],
        tokens=row["tokens"],
        content=row["content"],
        metadata=row["metadata"],
        created_at=row["created_at"],
        embedding_model=row["embedding_model"],
    )


def _readers(scope: Scope) -> list[str]:
    return [scope.user_id, SHARED_USER]


def _formatted(name: str) -> sql.Composed:
    return query("documents", name).format(columns=_COLUMNS)


async def _one(cur: psycopg.AsyncCursor[dict[str, Any]]) -> dict[str, Any]:
    row = await cur.fetchone()
    if row is None:
        raise MnemoError("the document upsert returned no row")
    return row


def _document_params(who: dict[str, Any], doc: DocumentWrite, chunk_count: int) -> dict[str, Any]:
    return {
        **who,
        "id": doc.id,
        "agent": doc.agent_id,
        "session": doc.session_id,
        "name": doc.name,
        "uri": doc.uri,
        "format": doc.format,
        "title": doc.title,
        "content_hash": doc.content_hash,
        "char_count": doc.char_count,
        "chunk_count": chunk_count,
        "metadata": Jsonb(doc.metadata),
    }


def _chunk_params(
    who: dict[str, Any],
    document: DocumentRecord,
    chunks: Sequence[ChunkWrite],
    *,
    model: str,
    ts_config: str,
) -> dict[str, Any]:
    loaded_at: datetime = document.loaded_at
    return {
        **who,
        "document": document.id,
        "version": document.version,
        "agent": document.agent_id,
        "session": document.session_id,
        "metadata": Jsonb(document.metadata),
        "loaded_at": loaded_at,
        "model": model,
        "ts_config": ts_config,
        "ids": [c.id for c in chunks],
        "indexes": [c.index for c in chunks],
        "headings": [Jsonb(list(c.heading_path)) for c in chunks],
        "starts": [c.char_start for c in chunks],
        "ends": [c.char_end for c in chunks],
        "tokens": [c.tokens for c in chunks],
        "contents": [c.content for c in chunks],
        "embeddings": [c.embedding for c in chunks],
    }
