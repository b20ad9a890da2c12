"""The ``embedding_cache`` table: vectors by (user, model, input type, text hash)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mnemo.store.postgres.database import Database
from mnemo.store.postgres.queries import query


def text_hash(text: str) -> bytes:
    """The cache key of a text: its SHA-256."""
    return hashlib.sha256(text.encode()).digest()


@dataclass(frozen=True, slots=True)
class CachedEmbedding:
    user_id: str
    input_type: str
    text_hash: bytes
    embedding: Any


class EmbeddingCacheStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_many(
        self, tenant_id: str, user_id: str, model: str, input_type: str, hashes: Sequence[bytes]
    ) -> dict[bytes, Any]:
        """The cached vectors among ``hashes``, by hash."""
        params = {
            "tenant": tenant_id,
            "user": user_id,
            "model": model,
            "input_type": input_type,
            "hashes": list(hashes),
        }
        rows = await self._db.fetch(
            query("embedding_cache", "get_embeddings"), params, tenant_id=tenant_id
        )
        return {bytes(row["text_hash"]): row["embedding"].to_numpy() for row in rows}

    async def put_many(self, tenant_id: str, model: str, items: Sequence[CachedEmbedding]) -> None:
        """Store vectors; ones already cached are left as they are."""
        params = {
            "tenant": tenant_id,
            "model": model,
            "users": [i.user_id for i in items],
            "input_types": [i.input_type for i in items],
            "hashes": [i.text_hash for i in items],
            "embeddings": [i.embedding for i in items],
        }
        await self._db.execute(
            query("embedding_cache", "put_embeddings"), params, tenant_id=tenant_id
        )
