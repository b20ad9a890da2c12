"""Building the vector indexes of very large scopes (``store/postgres/scope_indexes.py``).

A search that finds its scope large asks for an ``mnemo.index_scope`` job; the
maintenance sweep also defers one for every large scope without an index (a
store filled by a bulk import is indexed without waiting for a search) and drops
indexes whose user was deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from mnemo.core.records import Scope
from mnemo.store.postgres.scope_indexes import INDEXED_TABLES, ScopeIndexStore

logger = logging.getLogger(__name__)

#: The embedding model id and dimension indexes are built for (the engine's embedder).
ModelOf = Callable[[], tuple[str, int]]


class ScopeIndexer:
    """Builds scope indexes on demand and finds the scopes that need one."""

    def __init__(
        self,
        store: ScopeIndexStore,
        *,
        model: ModelOf,
        min_rows: int,
        on_built: Callable[[Scope], None] = lambda scope: None,
    ) -> None:
        self._store = store
        self._model = model
        self._min_rows = min_rows
        self._on_built = on_built

    async def build(self, scope: Scope, table: str) -> dict[str, int]:
        """Build (or rebuild) the index of ``scope``'s rows of ``table``."""
        model, dimensions = self._model()
        index = await self._store.build(scope, table, model=model, dimensions=dimensions)
        self._on_built(scope)
        logger.info("built %s over %d rows", index.name, index.row_count)
        return {"rows": index.row_count}

    async def due(self, min_rows: int | None = None) -> list[tuple[Scope, str]]:
        """Scopes (and tables) with at least ``min_rows`` rows and no index yet."""
        threshold = self._min_rows if min_rows is None else min_rows
        if threshold <= 0:
            return []
        found: list[tuple[Scope, str]] = []
        for table in INDEXED_TABLES:
            found.extend(
                (scope, table) for scope, _ in await self._store.large_scopes(table, threshold)
            )
        return found

    async def drop_orphans(self) -> int:
        """Drop indexes whose scope's registry row is gone; how many."""
        return len(await self._store.drop_orphans())
