"""The messages table: append turns to a session, read windows and pages, stats, delete.

A row keeps the turn's text as given in ``body`` (a record's ``content``) and, in
``content``, what search indexes and embeds: that text plus its tool calls and
results, so ``mnemo reembed`` re-embeds what search needs.

There is no update: turns are never rewritten. Appends to one session are
serialised by a transaction-scoped advisory lock, which makes turn numbering
and idempotency keys safe under concurrent writers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from mnemo.core.messages import MessageRecord, NewMessage
from mnemo.core.records import Scope
from mnemo.errors import Conflict
from mnemo.store.postgres.database import Connection, Database
from mnemo.store.postgres.filters import Fragment
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
)
_ORDERS: dict[tuple[bool, bool], LiteralString] = {
    (True, False): "m.turn_number ASC",
    (True, True): "m.turn_number DESC",
    (False, False): "m.created_at ASC, m.id ASC",
    (False, True): "m.created_at DESC, m.id DESC",
}


#: Runs inside ``append``'s transaction with the stored records (see ``append``).
AppendHook = Callable[[Connection, list[MessageRecord]], Awaitable[None]]


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
        in_transaction: AppendHook | None = None,
    ) -> list[MessageRecord]:
        """Store ``messages`` at the end of ``session``, all or none, in input order.

        A message whose idempotency key the session already holds is not stored
        again: its stored record is returned (``Conflict`` if it differs in role
        or content). Missing turn numbers continue the session's numbering; a
        given turn number already taken raises ``Conflict``. ``in_transaction``
        runs with the connection and the records before the transaction commits,
        so what it writes (an extraction job) commits with the turns or not at all.
        """
        async with self._db.transaction(session.tenant_id) as conn:
            await conn.execute(query("messages", "lock_session"), session.params)
            stored = await self._keyed(conn, session, messages)
            fresh = [m for m in messages if m.idempotency_key not in stored]
            numbered = await self._numbered(conn, session, fresh)
            inserted = await self._insert(conn, session, numbered, model)
            by_id = {record.id: record for record in inserted}
            records = [
                stored[m.idempotency_key] if m.idempotency_key in stored else by_id[m.id]
                for m in messages
            ]
            if in_transaction is not None:
                await in_transaction(conn, records)
        return records

    async def keyed(self, session: SessionRef, keys: Sequence[str]) -> dict[str, MessageRecord]:
        """Stored messages of ``session`` holding these idempotency keys, by key."""
        if not keys:
            return {}
        params = {**session.params, "keys": list(keys)}
        rows = await self._db.fetch(
            _formatted("keyed_messages"), params, tenant_id=session.tenant_id
        )
        return {row["idempotency_key"]: record_from_row(row) for row in rows}

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

    async def _keyed(
        self, conn: Connection, session: SessionRef, messages: Sequence[NewMessage]
    ) -> dict[str, MessageRecord]:
        keys = [m.idempotency_key for m in messages if m.idempotency_key is not None]
        if not keys:
            return {}
        params = {**session.params, "keys": keys}
        rows = await _fetch(conn, _formatted("keyed_messages"), params)
        stored = {row["idempotency_key"]: record_from_row(row) for row in rows}
        for message in messages:
            _same_or_conflict(message, stored.get(message.idempotency_key or ""))
        return stored

    async def _numbered(
        self, conn: Connection, session: SessionRef, messages: list[NewMessage]
    ) -> list[tuple[int, NewMessage]]:
        given = [m.turn_number for m in messages if m.turn_number is not None]
        if given:
            params = {**session.params, "turns": given}
            taken = [row["turn_number"] for row in await _fetch(conn, _q("taken_turns"), params)]
            if taken:
                raise Conflict(
                    f"turn numbers {taken} already exist in session {session.session_id!r}"
                )
        rows = await _fetch(conn, _q("last_turn"), session.params)
        return assign_turns(messages, last_turn=int(rows[0]["last_turn"]))

    async def _insert(
        self,
        conn: Connection,
        session: SessionRef,
        numbered: list[tuple[int, NewMessage]],
        model: str | None,
    ) -> list[MessageRecord]:
        if not numbered:
            return []
        params = {
            **session.params,
            "ts_config": self._ts_config,
            "model": model,
            **_columns_of(numbered),
        }
        return [
            record_from_row(row)
            for row in await _fetch(conn, _formatted("insert_messages"), params)
        ]


def assign_turns(messages: Sequence[NewMessage], *, last_turn: int) -> list[tuple[int, NewMessage]]:
    """Each message with its turn number: the one given, else one past the highest so far."""
    highest, used = last_turn, set[int]()
    numbered = []
    for message in messages:
        turn = message.turn_number if message.turn_number is not None else highest + 1
        if turn in used:
            raise Conflict(f"turn number {turn} is given to two messages of this batch")
        highest = max(highest, turn)
        used.add(turn)
        numbered.append((turn, message))
    return numbered


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


def _same_or_conflict(message: NewMessage, stored: MessageRecord | None) -> None:
    if stored is None:
        return
    if (stored.role, stored.content) != (message.role, message.content):
        raise Conflict(
            f"idempotency key {message.idempotency_key!r} was used for a different message "
            f"(turn {stored.turn_number}) in session {stored.session_id!r}"
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


async def _fetch(
    conn: Connection, statement: sql.SQL | sql.Composed, params: Any
) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(statement, params)
        return await cur.fetchall() if cur.description else []


def _q(name: str) -> sql.SQL:
    return query("messages", name)


def _formatted(name: str, where: Fragment | None = None) -> sql.Composed:
    where_sql = where.sql if where is not None else sql.SQL("true")
    return _q(name).format(columns=MESSAGE_TABLE.column_list, where=where_sql)


def _columns_of(numbered: Sequence[tuple[int, NewMessage]]) -> dict[str, list[Any]]:
    messages = [m for _, m in numbered]
    return {
        "ids": [m.id for m in messages],
        "agent_ids": [m.agent_id for m in messages],
        "turns": [turn for turn, _ in numbered],
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
    }


def _jsonb(value: Any) -> Jsonb | None:
    return Jsonb(value) if value is not None else None
