"""The ``mnemo_meta`` table: which embedding model the store's vectors come from."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from mnemo.store.postgres.database import Database
from mnemo.store.postgres.queries import query

EMBEDDING_KEY = "embedding_model"
REEMBED_KEY = "reembed_target"


class MetaStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, key: str) -> Any:
        rows = await self._db.fetch(query("meta", "get_meta"), {"key": key})
        return rows[0]["value"] if rows else None

    async def put(self, key: str, value: Any) -> None:
        await self._db.execute(query("meta", "put_meta"), {"key": key, "value": Jsonb(value)})

    async def claim(self, key: str, value: Any) -> Any:
        """Set ``key`` unless it is set; return the value it holds afterwards."""
        await self._db.execute(query("meta", "claim_meta"), {"key": key, "value": Jsonb(value)})
        return await self.get(key)

    async def delete(self, key: str) -> None:
        await self._db.execute(query("meta", "delete_meta"), {"key": key})

    async def embedded_rows_by_model(self) -> dict[str | None, int]:
        rows = await self._db.fetch(query("meta", "count_embedded_rows"))
        return {row["model"]: row["rows"] for row in rows}
