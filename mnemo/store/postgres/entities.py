"""The entity tables: resolve names, write merged entities, aliases, mentions, relations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from mnemo.core.records import Scope
from mnemo.store.postgres.database import Connection, Database
from mnemo.store.postgres.queries import query

ENTITY_COLUMNS = (
    "id",
    "user_id",
    "name",
    "canonical_name",
    "type",
    "description",
    "mention_count",
    "first_seen_at",
    "last_seen_at",
    "metadata",
    "created_at",
    "updated_at",
    "embedding_model",
    "content",
)
#: The entity ``e`` of the user ``%(user)s`` with its aliases. The aliases' sub-query names
#: the user itself (not ``e.user_id``): Citus then keeps it on the user's shard.
_COLUMNS = sql.SQL(", ").join(
    [
        *(sql.SQL("e.{}").format(sql.Identifier(c)) for c in ENTITY_COLUMNS),
        sql.SQL(
            "ARRAY(SELECT a.alias FROM entity_aliases a WHERE a.tenant_id = %(tenant)s"
            " AND a.user_id = %(user)s AND a.entity_id = e.id"
            " ORDER BY a.created_at, a.alias) AS aliases"
        ),
    ]
)


@dataclass(frozen=True, slots=True)
class EntityWrite:
    """The full new state of one entity (new or merged), ready to store."""

    id: str
    name: str
    canonical_name: str
    type: str
    description: str
    importance: float
    mention_count: int
    first_seen_at: datetime
    last_seen_at: datetime
    content: str


@dataclass(frozen=True, slots=True)
class MentionWrite:
    entity_id: str
    count: int
    first_seen_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True, slots=True)
class RelationWrite:
    id: str
    subject_id: str
    predicate: str
    object_id: str
    confidence: float
    evidence: list[str]
    source_message_ids: list[str]
    seen_at: datetime
    count: int = 1


@dataclass(frozen=True, slots=True)
class EntityChanges:
    """Everything one observation writes, in one transaction."""

    entities: Sequence[EntityWrite]
    aliases: Sequence[tuple[str, str, str]]  # (alias_key, alias, entity_id)
    mentions: Sequence[MentionWrite]
    relations: Sequence[RelationWrite]


class EntityStore:
    """SQL on ``entities``, ``entity_aliases``, ``entity_mentions``, ``entity_relations``."""

    def __init__(self, db: Database, *, ts_config: str) -> None:
        self._db = db
        self._ts_config = ts_config

    async def resolve(self, scope: Scope, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored entity (a row of ``ENTITY_COLUMNS`` + aliases) each key names."""
        if not keys:
            return {}
        rows = await self._db.fetch(
            _formatted("resolve_keys"),
            {**_who(scope), "keys": list(keys)},
            tenant_id=scope.tenant_id,
        )
        return {row.pop("key"): row for row in rows}

    async def known_surfaces(self, scope: Scope, limit: int) -> list[dict[str, Any]]:
        """(surface, name, type) of the user's entity names and aliases."""
        return await self._db.fetch(
            query("entities", "known_surfaces"),
            {**_who(scope), "limit": limit},
            tenant_id=scope.tenant_id,
        )

    async def write(
        self, scope: Scope, changes: EntityChanges, expected: dict[str, Any]
    ) -> list[dict[str, Any]] | None:
        """Write ``changes`` atomically if the user's entities named by the keys of
        ``expected`` are still as read (key → (id, updated_at) or ``None``); else
        write nothing and return ``None``. Returns (id, content, content_hash) rows."""
        async with self._db.transaction(scope.tenant_id) as conn:
            await conn.execute(query("entities", "lock_user"), _who(scope))
            current = await _resolve_on(conn, scope, list(expected))
            if {k: _version(current.get(k)) for k in expected} != expected:
                return None
            written = await _upsert_entities(conn, scope, changes.entities, self._ts_config)
            await _insert_aliases(conn, scope, changes.aliases)
            await _upsert_mentions(conn, scope, changes.mentions)
            await _upsert_relations(conn, scope, changes.relations)
            return written

    async def set_embeddings(
        self, scope: Scope, rows: Sequence[tuple[str, bytes]], vectors: Any, model: str
    ) -> None:
        """Store vectors for (id, content_hash) rows whose text has not changed since."""
        params = {
            **_who(scope),
            "ids": [r[0] for r in rows],
            "hashes": [r[1] for r in rows],
            "embeddings": list(vectors),
            "model": model,
        }
        await self._db.execute(
            query("entities", "set_embeddings"), params, tenant_id=scope.tenant_id
        )

    async def list_page(
        self,
        scope: Scope,
        *,
        types: Sequence[str] | None,
        limit: int,
        offset: int = 0,
        half_life_days: float = 30.0,
    ) -> list[dict[str, Any]]:
        """Entities, most important first, narrowed by the scope's agent / session."""
        params = {
            **_who(scope),
            "agent": scope.agent_id,
            "session": scope.session_id,
            "types": list(types) if types else None,
            "limit": limit,
            "offset": offset,
            "half_life_days": half_life_days,
        }
        return await self._db.fetch(_formatted("list_entities"), params, tenant_id=scope.tenant_id)

    async def by_ids(self, scope: Scope, ids: Sequence[str]) -> list[dict[str, Any]]:
        return await entity_rows_by_ids(self._db, scope, ids)

    async def relations_of(
        self, scope: Scope, ids: Sequence[str], *, predicate: str | None, limit: int
    ) -> list[dict[str, Any]]:
        params = {**_who(scope), "ids": list(ids), "predicate": predicate, "limit": limit}
        return await self._db.fetch(
            query("entities", "relations_of"), params, tenant_id=scope.tenant_id
        )

    async def add_alias(self, scope: Scope, alias_key: str, alias: str, entity_id: str) -> str:
        """Point ``alias_key`` at the entity; the id it names afterwards (another one
        if the alias was already taken)."""
        params = {**_who(scope), "alias_key": alias_key, "alias": alias, "entity_id": entity_id}
        rows = await self._db.fetch(
            query("entities", "add_alias"), params, tenant_id=scope.tenant_id
        )
        return str(rows[0]["entity_id"])

    async def delete(self, scope: Scope, entity_id: str) -> bool:
        rows = await self._db.fetch(
            query("entities", "delete_entity"),
            {**_who(scope), "id": entity_id},
            tenant_id=scope.tenant_id,
        )
        return bool(rows)

    async def analytics(self, scope: Scope, *, top: int) -> dict[str, Any]:
        """Totals, counts by type and predicate, top and recent entities (raw rows)."""
        who = _who(scope)
        fetch = self._db.fetch
        totals = (await fetch(query("entities", "analytics_totals"), who, tenant_id=who["tenant"]))[
            0
        ]
        by_type = await fetch(query("entities", "analytics_by_type"), who, tenant_id=who["tenant"])
        by_predicate = await fetch(
            query("entities", "analytics_by_predicate"), who, tenant_id=who["tenant"]
        )
        limited = {**who, "limit": top}
        top_rows = await fetch(_formatted("top_by_mentions"), limited, tenant_id=who["tenant"])
        recent = await fetch(_formatted("recent_entities"), limited, tenant_id=who["tenant"])
        return {
            **totals,
            "by_type": {r["key"]: int(r["n"]) for r in by_type},
            "by_predicate": {r["key"]: int(r["n"]) for r in by_predicate},
            "top": top_rows,
            "recent": recent,
        }


async def entity_rows_by_ids(
    db: Database, scope: Scope, ids: Sequence[str]
) -> list[dict[str, Any]]:
    """Rows (``ENTITY_COLUMNS`` + aliases) of the user's entities with these ids."""
    params = {**_who(scope), "ids": list(ids)}
    return await db.fetch(_formatted("entities_by_ids"), params, tenant_id=scope.tenant_id)


def _who(scope: Scope) -> dict[str, Any]:
    return {"tenant": scope.tenant_id, "user": scope.user_id}


def _formatted(name: str) -> sql.Composed:
    return query("entities", name).format(columns=_COLUMNS)


def _version(row: dict[str, Any] | None) -> tuple[str, datetime] | None:
    return None if row is None else (str(row["id"]), row["updated_at"])


def entity_versions(resolved: dict[str, dict[str, Any]], keys: Sequence[str]) -> dict[str, Any]:
    """key → (id, updated_at) of the entity it names, or ``None``: what ``write`` checks."""
    return {key: _version(resolved.get(key)) for key in keys}


async def _resolve_on(conn: Connection, scope: Scope, keys: list[str]) -> dict[str, Any]:
    if not keys:
        return {}
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_formatted("resolve_keys"), {**_who(scope), "keys": keys})
        return {row.pop("key"): row for row in await cur.fetchall()}


async def _upsert_entities(
    conn: Connection, scope: Scope, entities: Sequence[EntityWrite], ts_config: str
) -> list[dict[str, Any]]:
    if not entities:
        return []
    params = {
        **_who(scope),
        "ts_config": ts_config,
        "ids": [e.id for e in entities],
        "names": [e.name for e in entities],
        "keys": [e.canonical_name for e in entities],
        "types": [e.type for e in entities],
        "descriptions": [e.description for e in entities],
        "importances": [e.importance for e in entities],
        "mentions": [e.mention_count for e in entities],
        "first_seen": [e.first_seen_at for e in entities],
        "last_seen": [e.last_seen_at for e in entities],
        "contents": [e.content for e in entities],
    }
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query("entities", "upsert_entities"), params)
        return await cur.fetchall()


async def _insert_aliases(
    conn: Connection, scope: Scope, aliases: Sequence[tuple[str, str, str]]
) -> None:
    if aliases:
        params = {
            **_who(scope),
            "alias_keys": [a[0] for a in aliases],
            "aliases": [a[1] for a in aliases],
            "entity_ids": [a[2] for a in aliases],
        }
        await conn.execute(query("entities", "insert_aliases"), params)


async def _upsert_mentions(
    conn: Connection, scope: Scope, mentions: Sequence[MentionWrite]
) -> None:
    if mentions:
        params = {
            **_who(scope),
            "agent": scope.agent_id or "",
            "session": scope.session_id or "",
            "entity_ids": [m.entity_id for m in mentions],
            "counts": [m.count for m in mentions],
            "first_seen": [m.first_seen_at for m in mentions],
            "last_seen": [m.last_seen_at for m in mentions],
        }
        await conn.execute(query("entities", "upsert_mentions"), params)


async def _upsert_relations(
    conn: Connection, scope: Scope, relations: Sequence[RelationWrite]
) -> None:
    if relations:
        params = {
            **_who(scope),
            "ids": [r.id for r in relations],
            "subject_ids": [r.subject_id for r in relations],
            "predicates": [r.predicate for r in relations],
            "object_ids": [r.object_id for r in relations],
            "confidences": [r.confidence for r in relations],
            "counts": [r.count for r in relations],
            "evidence": [Jsonb(r.evidence) for r in relations],
            "sources": [Jsonb(r.source_message_ids) for r in relations],
            "seen_at": [r.seen_at for r in relations],
        }
        await conn.execute(query("entities", "upsert_relations"), params)
