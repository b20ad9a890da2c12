"""An HNSW index for large shared (tenant-wide) document corpora.

A user's own chunks are few and are scanned exactly. A tenant's shared corpus can
grow large, so once it holds ``min_chunks`` chunks an HNSW index is built over
shared chunks (a partial index on ``embedding::vector(<dim>)``, since the column
has no fixed dimension; one index per dimension, built ``CONCURRENTLY`` so loads
and searches go on). Searches then take their shared candidates from it, and
from the partial GIN index on ``tsv``, before the exact hybrid scoring.

The tenant filter is applied after the index scan. pgvector >= 0.8 scans
iteratively until enough rows pass it (``hnsw.iterative_scan``); older versions
(down to 0.5) widen ``hnsw.ef_search`` instead, which can return fewer
candidates when one tenant owns a small part of a large index.
"""

from __future__ import annotations

import logging
from typing import Any

from psycopg import sql

from mnemo.errors import StoreUnavailable
from mnemo.store.postgres.database import Database
from mnemo.store.postgres.documents import SHARED_USER
from mnemo.store.postgres.queries import query

logger = logging.getLogger(__name__)

ITERATIVE_SCAN_VERSION = (0, 8, 0)


def index_name(dimension: int) -> str:
    return f"chunks_shared_hnsw_{dimension}"


class SharedChunkIndex:
    """Builds the shared-corpus HNSW index when needed, and searches through it."""

    def __init__(self, db: Database, *, min_chunks: int, ts_config: str) -> None:
        self._db = db
        self._min_chunks = min_chunks
        self._ts_config = ts_config
        self._ready: dict[int, bool] = {}
        self._version: tuple[int, ...] | None = None

    async def ready(self, dimension: int) -> bool:
        """Whether a valid index for ``dimension`` exists (remembered once true)."""
        if not self._ready.get(dimension):
            rows = await self._db.fetch(
                query("documents", "index_state"), {"name": index_name(dimension)}
            )
            self._ready[dimension] = bool(rows and rows[0]["valid"])
        return self._ready[dimension]

    async def ensure(self, tenant_id: str, dimension: int) -> bool:
        """Build the index if ``tenant_id``'s shared corpus reached ``min_chunks``;
        whether it exists now. Without the right to create indexes (the REST
        service's role) it logs how to build it and returns ``False``."""
        if await self.ready(dimension):
            return True
        if await _shared_count(self._db, tenant_id) < self._min_chunks:
            return False
        try:
            await self._build(dimension)
        except StoreUnavailable as exc:
            logger.warning(
                "could not build %s (%s); shared searches stay exact. Build it as the "
                "schema owner with `mnemo docs index`.",
                index_name(dimension),
                exc,
            )
            return False
        return await self.ready(dimension)

    async def build(self, dimension: int) -> None:
        """Build the index now, whatever the corpus size (``mnemo docs index``)."""
        await self._build(dimension)
        self._ready.pop(dimension, None)

    async def candidates(
        self,
        tenant_id: str,
        *,
        query_vector: Any,
        query_text: str,
        model: str,
        dimension: int,
        depth: int,
        db: Database | None = None,
    ) -> list[str]:
        """Ids of the shared chunks nearest to the vector (HNSW) and matching the words
        (GIN): the candidates the exact hybrid scoring then ranks. ``db`` may be a
        snapshot of the search's own transaction."""
        dim = sql.Literal(dimension)
        params = {
            "tenant": tenant_id,
            "query_vector": query_vector,
            "query_text": query_text,
            "model": model,
            "depth": depth,
            "ts_config": self._ts_config,
        }
        iterative = await self._version_at_least(ITERATIVE_SCAN_VERSION)
        async with (db or self._db).transaction(tenant_id) as conn:
            for setting in _scan_settings(iterative, depth):
                await conn.execute(setting)
            vector_rows = await conn.execute(
                query("documents", "shared_vector_candidates").format(dim=dim), params
            )
            ids = [str(r[0]) for r in await vector_rows.fetchall()]
            lexical_rows = await conn.execute(
                query("documents", "shared_lexical_candidates"), params
            )
            ids.extend(str(r[0]) for r in await lexical_rows.fetchall())
        return list(dict.fromkeys(ids))

    async def _build(self, dimension: int) -> None:
        name = sql.Identifier(index_name(dimension))
        rows = await self._db.fetch(
            query("documents", "index_state"), {"name": index_name(dimension)}
        )
        if rows and not rows[0]["valid"]:  # a build that failed part-way leaves an invalid index
            await self._db.execute(query("documents", "drop_index").format(name=name))
        statement = query("documents", "create_shared_hnsw").format(
            name=name, dim=sql.Literal(dimension)
        )
        await self._db.execute(statement)

    async def _version_at_least(self, wanted: tuple[int, ...]) -> bool:
        if self._version is None:
            rows = await self._db.fetch(query("documents", "pgvector_version"))
            text = rows[0]["extversion"] if rows else "0"
            self._version = tuple(int(p) for p in text.split(".")[:3] if p.isdigit())
        return self._version >= wanted


def _scan_settings(iterative: bool, depth: int) -> list[sql.Composed]:
    ef_search = max(40, depth) if iterative else min(1000, max(40, 4 * depth))
    settings = [sql.SQL("SET LOCAL hnsw.ef_search = {}").format(sql.Literal(ef_search))]
    if iterative:
        settings.append(
            sql.SQL("SET LOCAL hnsw.iterative_scan = {}").format(sql.SQL("relaxed_order"))
        )
    return settings


async def _shared_count(db: Database, tenant_id: str) -> int:
    rows = await db.fetch(
        query("documents", "shared_chunk_count"), {"tenant": tenant_id}, tenant_id=tenant_id
    )
    return int(rows[0]["n"])


__all__ = ["SHARED_USER", "SharedChunkIndex", "index_name"]
