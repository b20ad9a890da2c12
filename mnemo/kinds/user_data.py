"""A user's data as a whole: statistics, a portable export, and importing one.

An export is JSON Lines: a header ``{"type": "export", "version": 1, ...}``, then
one ``{"type": "row", "table": ..., "data": {...}}`` per stored row of every
user-scoped table (vectors and other derived columns left out). An import reads
the same lines: memories are stored again (re-embedded, with new ids, their
history starting afresh); rows of other tables are counted as skipped until
their kind supports importing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from mnemo.core.records import Scope
from mnemo.errors import InvalidInput
from mnemo.kinds.memories import MemoryService
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


class UserDataService:
    """Statistics, export and import of one user's data."""

    def __init__(self, store: UserDataStore, memories: MemoryService, *, max_batch: int) -> None:
        self._store = store
        self._memories = memories
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

        Every line is checked before anything is stored: a malformed one raises
        ``InvalidInput`` and nothing is imported.
        """
        items, skipped = self._memory_items(lines)
        ids = await self._memories.add_many(scope, items) if items else []
        return {"imported": {"memories": len(ids)}, "skipped": dict(skipped)}

    def _memory_items(
        self, lines: Iterable[Mapping[str, Any]]
    ) -> tuple[list[dict[str, Any]], Counter[str]]:
        items: list[dict[str, Any]] = []
        skipped: Counter[str] = Counter()
        for number, line in enumerate(lines, start=1):
            table, data = _row_of(line, number)
            if table is None:
                continue
            if table == "memories" and data.get("status", "active") == "active":
                items.append(
                    {k: data[k] for k in IMPORTED_MEMORY_FIELDS if data.get(k) is not None}
                )
            else:
                skipped[table] += 1
        if len(items) > self._max_batch:
            raise InvalidInput(f"at most {self._max_batch} memories per import, got {len(items)}")
        return items, skipped


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
