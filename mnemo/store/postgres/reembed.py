"""SQL for re-embedding: find rows embedded by another model, write new vectors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from mnemo.store.postgres.database import Database
from mnemo.store.postgres.queries import query


@dataclass(frozen=True, slots=True)
class StaleRow:
    tenant_id: str
    user_id: str
    id: Any
    content: str
    content_hash: bytes


class ReembedStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def tables(self) -> list[str]:
        """Tables whose rows carry an embedding of their content."""
        return [
            row["table_name"] for row in await self._db.fetch(query("reembed", "embedded_tables"))
        ]

    async def count_stale(self, table: str, model: str) -> int:
        rows = await self._db.fetch(_on(table, "count_stale_rows"), {"model": model})
        return int(rows[0]["count"])

    async def stale_rows(self, table: str, model: str, limit: int) -> list[StaleRow]:
        """Up to ``limit`` rows of ``table`` not embedded by ``model``."""
        rows = await self._db.fetch(_on(table, "stale_rows"), {"model": model, "limit": limit})
        return [StaleRow(**row) for row in rows]

    async def set_embeddings(
        self, table: str, model: str, rows: Sequence[StaleRow], vectors: Sequence[Any]
    ) -> int:
        """Write new vectors; a row whose content changed meanwhile is left for the next pass."""
        params = {
            "model": model,
            "tenants": [r.tenant_id for r in rows],
            "users": [r.user_id for r in rows],
            "ids": [r.id for r in rows],
            "hashes": [r.content_hash for r in rows],
            "embeddings": list(vectors),
        }
        return await self._db.execute(_on(table, "set_embeddings"), params)

    async def drop_other_cached(self, model: str) -> None:
        await self._db.execute(query("reembed", "drop_other_cached"), {"model": model})


def _on(table: str, name: str) -> sql.Composed:
    return query("reembed", name).format(table=sql.Identifier(table))
