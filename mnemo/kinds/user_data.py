"""A user's data as a whole: statistics, a portable export, and importing one.

An export is JSON Lines: a header ``{"type": "export", "version": 1, ...}``, then
one ``{"type": "row", "table": ..., "data": {...}}`` per stored row of every
user-scoped table (vectors and other derived columns left out). An import reads
the same lines: current memories are stored again (re-embedded, with new ids, their
history starting afresh) and conversation turns are stored again session by
session (re-embedded, same turn numbers, new ids); rows of other tables are counted
as skipped until their kind supports importing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from mnemo.core.message_checks import MESSAGE_FIELDS
from mnemo.core.records import Scope
from mnemo.errors import InvalidInput
from mnemo.kinds.memories import MemoryService
from mnemo.kinds.messages import MessageService
from mnemo.store.postgres.user_data import UserDataStore

EXPORT_VERSION = 1
IMPORTED_MEMORY_FIELDS = (
    "content",
    "kind",
    "metadata",
    "created_at",
    "confidence",
    "importance",
    "agent_id",
    "session_id",
)
#: A turn's fields as ``add_messages`` takes them; its text comes from the export's ``body``.
IMPORTED_MESSAGE_FIELDS = tuple(sorted(MESSAGE_FIELDS - {"content"}))


class UserDataService:
    """Statistics, export and import of one user's data."""

    def __init__(
        self,
        store: UserDataStore,
        memories: MemoryService,
        messages: MessageService,
        *,
        max_batch: int,
    ) -> None:
        self._store = store
        self._memories = memories
        self._messages = messages
        self._max_batch = max_batch

    async def stats(self, scope: Scope) -> dict[str, Any]:
        """Rows per table and a summary of the user's memories."""
        summary = await self._store.memory_summary(scope.tenant_id, scope.user_id)
        rows = await self._store.row_counts(scope.tenant_id, scope.user_id)
        return {"user_id": scope.user_id, "memories": summary, "rows": rows}

    async def export(self, scope: Scope) -> AsyncIterator[dict[str, Any]]:
        """The export's lines as objects, header first."""
        yield {
            "type": "export",
            "version": EXPORT_VERSION,
            "user_id": scope.user_id,
            "exported_at": datetime.now(UTC).isoformat(),
        }
        async for table, row in self._store.export_rows(scope.tenant_id, scope.user_id):
            yield {"type": "row", "table": table, "data": row}

    async def import_lines(
        self, scope: Scope, lines: Iterable[Mapping[str, Any]]
    ) -> dict[str, dict[str, int]]:
        """Store what an export holds; counts of rows ``imported`` and ``skipped`` by table.

        Every line is checked before anything is stored: a malformed line or turn, or
        a session that already holds turns, raises ``InvalidInput`` and nothing is
        imported.
        """
        items, sessions, skipped = self._sorted_rows(lines)
        for session_id, turns in sessions.items():
            session = replace(scope, session_id=session_id)
            self._messages.prepare(session, turns)
            if await self._messages.list(session, limit=1):
                raise InvalidInput(f"session {session_id!r} already holds turns of this user")
        ids = await self._memories.add_many(scope, items) if items else []
        stored = 0
        for session_id, turns in sessions.items():
            stored += len(await self._messages.add(replace(scope, session_id=session_id), turns))
        imported = {"memories": len(ids), **({"messages": stored} if stored else {})}
        return {"imported": imported, "skipped": dict(skipped)}

    def _sorted_rows(
        self, lines: Iterable[Mapping[str, Any]]
    ) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]], Counter[str]]:
        """Current memories, turns by session in turn order, and skipped rows by table."""
        items: list[dict[str, Any]] = []
        sessions: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        skipped: Counter[str] = Counter()
        for number, line in enumerate(lines, start=1):
            table, data = _row_of(line, number)
            if table is None:
                continue
            if table == "memories" and data.get("status", "active") == "active":
                items.append(_picked(data, IMPORTED_MEMORY_FIELDS))
            elif table == "messages":
                sessions[_session_of(data, number)].append(_turn_of(data))
            else:
                skipped[table] += 1
        turns = sum(len(t) for t in sessions.values())
        if max(len(items), turns) > self._max_batch:
            raise InvalidInput(
                f"at most {self._max_batch} memories and {self._max_batch} turns per import, "
                f"got {len(items)} and {turns}"
            )
        for turns_of_session in sessions.values():
            turns_of_session.sort(key=lambda turn: turn.get("turn_number") or 0)
        return items, dict(sessions), skipped


def _picked(data: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {k: data[k] for k in names if data.get(k) is not None}


def _session_of(data: Mapping[str, Any], number: int) -> str:
    session = data.get("session_id")
    if not isinstance(session, str) or not session:
        raise InvalidInput(f"line {number}: a messages row needs its session_id")
    return session


def _turn_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """A turn as ``add_messages`` takes it; exports keep the text as given in ``body``
    (``content`` there is what search indexes: the text plus the tools used)."""
    return {**_picked(data, IMPORTED_MESSAGE_FIELDS), "content": data.get("body")}


def _row_of(line: Mapping[str, Any], number: int) -> tuple[str | None, Mapping[str, Any]]:
    if not isinstance(line, Mapping):
        raise InvalidInput(f"line {number} must be a JSON object")
    kind = line.get("type")
    if kind == "export":
        if line.get("version") != EXPORT_VERSION:
            raise InvalidInput(f"line {number}: unsupported export version {line.get('version')!r}")
        return None, {}
    table, data = line.get("table"), line.get("data")
    if kind != "row" or not isinstance(table, str) or not isinstance(data, Mapping):
        raise InvalidInput(
            f"line {number} must be an export header or "
            '{"type": "row", "table": <name>, "data": {...}}'
        )
    return table, data
