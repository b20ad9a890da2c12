"""Read views over several tables for browsing a tenant's store (``sql/inspection.sql``).

Nothing here writes. The other stores read one aggregate each; these queries
summarise across them (users, sessions with their extraction states) or read
what only the history still holds (memories deleted or merged away).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from psycopg import sql

from mnemo.core.inspection import QueuedTurn, SessionOverview, UserOverview
from mnemo.core.records import MemoryRecord
from mnemo.store.postgres.database import Database
from mnemo.store.postgres.filters import Fragment
from mnemo.store.postgres.memories import FRESH_SELECT, record_from_row
from mnemo.store.postgres.queries import query

#: A removed memory's record: its access statistics were removed with it.
_COLUMNS = FRESH_SELECT


class InspectionStore:
    """SQL of the read views; one method, one statement."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def user_ids(self, tenant_id: str, *, after: str, limit: int) -> list[str]:
        """The tenant's users (with memories or turns) after ``after``, in order."""
        params = {"tenant": tenant_id, "after": after, "limit": limit}
        name = "user_ids_distributed" if await self._db.distributed() else "user_ids"
        rows = await self._db.fetch(_q(name), params, tenant_id=tenant_id)
        return [row["user_id"] for row in rows]

    async def user_overviews(self, tenant_id: str, user_ids: list[str]) -> list[UserOverview]:
        params = {"tenant": tenant_id, "users": user_ids}
        rows = await self._db.fetch(_q("user_overviews"), params, tenant_id=tenant_id)
        return [_user(row) for row in rows]

    async def removed_memories(
        self, where: Fragment, *, limit: int, offset: int
    ) -> list[MemoryRecord]:
        """Memories deleted or merged away in ``where``'s scope, newest removal first."""
        statement = _q("removed_memories").format(columns=_COLUMNS, where=where.sql)
        params = {**where.params, "limit": limit, "offset": offset}
        rows = await self._db.fetch(statement, params, tenant_id=where.params["tenant"])
        return [_removed(row) for row in rows]

    async def removed_memory(self, tenant_id: str, memory_id: str) -> MemoryRecord | None:
        """The last record the history holds of a memory no longer stored, if any."""
        statement = _q("removed_memory").format(columns=_COLUMNS)
        params = {"tenant": tenant_id, "id": memory_id}
        rows = await self._db.fetch(statement, params, tenant_id=tenant_id)
        return _removed(rows[0]) if rows else None

    async def sessions(self, tenant_id: str, user_id: str, *, limit: int) -> list[SessionOverview]:
        params = {"tenant": tenant_id, "user": user_id, "limit": limit}
        rows = await self._db.fetch(_q("sessions"), params, tenant_id=tenant_id)
        return [_session(row) for row in rows]

    async def extraction_queue(
        self, tenant_id: str, user_id: str | None, *, status: str, limit: int
    ) -> list[QueuedTurn]:
        params = {"tenant": tenant_id, "user": user_id, "status": status, "limit": limit}
        rows = await self._db.fetch(_q("extraction_queue"), params, tenant_id=tenant_id)
        return [_queued(row) for row in rows]


def _q(name: str) -> sql.SQL:
    return query("inspection", name)


def _user(row: dict[str, Any]) -> UserOverview:
    kinds = {kind: int(n) for kind, n in sorted((row["kinds"] or {}).items())}
    times = [t for t in (row["last_changed"], row["last_turn_at"]) if t is not None]
    return UserOverview(
        user_id=row["user_id"],
        memories=sum(kinds.values()),
        kinds=kinds,
        superseded=int(row["superseded"]),
        messages=int(row["messages"]),
        last_activity=max(times, default=None),
    )


def _removed(row: dict[str, Any]) -> MemoryRecord:
    """A removed memory's last record: status ``deleted``, valid until its removal.

    Snapshots taken before a column existed lack it; those fields keep their defaults.
    """
    decay = row["decay_score"]
    filled = {**row, "pinned": bool(row["pinned"]), "decay_score": 1.0 if decay is None else decay}
    record = record_from_row(filled)
    return replace(record, status="deleted", valid_to=row["removed_at"])


def _session(row: dict[str, Any]) -> SessionOverview:
    return SessionOverview(
        session_id=row["session_id"],
        turns=int(row["turns"]),
        first_turn=int(row["first_turn"]),
        last_turn=int(row["last_turn"]),
        started_at=row["started_at"],
        last_at=row["last_at"],
        tool_calls=int(row["tool_calls"]),
        extraction={k: int(row[k]) for k in ("pending", "done", "failed") if row[k]},
    )


def _queued(row: dict[str, Any]) -> QueuedTurn:
    return QueuedTurn(
        user_id=row["user_id"],
        message_id=str(row["message_id"]),
        status=row["status"],
        attempts=int(row["attempts"]),
        last_error=row["last_error"],
        memory_ids=[str(m) for m in row["memory_ids"] or []],
        updated_at=row["updated_at"],
        session_id=row["session_id"],
        turn_number=row["turn_number"],
        role=row["role"],
        content=row["content"],
    )
