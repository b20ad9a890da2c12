"""The planner's statistics of the searchable tables, kept current after bulk writes.

PostgreSQL plans a search from each table's statistics, which only ``ANALYZE``
refreshes. Autovacuum analyses a table once about a tenth of it changed, but
only at its next pass (a minute apart by default) and after the write counters
reach it; meanwhile a table freshly filled by ``add_many`` is planned as if it
were nearly empty, and a search can cost several times what it should.

``TableStatistics`` counts the rows this process wrote to each table and, when
they reach a tenth of what the table held at its last analysis (at least
``min_rows``), analyses it at once, in the call that crossed the line. That is
about 70 analyses while a table grows from nothing to a million rows, each
sampling at most 30,000 rows. A role that does not own the table (the REST
service's ``mnemo_service``) is skipped by PostgreSQL with a warning, and
autovacuum remains its safety net.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from psycopg import sql

if TYPE_CHECKING:
    from mnemo.store.postgres.database import Database

__all__ = ["TableStatistics"]

#: Tables whose statistics searches depend on.
ANALYZED_TABLES = frozenset({"memories", "messages", "chunks"})


class TableStatistics:
    """Runs ``ANALYZE`` on a table once enough of it was written since the last one."""

    def __init__(self, db: Database, *, min_rows: int = 1_000, fraction: float = 0.1) -> None:
        self._db = db
        self.min_rows = min_rows
        self.fraction = fraction
        self._written: Counter[str] = Counter()
        self._rows: dict[str, float] = {}

    async def wrote(self, table: str, rows: int) -> bool:
        """Count ``rows`` written to ``table``; analyse it if that crossed the line.

        Whether it ran ``ANALYZE``. The counter restarts before the analysis, so of
        concurrent writers only one runs it.
        """
        self._written[table] += rows
        if self._written[table] < self.due_after(table):
            return False
        self._written[table] = 0
        await self.analyze(table)
        return True

    def due_after(self, table: str) -> float:
        """Rows written since the last analysis that make the next one due."""
        return max(self.min_rows, self.fraction * self._rows.get(table, 0.0))

    async def analyze(self, table: str) -> None:
        """``ANALYZE`` the table now and remember how many rows it holds."""
        if table not in ANALYZED_TABLES:
            raise ValueError(f"{table!r} is not one of the analysed tables")
        await self._db.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
        found = await self._db.fetch(
            "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", (table,)
        )
        self._rows[table] = max(0.0, float(found[0]["reltuples"])) if found else 0.0
