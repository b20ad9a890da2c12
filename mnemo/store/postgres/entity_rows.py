"""Reading entities: rows to records, and entities as a searchable table.

Search runs the shared candidate query (``search.py``) on ``entities``; the
records come back with their aliases and an importance computed as of now.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from psycopg import sql

from mnemo.core.entity_profile import entity_importance
from mnemo.core.entity_records import EntityRecord, EntityRelation
from mnemo.core.records import Scope
from mnemo.store.postgres.database import Database
from mnemo.store.postgres.entities import entity_rows_by_ids
from mnemo.store.postgres.filters import Fragment
from mnemo.store.postgres.search import SearchableTable, SearchStore


def entity_from_row(row: dict[str, Any], *, now: datetime, half_life_days: float) -> EntityRecord:
    """An ``EntityRecord`` from a row of ``ENTITY_COLUMNS`` + aliases; importance as of ``now``."""
    return EntityRecord(
        id=str(row["id"]),
        user_id=row["user_id"],
        name=row["name"],
        type=row["type"],
        description=row["description"],
        aliases=list(row["aliases"]),
        importance=entity_importance(
            row["mention_count"], row["last_seen_at"], now, half_life_days=half_life_days
        ),
        mention_count=row["mention_count"],
        first_seen_at=row["first_seen_at"],
        last_seen_at=row["last_seen_at"],
        metadata=row["metadata"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        embedding_model=row["embedding_model"],
    )


def entity_fragment(scope: Scope, *, types: Sequence[str] | None = None) -> Fragment:
    """The user's entities (alias ``m``), narrowed to types and to those mentioned
    under the scope's agent / in its session."""
    parts: list[sql.Composable] = [sql.SQL("m.tenant_id = %(tenant)s AND m.user_id = %(user)s")]
    params: dict[str, Any] = {"tenant": scope.tenant_id, "user": scope.user_id}
    if types:
        parts.append(sql.SQL("m.type = ANY(%(types)s::text[])"))
        params["types"] = list(types)
    if scope.agent_id is not None or scope.session_id is not None:
        parts.append(
            sql.SQL(
                "EXISTS (SELECT FROM entity_mentions x WHERE x.tenant_id = %(tenant)s"
                " AND x.user_id = %(user)s AND x.entity_id = m.id"
                " AND (%(agent)s::text IS NULL OR x.agent_id = %(agent)s)"
                " AND (%(session)s::text IS NULL OR x.session_id = %(session)s))"
            )
        )
        params.update(agent=scope.agent_id, session=scope.session_id)
    return Fragment(sql.SQL(" AND ").join(parts), params)


#: Entities as a searchable table: importance from the stored column, no neighbours.
ENTITY_TABLE: SearchableTable[Any] = SearchableTable(
    name="entities",
    columns=("id",),
    record=dict,
    signals=sql.SQL("1::real AS confidence, m.importance, 0 AS access_count"),
    neighbour_order=(),
)


class EntitySearchStore(SearchStore):
    """The shared candidate query on ``entities``; records come with their aliases."""

    def __init__(self, db: Database, *, ts_config: str, half_life_days: float) -> None:
        super().__init__(db, ts_config=ts_config)
        self._entity_db = db
        self._half_life_days = half_life_days

    async def records(
        self, table: SearchableTable[Any], scope: Scope, ids: Sequence[str]
    ) -> list[Any]:
        """The ``EntityRecord``s of these ids, in the order asked."""
        if not ids:
            return []
        rows = await entity_rows_by_ids(self._entity_db, scope, ids)
        now = datetime.now(UTC)
        by_id = {
            str(r["id"]): entity_from_row(r, now=now, half_life_days=self._half_life_days)
            for r in rows
        }
        return [by_id[i] for i in ids if i in by_id]


def relation_from_row(row: dict[str, Any]) -> EntityRelation:
    """An ``EntityRelation`` from a row of the ``relations_of`` query."""
    return EntityRelation(
        id=str(row["id"]),
        subject=row["subject"],
        predicate=row["predicate"],
        object=row["object"],
        subject_id=str(row["subject_id"]),
        object_id=str(row["object_id"]),
        confidence=float(row["confidence"]),
        mention_count=int(row["mention_count"]),
        evidence=list(row["evidence"]),
        source_message_ids=[str(s) for s in row["source_message_ids"]],
        first_seen_at=row["first_seen_at"],
        last_seen_at=row["last_seen_at"],
    )
