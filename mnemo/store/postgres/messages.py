"""The messages table: append turns to a session, read windows and pages, stats, delete.

A row keeps the turn's text as given in ``body`` (a record's ``content``) and, in
``content``, what search indexes and embeds: that text plus its tool calls and
results, so ``mnemo reembed`` re-embeds what search needs.

There is no update: turns are never rewritten. An append is one call of the
``mnemo_append_turns`` function (revision 0010), one round trip: it serialises
appends to one session with a transaction-scoped advisory lock, which makes
turn numbering and idempotency keys safe under concurrent writers, and with
an extraction job it registers the turns in the extraction ledger and defers
the job in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

from psycopg import sql
from psycopg.types.json import Jsonb

from mnemo.core.messages import MessageRecord, NewMessage
from mnemo.core.records import Scope
from mnemo.store.postgres.database import Database
from mnemo.store.postgres.filters import Fragment
from mnemo.store.postgres.jobs import JobRequest, job_params
from mnemo.store.postgres.queries import query
from mnemo.store.postgres.search import SearchableTable

RECORD_COLUMNS = (
    "id",
    "user_id",
    "session_id",
    "turn_number",
    "role",
    "body",
    "created_at",
    "agent_id",
    "name",
    "tool_calls",
    "tool_results",
    "metadata",
    "token_count",
    "idempotency_key",
    "embedding_model",
    "source",
)
_ORDERS: dict[tuple[bool, bool], LiteralString] = {
    (True, False): "m.turn_number ASC",
    (True, True): "m.turn_number DESC",
    (False, False): "m.created_at ASC, m.id ASC",
    (False, True): "m.created_at DESC, m.id DESC",
}


@dataclass(frozen=True, slots=True)
class Appended:
    """What an append stored (records in input order) and, with an extraction job,
    the newest extraction-ledger position among its turns (else 0)."""

    records: list[MessageRecord]
    ledger_seq: int = 0


@dataclass(frozen=True, slots=True)
class SessionRef:
    """One session of one user: what every append and window is bound to."""

    tenant_id: str
    user_id: str
    session_id: str

    @property
    def params(self) -> dict[str, str]:
        return {"tenant": self.tenant_id, "user": self.user_id, "session": self.session_id}


@dataclass(frozen=True, slots=True)
class Keyset:
    """Where a page starts: after a turn (in one session) or after (created_at, id)."""

    turn: int | None = None
    created_at: datetime | None = None
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Unembedded:
    """A turn stored without a vector: its search text and the previous turn's, if any."""

    id: str
    content: str
    previous: str | None


class MessageStore:
    """SQL on ``messages``; one method, one statement (appends: one transaction)."""

    def __init__(self, db: Database, *, ts_config: str) -> None:
        self._db = db
        self._ts_config = ts_config

    async def append(
        self,
        session: SessionRef,
        messages: Sequence[NewMessage],
        *,
        model: str | None,
        extraction: JobRequest | None = None,
    ) -> Appended:
        """Store ``messages`` at the end of ``session``, all or none, in input order.

        A message whose idempotency key the session already holds is not stored
        again: its stored record is returned (``Conflict`` if it differs in role
        or content). Missing turn numbers continue the session's numbering; a
        given turn number already taken raises ``Conflict``. With ``extraction``
        the turns are registered pending in the extraction ledger and the job is
        deferred, committed with the turns or not at all. One round trip.
        """
        params = {
            **session.params,
            "ts_config": self._ts_config,
            "model": model,
            **_columns_of(messages),
            **job_params(extraction),
        }
        rows = await self._db.fetch(_q("append_turns"), params, tenant_id=session.tenant_id)
        await self._db.statistics.wrote("messages", len(rows))
        records = [record_from_row(row) for row in rows]
        return Appended(records, max((row["ledger_seq"] or 0 for row in rows), default=0))

    async def keyed(self, session: SessionRef, keys: Sequence[str]) -> dict[str, MessageRecord]:
        """Stored messages of ``session`` holding these idempotency keys, by key."""
        if not keys:
            return {}
        params = {**session.params, "keys": list(keys)}
        rows = await self._db.fetch(
            _formatted("keyed_messages"), params, tenant_id=session.tenant_id
        )
        return {row["idempotency_key"]: record_from_row(row) for row in rows}

    async def tool_calls(
        self, session: SessionRef, ids: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """The tool calls of ``session`` with these ids, by id (for results that answer them)."""
        if not ids:
            return {}
        params = {**session.params, "ids": list(ids)}
        rows = await self._db.fetch(_q("tool_calls_by_id"), params, tenant_id=session.tenant_id)
        return {row["call"]["id"]: row["call"] for row in rows}

    async def last_message(self, session: SessionRef) -> MessageRecord | None:
        rows = await self._db.fetch(
            _formatted("last_message"), session.params, tenant_id=session.tenant_id
        )
        return record_from_row(rows[0]) if rows else None

    async def recent_by_turns(
        self, session: SessionRef, limit: int, *, after_turn: int = 0
    ) -> list[MessageRecord]:
        """The last ``limit`` turns numbered above ``after_turn``, oldest first."""
        params = {**session.params, "limit": limit, "after_turn": after_turn}
        return await self._oldest_first("recent_by_turns", session, params)

    async def recent_by_tokens(
        self, session: SessionRef, budget: int, *, cap: int
    ) -> list[MessageRecord]:
        """The newest turns whose tokens fit ``budget`` (always the newest), oldest first."""
        params = {**session.params, "budget": budget, "cap": cap}
        return await self._oldest_first("recent_by_tokens", session, params)

    async def recent_since(
        self, session: SessionRef, since: datetime, *, cap: int
    ) -> list[MessageRecord]:
        """Turns created at or after ``since`` (the newest ``cap``), oldest first."""
        params = {**session.params, "since": since, "cap": cap}
        return await self._oldest_first("recent_since", session, params)

    async def turn_range(
        self, session: SessionRef, after_turn: int, through_turn: int, *, limit: int
    ) -> list[MessageRecord]:
        """Turns numbered in (``after_turn``, ``through_turn``], oldest first, at most ``limit``."""
        params = {
            **session.params,
            "after_turn": after_turn,
            "through_turn": through_turn,
            "limit": limit,
        }
        rows = await self._db.fetch(_formatted("turn_range"), params, tenant_id=session.tenant_id)
        return [record_from_row(row) for row in rows]

    async def page(
        self,
        where: Fragment,
        *,
        by_turn: bool,
        newest_first: bool,
        limit: int,
        after: Keyset | None = None,
    ) -> list[MessageRecord]:
        """Up to ``limit`` turns in ``where``, ordered by turn (one session) or by time."""
        where = _after(where, after, by_turn=by_turn, newest_first=newest_first)
        statement = query("messages", "list_messages").format(
            columns=MESSAGE_TABLE.column_list,
            where=where.sql,
            order_by=sql.SQL(_ORDERS[(by_turn, newest_first)]),
        )
        params = {**where.params, "limit": limit}
        rows = await self._db.fetch(statement, params, tenant_id=where.params["tenant"])
        return [record_from_row(row) for row in rows]

    async def stats(self, where: Fragment) -> tuple[dict[str, Any], dict[str, int]]:
        """Aggregates of the turns in ``where``, and their count per role."""
        tenant = where.params["tenant"]
        totals = await self._db.fetch(_formatted("stats", where), where.params, tenant_id=tenant)
        roles = await self._db.fetch(
            _formatted("role_counts", where), where.params, tenant_id=tenant
        )
        return totals[0], {row["role"]: int(row["n"]) for row in roles}

    async def session_owners(self, tenant_id: str, session_id: str) -> list[str]:
        """Up to two users holding turns in a session of this id."""
        params = {"tenant": tenant_id, "session": session_id}
        rows = await self._db.fetch(
            query("messages", "session_owners"), params, tenant_id=tenant_id
        )
        return [row["user_id"] for row in rows]

    async def delete(self, scope: Scope, message_id: str) -> str | None:
        """Delete one message of the user; the session it was in, or ``None`` if absent."""
        params = {"tenant": scope.tenant_id, "user": scope.user_id, "id": message_id}
        rows = await self._db.fetch(
            query("messages", "delete_message"), params, tenant_id=scope.tenant_id
        )
        return str(rows[0]["session_id"]) if rows else None

    async def delete_session(self, session: SessionRef) -> int:
        """Delete every turn of a session; how many there were."""
        return await self._db.execute(
            query("messages", "delete_session"), session.params, tenant_id=session.tenant_id
        )

    async def unembedded(self, tenant_id: str, user_id: str, *, limit: int) -> list[Unembedded]:
        """The user's oldest turns stored without a vector, with the turn before each."""
        params = {"tenant": tenant_id, "user": user_id, "limit": limit}
        rows = await self._db.fetch(_q("unembedded_messages"), params, tenant_id=tenant_id)
        return [Unembedded(str(r["id"]), r["content"], r["previous"]) for r in rows]

    async def set_embeddings(
        self, tenant_id: str, user_id: str, ids: Sequence[str], vectors: Any, *, model: str
    ) -> int:
        """Store vectors for turns that still have none; how many were stored."""
        params = {
            "tenant": tenant_id,
            "user": user_id,
            "ids": list(ids),
            "embeddings": list(vectors),
            "model": model,
        }
        return await self._db.execute(_q("set_message_embeddings"), params, tenant_id=tenant_id)

    async def _oldest_first(
        self, name: str, session: SessionRef, params: dict[str, Any]
    ) -> list[MessageRecord]:
        rows = await self._db.fetch(_formatted(name), params, tenant_id=session.tenant_id)
        return [record_from_row(row) for row in reversed(rows)]


def record_from_row(row: dict[str, Any]) -> MessageRecord:
    """A ``MessageRecord`` from a row holding ``RECORD_COLUMNS``."""
    values = {name: row[name] for name in RECORD_COLUMNS}
    values["id"] = str(values["id"])
    values["content"] = values.pop("body")
    return MessageRecord(**values)


#: Messages as the shared hybrid search sees them: neighbours are the turns
#: before and after in the same session.
MESSAGE_TABLE = SearchableTable(
    name="messages",
    columns=RECORD_COLUMNS,
    record=record_from_row,
    neighbour_group=("session_id",),
    neighbour_order=("turn_number",),
)


def _after(where: Fragment, after: Keyset | None, *, by_turn: bool, newest_first: bool) -> Fragment:
    if after is None:
        return where
    if by_turn:
        condition: LiteralString = (
            "m.turn_number < %(after_turn)s" if newest_first else "m.turn_number > %(after_turn)s"
        )
        return where.and_(condition, after_turn=after.turn)
    condition = (
        "(m.created_at, m.id) < (%(after_at)s, %(after_id)s::uuid)"
        if newest_first
        else "(m.created_at, m.id) > (%(after_at)s, %(after_id)s::uuid)"
    )
    return where.and_(condition, after_at=after.created_at, after_id=after.id)


def _q(name: str) -> sql.SQL:
    return query("messages", name)


def _formatted(name: str, where: Fragment | None = None) -> sql.Composed:
    where_sql = where.sql if where is not None else sql.SQL("true")
    return _q(name).format(columns=MESSAGE_TABLE.column_list, where=where_sql)


def _columns_of(messages: Sequence[NewMessage]) -> dict[str, list[Any]]:
    return {
        "ids": [m.id for m in messages],
        "agent_ids": [m.agent_id for m in messages],
        "turns": [m.turn_number for m in messages],
        "roles": [m.role for m in messages],
        "names": [m.name for m in messages],
        "bodies": [m.content for m in messages],
        "contents": [m.search_text for m in messages],
        "tool_calls": [_jsonb(m.tool_calls) for m in messages],
        "tool_results": [_jsonb(m.tool_results) for m in messages],
        "keys": [m.idempotency_key for m in messages],
        "token_counts": [m.token_count for m in messages],
        "embeddings": [m.embedding for m in messages],
        "metadatas": [Jsonb(m.metadata) for m in messages],
        "created_ats": [m.created_at for m in messages],
        "sources": [_jsonb(m.source) for m in messages],
    }


def _jsonb(value: Any) -> Jsonb | None:
    return Jsonb(value) if value is not None else None
