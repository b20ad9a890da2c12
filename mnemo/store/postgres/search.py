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
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from psycopg import sql

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
    #: The window (``PARTITION BY`` / ``ORDER BY`` over ``m``) in which a row's
    #: previous and next rows are its stored neighbours.
    neighbours: sql.Composable = field(
        default_factory=lambda: sql.SQL("ORDER BY m.created_at, m.id")
    )

    @property
    def column_list(self) -> sql.Composed:
        """``m.col1, m.col2, ...`` for a SELECT list."""
        return sql.SQL(", ").join(sql.SQL("m.{}").format(sql.Identifier(c)) for c in self.columns)


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
    ) -> list[Candidate]:
        """The best ``depth`` rows of each leg (exact vector distance, BM25) in ``where``.

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
        statement = query("search", "search_candidates").format(
            table=sql.Identifier(table.name),
            signals=table.signals,
            neighbours=table.neighbours,
            where=where.sql,
        )
        rows = await self._db.fetch(statement, params, tenant_id=where.params["tenant"])
        return [candidate_from_row(row) for row in rows]

    async def records(self, table: SearchableTable[R], scope: Scope, ids: Sequence[str]) -> list[R]:
        """The records of one user's rows with these ids, in the order asked."""
        if not ids:
            return []
        statement = query("search", "get_user_rows").format(
            table=sql.Identifier(table.name), columns=table.column_list
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
        next_id=str(row["next_id"]) if row["next_id"] else None,
        confidence=row["confidence"],
        importance=row["importance"],
        access_count=row["access_count"],
    )
