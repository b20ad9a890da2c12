"""A user's data as a whole: statistics, a portable export, and importing one.

An export is JSON Lines: a header ``{"type": "export", "version": 1, ...}``, then
one ``{"type": "row", "table": ..., "data": {...}}`` per stored row of every
user-scoped table (vectors and other derived columns left out). An import reads
the same lines: current memories are stored again (re-embedded, with new ids, their
history starting afresh), conversation turns session by session (re-embedded, same
turn numbers, new ids), and key-value entries and settings with their current
value (their history starts afresh; an expired one is skipped), and records
(the Memorizz-style collections) with their ids and vectors. Rows of other
tables (working memory, entities, documents, summaries, histories) are counted
as skipped.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from mnemo.core.message_checks import MESSAGE_FIELDS
from mnemo.core.record_documents import TYPED_KEYS
from mnemo.core.records import Scope
from mnemo.core.validation import require_timestamp
from mnemo.core.values import decode_value, require_key, require_name
from mnemo.errors import InvalidInput
from mnemo.kinds.kv import KeyValueService
from mnemo.kinds.memories import MemoryService
from mnemo.kinds.messages import MessageService
from mnemo.kinds.records import RecordService
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


@dataclass(frozen=True, slots=True)
class _ImportedKey:
    namespace: str
    key: str
    agent_id: str | None
    session_id: str | None
    value: Any
    ttl_seconds: float | None

    def address(self) -> dict[str, Any]:
        return {"agent_id": self.agent_id, "session_id": self.session_id}


class UserDataService:
    """Statistics, export and import of one user's data."""

    def __init__(
        self,
        store: UserDataStore,
        memories: MemoryService,
        messages: MessageService,
        kv_for_tenant: Callable[[str], KeyValueService],
        records: RecordService,
        *,
        max_batch: int,
    ) -> None:
        self._store = store
        self._memories = memories
        self._messages = messages
        self._kv_for_tenant = kv_for_tenant
        self._records = records
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

        Every line is checked before anything is stored: a malformed line, turn or
        entry, a session that already holds turns, or a key that is already set
        raises ``InvalidInput`` and nothing is imported.
        """
        items, sessions, keys, records, skipped = self._sorted_rows(lines)
        for memory_type, document in records:
            self._records.check(memory_type, document)
        kv = self._kv_for_tenant(scope.tenant_id)
        for session_id, turns in sessions.items():
            session = replace(scope, session_id=session_id)
            self._messages.prepare(session, turns)
            if await self._messages.list(session, limit=1):
                raise InvalidInput(f"session {session_id!r} already holds turns of this user")
        for entry in keys:
            if await kv.entry(entry.namespace, entry.key, user_id=scope.user_id, **entry.address()):
                raise InvalidInput(f"key {entry.namespace}/{entry.key} is already set")
        ids = await self._memories.add_many(scope, items) if items else []
        stored = 0
        for session_id, turns in sessions.items():
            stored += len(await self._messages.add(replace(scope, session_id=session_id), turns))
        for entry in keys:
            await kv.set(
                entry.namespace, entry.key, entry.value, user_id=scope.user_id,
                ttl_seconds=entry.ttl_seconds, actor="import", reason="imported",
                **entry.address(),
            )  # fmt: skip
        for memory_type, document in records:
            await self._records.put(scope, memory_type, document)
        imported = {
            "memories": len(ids), "messages": stored, "kv_entries": len(keys),
            "records": len(records),
        }  # fmt: skip
        return {
            "imported": {table: n for table, n in imported.items() if n or table == "memories"},
            "skipped": dict(skipped),
        }

    def _sorted_rows(
        self, lines: Iterable[Mapping[str, Any]]
    ) -> tuple[
        list[dict[str, Any]],
        dict[str, list[dict[str, Any]]],
        list[_ImportedKey],
        list[tuple[str, dict[str, Any]]],
        Counter[str],
    ]:
        """Current memories, turns by session in turn order, live key-value entries,
        records, and skipped rows by table."""
        items: list[dict[str, Any]] = []
        sessions: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        keys: list[_ImportedKey] = []
        records: list[tuple[str, dict[str, Any]]] = []
        skipped: Counter[str] = Counter()
        for number, line in enumerate(lines, start=1):
            table, data = _row_of(line, number)
            if table is None:
                continue
            if table == "memories" and data.get("status", "active") == "active":
                items.append(_picked(data, IMPORTED_MEMORY_FIELDS))
            elif table == "messages":
                sessions[_session_of(data, number)].append(_turn_of(data))
            elif table == "kv_entries" and (entry := _key_of(data, number)) is not None:
                keys.append(entry)
            elif table == "records":
                records.append(_record_of(data, number))
            else:
                skipped[table] += 1
        turns = sum(len(t) for t in sessions.values())
        if max(len(items), turns, len(keys), len(records)) > self._max_batch:
            raise InvalidInput(
                f"at most {self._max_batch} memories, turns, keys and records each per "
                f"import, got {len(items)}, {turns}, {len(keys)} and {len(records)}"
            )
        for turns_of_session in sessions.values():
            turns_of_session.sort(key=lambda turn: turn.get("turn_number") or 0)
        return items, dict(sessions), keys, records, skipped


def _picked(data: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {k: data[k] for k in names if data.get(k) is not None}


def _session_of(data: Mapping[str, Any], number: int) -> str:
    session = data.get("session_id")
    if not isinstance(session, str) or not session:
        raise InvalidInput(f"line {number}: a messages row needs its session_id")
    return session


def _key_of(data: Mapping[str, Any], number: int) -> _ImportedKey | None:
    """A key-value row as it will be set again; ``None`` when it has expired."""
    ttl = _ttl_left(data.get("expires_at"), number)
    if ttl is not None and ttl <= 0:
        return None
    try:
        packed = data.get("value_z")
        raw = bytes.fromhex(packed.removeprefix("\\x")) if isinstance(packed, str) else None
        value = decode_value(data.get("value"), raw)
    except (ValueError, zlib.error) as exc:
        raise InvalidInput(f"line {number}: unreadable key-value value ({exc})") from None
    return _ImportedKey(
        namespace=require_name(data.get("namespace")),
        key=require_key(data.get("key")),
        agent_id=data.get("agent_id") or None,
        session_id=data.get("session_id") or None,
        value=value,
        ttl_seconds=ttl,
    )


def _record_of(data: Mapping[str, Any], number: int) -> tuple[str, dict[str, Any]]:
    """A records row as ``RecordService.put`` takes it: collection and document."""
    document = data.get("data")
    memory_type = data.get("memory_type")
    if not isinstance(document, Mapping) or not isinstance(memory_type, str):
        raise InvalidInput(f"line {number}: a records row needs its memory_type and data")
    document = dict(document)
    document.update({k: data[k] for k in TYPED_KEYS if data.get(k) is not None})
    document["id"] = data.get("id")
    vector = data.get("caller_embedding")
    if isinstance(vector, str):
        try:
            vector = json.loads(vector)
        except ValueError:
            raise InvalidInput(f"line {number}: unreadable caller_embedding") from None
    if vector is not None:
        document["embedding"] = vector
    return memory_type, document


def _ttl_left(expires_at: object, number: int) -> float | None:
    when = require_timestamp(expires_at, f"line {number}: expires_at")
    return None if when is None else (when - datetime.now(UTC)).total_seconds()


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
