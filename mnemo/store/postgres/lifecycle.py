"""SQL of the memory lifecycle: reconciliation writes, decay, consolidation, clean-up.

Reconciliation runs several statements in one transaction (the caller's
connection), so a crash leaves either all of a batch's decisions or none.
Every change writes its ``memory_events`` row; see ``sql/lifecycle.sql``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from mnemo.core.records import MemoryRecord
from mnemo.store.postgres.database import Connection, Database, Statement
from mnemo.store.postgres.memories import (
    ACCESS_JOIN,
    FRESH_SELECT,
    RECORD_SELECT,
    record_from_row,
)
from mnemo.store.postgres.queries import query

__all__ = ["ExtractedMemory", "LifecycleStore", "Refinement", "UpkeepRow"]

_COLUMNS = RECORD_SELECT


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtractedMemory:
    """A memory reconciliation decided to store; ``superseded_by`` makes it history."""

    id: str
    kind: str
    content: str
    embedding: Any
    confidence: float
    importance: float
    source_message_ids: Sequence[str]
    learned_at: datetime
    agent_id: str | None = None
    session_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    superseded_by: str | None = None
    valid_to: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Refinement:
    """New content (with its vector) or only new provenance for an existing memory."""

    memory_id: str
    source_message_ids: Sequence[str]
    confidence: float
    importance: float
    content: str | None = None
    embedding: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UpkeepRow:
    """A current memory as decay, consolidation and clean-up see it."""

    id: str
    kind: str
    content: str
    embedding: Any
    embedding_model: str | None
    created_at: datetime
    last_accessed_at: datetime | None
    access_count: int
    pinned: bool
    importance: float
    confidence: float
    decay_score: float


class LifecycleStore:
    """Lifecycle statements; those taking ``conn`` run inside the caller's transaction."""

    def __init__(self, db: Database, *, ts_config: str) -> None:
        self.db = db
        self._ts_config = ts_config

    async def nearest(
        self,
        conn: Connection,
        tenant_id: str,
        user_id: str,
        *,
        vector: Any,
        model: str,
        limit: int,
        skip_kinds: Sequence[str] = ("note",),
    ) -> list[tuple[MemoryRecord, float]]:
        """The user's current memories closest to ``vector``, with their cosine similarity."""
        params = {
            "tenant": tenant_id,
            "user": user_id,
            "vector": vector,
            "model": model,
            "limit": limit,
            "skip_kinds": list(skip_kinds),
        }
        rows = await _fetch(conn, _formatted("nearest_memories"), params)
        return [(record_from_row(row), float(row["similarity"])) for row in rows]

    async def insert(
        self, conn: Connection, tenant_id: str, user_id: str, memory: ExtractedMemory, *,
        model: str, reason: str, actor: str,
    ) -> MemoryRecord:  # fmt: skip
        """Insert one extracted memory with its ``add`` event."""
        params = {
            "tenant": tenant_id, "user": user_id, "ts_config": self._ts_config, "id": memory.id,
            "agent": memory.agent_id, "session": memory.session_id, "kind": memory.kind,
            "content": memory.content, "embedding": memory.embedding, "model": model,
            "confidence": memory.confidence, "importance": memory.importance,
            "metadata": Jsonb(memory.metadata), "sources": list(memory.source_message_ids),
            "learned_at": memory.learned_at, "valid_to": memory.valid_to,
            "superseded_by": memory.superseded_by, "reason": reason, "actor": actor,
        }  # fmt: skip
        rows = await _fetch(conn, _formatted("insert_memory", fresh=True), params)
        return record_from_row(rows[0])

    async def supersede(
        self, conn: Connection, tenant_id: str, user_id: str, memory_ids: Sequence[str], *,
        by: str, valid_to: datetime, reason: str, actor: str,
    ) -> list[str]:  # fmt: skip
        """Mark current memories as replaced by ``by`` from ``valid_to``; the ids changed."""
        params = {
            "tenant": tenant_id, "user": user_id, "ids": list(memory_ids), "by": by,
            "valid_to": valid_to, "reason": reason, "actor": actor,
        }  # fmt: skip
        rows = await _fetch(conn, query("lifecycle", "supersede_memories"), params)
        return [str(row["id"]) for row in rows]

    async def refine(
        self, conn: Connection, tenant_id: str, user_id: str, change: Refinement, *,
        model: str, event: str, reason: str, actor: str,
    ) -> MemoryRecord | None:  # fmt: skip
        """Apply ``change`` with an ``event`` row ('update' or 'ignore'); ``None`` if gone."""
        params = {
            "tenant": tenant_id, "user": user_id, "id": change.memory_id,
            "ts_config": self._ts_config, "content": change.content,
            "embedding": change.embedding, "model": model,
            "confidence": change.confidence, "importance": change.importance,
            "sources": list(change.source_message_ids), "event": event, "reason": reason,
            "actor": actor,
        }  # fmt: skip
        rows = await _fetch(conn, _formatted("refine_memory"), params)
        return record_from_row(rows[0]) if rows else None

    async def upkeep_rows(self, tenant_id: str, user_id: str) -> list[UpkeepRow]:
        """The user's current memories with what decay and consolidation need."""
        rows = await self.db.fetch(
            query("lifecycle", "upkeep_rows"),
            {"tenant": tenant_id, "user": user_id},
            tenant_id=tenant_id,
        )
        return [
            UpkeepRow(**{**row, "id": str(row["id"]), "embedding": _array(row["embedding"])})
            for row in rows
        ]

    async def set_decay_scores(
        self, conn: Connection, tenant_id: str, user_id: str,
        scores: Sequence[tuple[str, float, bool]], *, reason: str, actor: str,
    ) -> int:  # fmt: skip
        """Write ``(id, score, record_event)`` triples; the number of memories changed."""
        ids = [str(UUID(s[0])) for s in scores]  # as the database spells them (the keys)
        params = {
            "tenant": tenant_id, "user": user_id, "ids": ids,
            "scores": Jsonb({i: float(s[1]) for i, s in zip(ids, scores, strict=True)}),
            "recorded": [i for i, s in zip(ids, scores, strict=True) if s[2]],
            "reason": reason, "actor": actor,
        }  # fmt: skip
        rows = await _fetch(conn, query("lifecycle", "set_decay_scores"), params)
        return int(rows[0]["changed"])

    async def merge(
        self, conn: Connection, tenant_id: str, user_id: str, survivor: str,
        merged: Sequence[str], *, reason: str, actor: str,
    ) -> int:  # fmt: skip
        """Fold ``merged`` into ``survivor``; the number of memories folded."""
        params = {
            "tenant": tenant_id, "user": user_id, "survivor": survivor, "merged": list(merged),
            "reason": reason, "actor": actor,
        }  # fmt: skip
        rows = await _fetch(conn, query("lifecycle", "merge_memories"), params)
        return int(rows[0]["merged"])

    async def remove(
        self, conn: Connection, tenant_id: str, user_id: str, memory_ids: Sequence[str], *,
        reason: str, actor: str,
    ) -> list[str]:  # fmt: skip
        """Delete unpinned current memories with ``delete`` events; the ids removed."""
        params = {
            "tenant": tenant_id, "user": user_id, "ids": list(memory_ids), "reason": reason,
            "actor": actor,
        }  # fmt: skip
        rows = await _fetch(conn, query("lifecycle", "remove_memories"), params)
        return [str(row["id"]) for row in rows]

    async def users_with_memories(self) -> list[tuple[str, str]]:
        """Every ``(tenant_id, user_id)`` holding current memories (all tenants)."""
        rows = await self.db.fetch(query("lifecycle", "users_with_memories"))
        return [(row["tenant_id"], row["user_id"]) for row in rows]


async def _fetch(conn: Connection, statement: Statement, params: Any) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cursor:
        await cursor.execute(statement, params)
        return await cursor.fetchall() if cursor.description else []


def _array(vector: Any) -> Any:
    """A stored vector as a numpy array (pgvector hands back ``Vector`` objects)."""
    return vector.to_numpy() if hasattr(vector, "to_numpy") else vector


def _formatted(name: str, *, fresh: bool = False) -> sql.Composed:
    return query("lifecycle", name).format(
        columns=FRESH_SELECT if fresh else _COLUMNS, access=ACCESS_JOIN
    )
