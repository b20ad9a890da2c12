"""The extraction ledger: which conversation turns still wait for extraction.

A turn's row is ``pending`` from the moment it is stored with ``infer=True``
(same transaction: ``mnemo_append_turns`` writes it, see ``messages.py``),
``done`` when the transaction writing its memories commits (again the same
transaction, which is what makes extraction exactly-once even
when a worker dies), or ``failed`` — the visible dead-letter state — after too
many failed attempts. See ``sql/extractions.sql``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from mnemo.store.postgres.database import Connection, Database
from mnemo.store.postgres.queries import query

__all__ = ["ExtractionState", "ExtractionStore", "PendingTurn", "StoredTurn"]


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredTurn:
    """A conversation turn as extraction reads it from ``messages``."""

    id: str
    role: str
    name: str | None
    content: str
    created_at: datetime
    session_id: str
    agent_id: str | None
    turn_number: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingTurn:
    """A ledger row still pending; ``turn`` is ``None`` when its message is gone."""

    message_id: str
    attempts: int
    turn: StoredTurn | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtractionState:
    """Where a turn's extraction stands: ``pending``, ``done`` or ``failed``."""

    message_id: str
    status: str
    attempts: int
    last_error: str | None
    memory_ids: list[str]
    updated_at: datetime
    user_id: str | None = None
    #: Extracted from a model reply cut off by its token limit: memories may be missing.
    truncated: bool = False


class ExtractionStore:
    """SQL on ``message_extractions`` (and reads of ``messages``)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def pending_through(self, tenant_id: str, seq: int) -> int:
        """How many of the tenant's turns up to ledger position ``seq`` are still pending."""
        params = {"tenant": tenant_id, "seq": seq}
        rows = await self.db.fetch(
            query("extractions", "pending_through"), params, tenant_id=tenant_id
        )
        return int(rows[0]["pending"])

    async def pending(self, tenant_id: str, user_id: str, *, limit: int) -> list[PendingTurn]:
        """The user's oldest pending turns (at most ``limit``)."""
        rows = await self.db.fetch(
            query("extractions", "pending_turns"),
            {"tenant": tenant_id, "user": user_id, "limit": limit},
            tenant_id=tenant_id,
        )
        return [
            PendingTurn(
                message_id=str(row["message_id"]),
                attempts=int(row["attempts"]),
                turn=_turn({**row, "id": row["message_id"]})
                if row["content"] is not None
                else None,
            )
            for row in rows
        ]

    async def preceding(
        self, tenant_id: str, user_id: str, turns: Sequence[StoredTurn]
    ) -> dict[tuple[str, int], StoredTurn]:
        """The turn before each of ``turns`` in its session, by ``(session, turn_number)``."""
        params = {
            "tenant": tenant_id,
            "user": user_id,
            "sessions": [t.session_id for t in turns],
            "turns": [t.turn_number for t in turns],
        }
        rows = await self.db.fetch(
            query("extractions", "preceding_turns"), params, tenant_id=tenant_id
        )
        found = [_turn(row) for row in rows]
        return {(t.session_id, t.turn_number + 1): t for t in found}

    async def lock_pending(
        self, conn: Connection, tenant_id: str, user_id: str, message_ids: Sequence[str]
    ) -> list[str]:
        """Lock the given turns until the transaction ends; those still pending, in order."""
        params = {"tenant": tenant_id, "user": user_id, "ids": list(message_ids)}
        cursor = await conn.execute(query("extractions", "lock_pending"), params)
        return [str(row[0]) for row in await cursor.fetchall()]

    async def mark_done(
        self, conn: Connection, tenant_id: str, user_id: str,
        memories: Mapping[str, Sequence[str]], *, extractor: str,
        truncated: Collection[str] = (),
    ) -> int:  # fmt: skip
        """Mark turns done with the memories they produced; the number marked.

        ``truncated`` names those whose model reply was cut off by its token limit."""
        params = {
            "tenant": tenant_id,
            "user": user_id,
            "ids": list(memories),
            "memories": [Jsonb(list(ids)) for ids in memories.values()],
            "extractor": extractor,
            "truncated": list(truncated),
        }
        cursor = await conn.execute(query("extractions", "mark_done"), params)
        return cursor.rowcount

    async def record_failure(
        self, tenant_id: str, user_id: str, message_ids: Sequence[str], *, error: str,
        max_attempts: int, final: bool = False,
    ) -> list[str]:  # fmt: skip
        """Count a failed attempt (``final``: give up now); the turns now ``failed``."""
        params = {
            "tenant": tenant_id, "user": user_id, "ids": list(message_ids),
            "error": error[:2_000], "max_attempts": max_attempts, "final": final,
        }  # fmt: skip
        rows = await self.db.fetch(
            query("extractions", "record_failure"), params, tenant_id=tenant_id
        )
        return [str(row["message_id"]) for row in rows if row["status"] == "failed"]

    async def states(
        self, tenant_id: str, user_id: str, message_ids: Sequence[str]
    ) -> dict[str, ExtractionState]:
        """The ledger state of each given turn that has one."""
        params = {"tenant": tenant_id, "user": user_id, "ids": list(message_ids)}
        rows = await self.db.fetch(query("extractions", "statuses"), params, tenant_id=tenant_id)
        return {str(row["message_id"]): _state(row) for row in rows}

    async def counts(self, tenant_id: str, user_id: str | None = None) -> dict[str, int]:
        """Turns per status for a tenant (or one user)."""
        rows = await self.db.fetch(
            query("extractions", "counts"), {"tenant": tenant_id, "user": user_id},
            tenant_id=tenant_id,
        )  # fmt: skip
        return {row["status"]: int(row["turns"]) for row in rows}

    async def count_truncated(self, tenant_id: str, user_id: str | None = None) -> int:
        """Turns extracted from a model reply cut off by its token limit."""
        rows = await self.db.fetch(
            query("extractions", "truncated_count"), {"tenant": tenant_id, "user": user_id},
            tenant_id=tenant_id,
        )  # fmt: skip
        return int(rows[0]["turns"])

    async def failed(
        self, tenant_id: str, user_id: str | None = None, *, limit: int = 100
    ) -> list[ExtractionState]:
        """Dead-lettered turns, most recent first."""
        params = {"tenant": tenant_id, "user": user_id, "limit": limit}
        rows = await self.db.fetch(
            query("extractions", "failed_turns"), params, tenant_id=tenant_id
        )
        return [_state(row) for row in rows]

    async def retry_failed(
        self, conn: Connection, tenant_id: str, user_id: str | None = None
    ) -> dict[str, tuple[int, int]]:
        """Put dead-lettered turns back to pending; per user, how many and the newest
        ledger position among them, as ``{user_id: (count, seq)}``."""
        params = {"tenant": tenant_id, "user": user_id}
        cursor = await conn.execute(query("extractions", "retry_failed"), params)
        found: dict[str, tuple[int, int]] = {}
        for owner, _, seq in await cursor.fetchall():
            count, last = found.get(owner, (0, 0))
            found[owner] = (count + 1, max(last, int(seq)))
        return found

    async def users_with_pending(self) -> list[tuple[str, str]]:
        """Every ``(tenant_id, user_id)`` with pending turns (all tenants)."""
        rows = await self.db.fetch(query("extractions", "users_with_pending"))
        return [(row["tenant_id"], row["user_id"]) for row in rows]


def _turn(row: dict[str, Any]) -> StoredTurn:
    return StoredTurn(
        id=str(row["id"]),
        role=row["role"],
        name=row["name"],
        content=row["content"],
        created_at=row["created_at"],
        session_id=row["session_id"],
        agent_id=row["agent_id"],
        turn_number=int(row["turn_number"]),
    )


def _state(row: dict[str, Any]) -> ExtractionState:
    return ExtractionState(
        message_id=str(row["message_id"]),
        status=row["status"],
        attempts=int(row["attempts"]),
        last_error=row["last_error"],
        memory_ids=[str(m) for m in row["memory_ids"] or []],
        updated_at=row["updated_at"],
        user_id=row.get("user_id"),
        truncated=bool(row["truncated"]),
    )
