"""Which way a search of one scope goes: exact, or through the scope's own index.

The first search of a scope looks up its registered index (``scope_indexes``);
a scope without one is searched exactly, the exact query reports how many rows it
searched, and once that reaches ``indexed_scope_rows`` a maintenance job is asked to
build the index (once per route; the search stays exact meanwhile). The answer is
remembered for ``scope_index_recheck_seconds``, so a busy scope costs one lookup per
interval, not one per search.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from mnemo.config import SearchConfig
from mnemo.core.records import Scope
from mnemo.store.postgres.scope_indexes import (
    INDEXED_TABLES,
    ScopeIndex,
    ScopeIndexStore,
    index_predicate,
)
from mnemo.store.postgres.search import IndexedScan

#: Asks for a scope's index to be built (defers the job; duplicates are refused).
IndexRequester = Callable[[Scope, str], Awaitable[None]]


@dataclass(slots=True)
class _Route:
    index: ScopeIndex | None
    until: float
    requested: bool = False


class ScopeRouter:
    """Remembers, per scope and table, whether the scope has an index of its own."""

    def __init__(
        self,
        store: ScopeIndexStore,
        config: SearchConfig,
        *,
        request_index: IndexRequester | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._config = config
        self._request_index = request_index
        self._clock = clock
        self._routes: dict[tuple[str, str, str], _Route] = {}

    async def scan(self, scope: Scope, table: str, model: str) -> IndexedScan | None:
        """How to search ``scope``'s rows of ``table`` through its index, or ``None``: exact."""
        if table not in INDEXED_TABLES or self._config.indexed_scope_rows <= 0:
            return None
        index = await self._index(scope, table, model)
        if index is None:
            return None
        return IndexedScan(
            predicate=index_predicate(scope, "m", index.model),
            dimensions=index.dimensions,
            scope_rows=index.row_count,
            avg_doc_len=index.avg_doc_len,
            term_cap=self._config.term_cap,
            ef_search=self._config.ann_ef_search,
        )

    async def searched(self, scope: Scope, table: str, rows: int | None) -> None:
        """An exact search of ``scope`` read ``rows`` rows: ask for its index when due."""
        if self._request_index is None or rows is None or table not in INDEXED_TABLES:
            return
        if self._config.indexed_scope_rows <= 0 or rows < self._config.indexed_scope_rows:
            return
        route = self._routes.get((scope.tenant_id, scope.user_id, table))
        if route is None or route.requested:
            return
        route.requested = True
        await self._request_index(scope, table)

    def forget(self, scope: Scope) -> None:
        """Drop what is remembered of a scope (its user was deleted)."""
        for key in [k for k in self._routes if k[:2] == (scope.tenant_id, scope.user_id)]:
            del self._routes[key]

    async def _index(self, scope: Scope, table: str, model: str) -> ScopeIndex | None:
        key = (scope.tenant_id, scope.user_id, table)
        now = self._clock()
        route = self._routes.get(key)
        if route is None or route.until <= now:
            route = _Route(await self._lookup(scope, table, model), now + self._recheck)
            self._routes[key] = route
        return route.index

    async def _lookup(self, scope: Scope, table: str, model: str) -> ScopeIndex | None:
        index = await self._store.lookup(scope, table)
        return index if index is not None and index.model == model else None

    @property
    def _recheck(self) -> float:
        return self._config.scope_index_recheck_seconds
