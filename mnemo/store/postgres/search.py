"""One hybrid candidate query for every table with searchable text.

Memories, messages and document chunks share the embedded-table columns
(``content``, ``embedding``, ``embedding_model``, ``tsv``, ``doc_len``) plus
``tenant_id``, ``user_id``, ``id`` and ``created_at``. A ``SearchableTable``
says what differs: the table's name, the columns of its records, where its
ranking signals come from, and which stored rows are neighbours. The SQL
itself (``sql/search.sql``) is written once and formatted with identifiers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from psycopg import sql
from psycopg.rows import dict_row

from mnemo.core.records import Scope
from mnemo.core.scoring import Candidate
from mnemo.store.postgres.database import Database
from mnemo.store.postgres.filters import Fragment
from mnemo.store.postgres.queries import query

R = TypeVar("R")

#: Signals of a table that keeps none: full confidence, middling importance, no accesses.
NEUTRAL_SIGNALS = "1::real AS confidence, 0.5::real AS importance, 0 AS access_count"


@dataclass(frozen=True, slots=True)
class SearchableTable(Generic[R]):
    """What the shared candidate query needs to know about one searchable table."""

    name: str
    #: Columns a record is built from (read over the alias ``m``).
    columns: tuple[str, ...]
    #: Builds a record from a row holding ``columns``.
    record: Callable[[dict[str, Any]], R]
    #: ``confidence``, ``importance`` and ``access_count`` expressions over ``m``.
    signals: sql.Composable = field(default_factory=lambda: sql.SQL(NEUTRAL_SIGNALS))
    #: Joins after ``FROM table m`` that ``signals`` and ``select_list`` read (co-located,
    #: on the whole key: Citus runs them on the user's shard).
    joins: sql.Composable = field(default_factory=lambda: sql.SQL(""))
    #: Stored neighbours are adjacent rows in ``neighbour_order`` among the rows of the
    #: scope sharing ``neighbour_group`` (no order: rows have no neighbours). An index
    #: on (tenant_id, user_id, *group, *order) makes finding one a single probe.
    neighbour_group: tuple[str, ...] = ()
    neighbour_order: tuple[str, ...] = ("created_at", "id")
    #: The SELECT list of ``columns`` over ``m`` when some are not plain columns.
    select_list: sql.Composable | None = None

    @property
    def column_list(self) -> sql.Composable:
        """``m.col1, m.col2, ...`` for a SELECT list."""
        if self.select_list is not None:
            return self.select_list
        return sql.SQL(", ").join(sql.SQL("m.{}").format(sql.Identifier(c)) for c in self.columns)

    @property
    def previous(self) -> sql.Composable:
        """Condition and order over ``m`` finding the stored predecessor of the row ``k``."""
        if not self.neighbour_order:
            return sql.SQL("false")
        same = [
            sql.SQL("m.{col} = k.{col}").format(col=sql.Identifier(c))
            for c in ("tenant_id", "user_id", *self.neighbour_group)
        ]
        order = [sql.Identifier(c) for c in self.neighbour_order]
        before = sql.SQL("({}) < ({})").format(
            sql.SQL(", ").join(sql.SQL("m.{}").format(c) for c in order),
            sql.SQL(", ").join(sql.SQL("k.{}").format(c) for c in order),
        )
        return sql.SQL("{} ORDER BY {}").format(
            sql.SQL(" AND ").join([*same, before]),
            sql.SQL(", ").join(sql.SQL("m.{} DESC").format(c) for c in order),
        )


@dataclass(frozen=True, slots=True)
class IndexedScan:
    """How to search a scope that has its own vector index (``scope_indexes.py``)."""

    #: The index's predicate (literals), which the query repeats so the planner uses it.
    predicate: sql.Composable
    dimensions: int
    scope_rows: int
    avg_doc_len: float
    #: Rows a query word may match and still be looked up through the GIN index.
    term_cap: int
    ef_search: int


class SearchStore:
    """Runs the shared candidate query and fetches the winners' records."""

    def __init__(self, db: Database, *, ts_config: str) -> None:
        self._db = db
        self._ts_config = ts_config

    async def candidates(
        self,
        table: SearchableTable[Any],
        where: Fragment,
        *,
        query_vector: Any,
        query_text: str,
        model: str,
        depth: int,
        k1: float,
        b: float,
        indexed: IndexedScan | None = None,
    ) -> list[Candidate]:
        """The best ``depth`` rows of each leg (vector distance, BM25) in ``where``.

        Exact over the scope, or through the scope's own index when ``indexed``.
        Only what fusion and scoring need comes back; fetch the winners' records
        with ``records``.
        """
        params = {
            **where.params,
            "query_vector": query_vector,
            "query_text": query_text,
            "model": model,
            "depth": depth,
            "k1": k1,
            "b": b,
            "ts_config": self._ts_config,
        }
        parts = {
            "table": sql.Identifier(table.name),
            "where": where.sql,
            "signals": table.signals,
            "joins": table.joins,
            "previous": table.previous,
        }
        ranked = query("search", "ranked_candidates").format(**parts)
        tenant = where.params["tenant"]
        if indexed is None:
            statement = query("search", "search_candidates").format(ranked=ranked, **parts)
            rows = await self._db.fetch(statement, params, tenant_id=tenant)
        else:
            statement = query("search", "search_candidates_indexed").format(
                ranked=ranked,
                indexed=indexed.predicate,
                dim=sql.Literal(indexed.dimensions),
                **parts,
            )
            params |= {
                "term_cap": indexed.term_cap,
                "scope_rows": indexed.scope_rows,
                "avg_doc_len": indexed.avg_doc_len,
            }
            rows = await self._fetch_indexed(statement, params, tenant, indexed.ef_search)
        return with_successors([candidate_from_row(row) for row in rows])

    async def _fetch_indexed(
        self, statement: sql.Composed, params: dict[str, Any], tenant: str, ef_search: int
    ) -> list[dict[str, Any]]:
        # Iterative scans keep walking the graph until enough rows pass the filters.
        settings = sql.SQL(
            "SET LOCAL hnsw.ef_search = {}; SET LOCAL hnsw.iterative_scan = relaxed_order"
        ).format(sql.Literal(ef_search))
        async with self._db.transaction(tenant) as conn:
            await conn.execute(settings)
            cursor = conn.cursor(row_factory=dict_row)
            await cursor.execute(statement, params)
            return await cursor.fetchall()

    async def records(self, table: SearchableTable[R], scope: Scope, ids: Sequence[str]) -> list[R]:
        """The records of one user's rows with these ids, in the order asked."""
        if not ids:
            return []
        statement = query("search", "get_user_rows").format(
            table=sql.Identifier(table.name), columns=table.column_list, joins=table.joins
        )
        params = {"tenant": scope.tenant_id, "user": scope.user_id, "ids": list(ids)}
        rows = await self._db.fetch(statement, params, tenant_id=scope.tenant_id)
        by_id = {str(row["id"]): table.record(row) for row in rows}
        return [by_id[i] for i in ids if i in by_id]


def candidate_from_row(row: dict[str, Any]) -> Candidate:
    """A search ``Candidate`` from a row of ``search_candidates``."""
    ranks = {"vector": row["vector_rank"], "lexical": row["lexical_rank"]}
    scores = {"vector": row["similarity"], "lexical": row["lexical_score"]}
    return Candidate(
        id=str(row["id"]),
        created_at=row["created_at"],
        leg_scores={leg: s for leg, s in scores.items() if s is not None},
        ranks={leg: r for leg, r in ranks.items() if r is not None},
        prev_id=str(row["prev_id"]) if row["prev_id"] else None,
        confidence=row["confidence"],
        importance=row["importance"],
        access_count=row["access_count"],
        scope_rows=row.get("scope_rows"),
    )


def merged_candidates(groups: Sequence[list[Candidate]], *, depth: int) -> list[Candidate]:
    """Candidates of scopes searched apart (a statement each), as one search over all of
    them finds them: each leg re-ranked by its score over every group (ties by id, as
    in SQL) and cut to its best ``depth``; a candidate left in no leg is dropped; the
    successors found again. BM25 scores keep each scope's own collection statistics.
    """
    pool = [replace(c, next_id=None) for group in groups for c in group]
    ranks: dict[str, dict[str, int]] = {c.id: {} for c in pool}
    for leg in ("vector", "lexical"):
        in_leg = sorted(
            (c for c in pool if leg in c.ranks), key=lambda c: (-c.leg_scores[leg], c.id)
        )
        for rank, c in enumerate(in_leg[:depth], start=1):
            ranks[c.id][leg] = rank
    return with_successors([replace(c, ranks=ranks[c.id]) for c in pool if ranks[c.id]])


def with_successors(candidates: list[Candidate]) -> list[Candidate]:
    """``candidates`` with ``next_id`` set where the successor is a candidate too.

    The query finds each candidate's predecessor; the successor of X is the
    candidate whose predecessor is X, and only neighbours that are candidates
    lend anything.
    """
    successor = {c.prev_id: c.id for c in candidates if c.prev_id is not None}
    return [replace(c, next_id=successor[c.id]) if c.id in successor else c for c in candidates]
