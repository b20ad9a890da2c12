"""The summaries table: one progressive summary per session.

Folding turns into a summary reads the summary, summarises, and writes it
back. ``folding`` runs that under a transaction-scoped advisory lock taken with
*try*: a second process folding the same session at the same moment gets no
lease and skips, and the write itself only replaces the summary it started
from, so a fold can never be applied twice or lost.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from psycopg.rows import dict_row

from mnemo.core.messages import SessionSummary
from mnemo.store.postgres.database import Connection, Database
from mnemo.store.postgres.messages import SessionRef
from mnemo.store.postgres.queries import query


class FoldLease:
    """The right to fold one session's turns, until the transaction ends."""

    def __init__(self, conn: Connection, session: SessionRef) -> None:
        self._conn = conn
        self._session = session

    async def current(self) -> SessionSummary | None:
        """The summary as it stands inside this transaction."""
        rows = await _fetch(self._conn, "get_summary", self._session.params)
        return summary_from_row(rows[0]) if rows else None

    async def save(
        self, summary: SessionSummary, *, previous_through: int, agent_id: str | None
    ) -> SessionSummary | None:
        """Write ``summary`` if the stored one still covers ``previous_through`` turns.

        ``summary.turns_folded`` is the number of turns this fold added. Returns the
        stored summary, or ``None`` when another writer moved it on meanwhile.
        """
        params = {
            **self._session.params,
            "agent": agent_id,
            "content": summary.content,
            "through_turn": summary.through_turn,
            "turns_folded": summary.turns_folded,
            "token_count": summary.token_count,
            "method": summary.method,
            "previous_through": previous_through,
        }
        rows = await _fetch(self._conn, "save_summary", params)
        return summary_from_row(rows[0]) if rows else None


class SummaryStore:
    """SQL on ``summaries``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, session: SessionRef) -> SessionSummary | None:
        rows = await self._db.fetch(
            query("summaries", "get_summary"), session.params, tenant_id=session.tenant_id
        )
        return summary_from_row(rows[0]) if rows else None

    @asynccontextmanager
    async def folding(self, session: SessionRef) -> AsyncIterator[FoldLease | None]:
        """A lease to fold ``session`` in one transaction, or ``None`` if another holds it."""
        async with self._db.transaction(session.tenant_id) as conn:
            rows = await _fetch(conn, "try_lock_session", session.params)
            yield FoldLease(conn, session) if rows[0]["locked"] else None

    async def delete(self, session: SessionRef) -> int:
        return await self._db.execute(
            query("summaries", "delete_summary"), session.params, tenant_id=session.tenant_id
        )


def summary_from_row(row: dict[str, Any]) -> SessionSummary:
    return SessionSummary(**row)


async def _fetch(conn: Connection, name: str, params: Any) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query("summaries", name), params)
        return await cur.fetchall()
