"""Hybrid search over any searchable table: the vector and lexical legs in SQL, fusion and
scoring here.

One ``HybridSearch`` per table (memories, messages, document chunks): the same
candidate query, the same fusion and composite score; only the
``SearchableTable`` description, the WHERE fragment and the hit type differ, and
whether the ``ContextBoosts`` steps (dates named in the query, sessions) apply: they
do for memories and conversation turns, whose ``created_at`` says when they were said.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from mnemo.config import SearchConfig
from mnemo.core.context_boosts import ContextBoosts
from mnemo.core.observe import Observers
from mnemo.core.records import Scope, SearchHit
from mnemo.core.scoring import Candidate, Scored, rank_candidates
from mnemo.retrieval.embedding import EmbeddingService
from mnemo.retrieval.scope_routes import ScopeRouter
from mnemo.store.postgres.filters import Fragment
from mnemo.store.postgres.search import SearchableTable, SearchStore


class Identified(Protocol):
    @property
    def id(self) -> str: ...


R = TypeVar("R", bound=Identified)
H = TypeVar("H")

#: Called with the scope and the ids returned, e.g. to count accesses off the hot path.
HitsListener = Callable[[Scope, list[str]], None]


class HybridSearch(Generic[R, H]):
    """Finds a scope's most relevant rows of one table for a query."""

    def __init__(
        self,
        table: SearchableTable[R],
        hit: Callable[[R, Scored], H],
        store: SearchStore,
        embeddings: EmbeddingService,
        config: SearchConfig,
        observers: Observers,
        *,
        on_hits: HitsListener | None = None,
        metric: str = "search",
        routes: ScopeRouter | None = None,
        context: ContextBoosts | None = None,
    ) -> None:
        self._table = table
        self._hit = hit
        self._store = store
        self._embeddings = embeddings
        self._config = config
        self._observers = observers
        self._on_hits = on_hits
        self._metric = metric
        self._routes = routes
        self._context = context

    async def search(
        self, scope: Scope, query: str, where: Fragment, *, limit: int, now: datetime | None = None
    ) -> list[H]:
        """The ``limit`` best rows in ``where``, best first, each with its score breakdown.

        ``now`` is the moment recency is measured from (default: the current time).
        """
        with self._observers.timed(f"{self._metric}.embed"):
            vector = await self._embeddings.embed_query(scope, query)
        with self._observers.timed(f"{self._metric}.rank"):
            model = self._embeddings.model_id
            indexed = None
            if self._routes is not None:
                indexed = await self._routes.scan(scope, self._table.name, model)
            candidates = await self._store.candidates(
                self._table,
                where,
                query_vector=vector,
                query_text=query,
                model=model,
                depth=max(limit, self._config.candidates_per_leg),
                k1=self._config.bm25_k1,
                b=self._config.bm25_b,
                indexed=indexed,
            )
            if indexed is None and self._routes is not None and candidates:
                await self._routes.searched(scope, self._table.name, candidates[0].scope_rows)
            ranked = self._rank(candidates, query, limit=limit, now=now or datetime.now(UTC))
            by_id = {s.candidate.id: s for s in ranked}
            records = await self._store.records(self._table, scope, list(by_id))
        hits = [self._hit(record, by_id[record.id]) for record in records]
        if self._on_hits is not None:
            self._on_hits(scope, [record.id for record in records])
        return hits

    def _rank(
        self, candidates: list[Candidate], query: str, *, limit: int, now: datetime
    ) -> list[Scored]:
        lift = self._context.lift(query, now) if self._context is not None else None
        return rank_candidates(
            candidates,
            self._config.weights,
            self._config.fusion,
            now=now,
            half_life_days=self._config.recency_half_life_days,
            limit=limit,
            lift=lift,
        )


def scored_hit(hit_type: Callable[..., H]) -> Callable[[Any, Scored], H]:
    """A hit builder: the record's fields plus ``score`` and ``scores``, as ``hit_type``."""

    def build(record: Any, scored: Scored) -> H:
        values = {f.name: getattr(record, f.name) for f in fields(record)}
        return hit_type(**values, score=scored.score, scores=scored.scores)

    return build


#: Memory search hits.
memory_hit: Callable[[Any, Scored], SearchHit] = scored_hit(SearchHit)
