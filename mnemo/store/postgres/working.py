"""The ``working_items`` table: scratch items with capacity eviction, and reasoning chains.

A write of a namespace runs in one transaction holding an advisory lock on that
namespace: reads recorded since the last write are applied, expired rows are
purged, the item is written and the excess over capacity is evicted — so a
namespace never holds more than its capacity, even with concurrent writers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncCursor, sql
from psycopg.rows import dict_row

from mnemo.core.ids import new_id
from mnemo.core.records import Scope
from mnemo.core.values import EncodedValue
from mnemo.core.working import ChainStep, EvictionPolicy, WorkingItem, WorkingNamespaceStats
from mnemo.store.postgres.database import Connection, Database
from mnemo.store.postgres.namespaces import delete_expired, namespace_params, namespace_stats_rows
from mnemo.store.postgres.queries import query

#: First key of the advisory locks taken on namespaces ("wm").
LOCK_CLASS = 0x776D

Row = dict[str, Any]

_EVICTION_ORDER = {
    "importance": "importance, last_accessed_at, created_at, id",
    "lru": "last_accessed_at, created_at, id",
    "fifo": "created_at, id",
}


@dataclass(frozen=True, slots=True)
class Touch:
    """Reads of one item recorded in this process: how many, and the latest."""

    scope: Scope
    namespace: str
    key: str
    hits: int
    at: datetime


@dataclass(frozen=True, slots=True)
class NewItem:
    """An item to write, checked and encoded (working values are never compressed)."""

    key: str
    value: EncodedValue
    importance: float
    ttl: float | None


@dataclass(frozen=True, slots=True)
class NewStep:
    """A reasoning step to append, checked and encoded."""

    step: str
    result: EncodedValue
    metadata: EncodedValue
    importance: float
    ttl: float | None


class WorkingStore:
    """SQL on ``working_items``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def put(
        self,
        scope: Scope,
        namespace: str,
        item: NewItem,
        *,
        capacity: int,
        policy: EvictionPolicy,
        touches: Sequence[Touch],
    ) -> tuple[WorkingItem, list[str]]:
        """Write ``item``, then evict by ``policy`` down to ``capacity``; the item and
        the evicted keys. ``touches`` (recorded reads) are applied first."""
        params = {**namespace_params(scope, namespace), "key": item.key}
        async with self._db.transaction(scope.tenant_id) as conn, _cursor(conn) as cur:
            await _lock_and_purge(cur, params)
            await _apply_touches(cur, scope.tenant_id, touches)
            await cur.execute(query("working", "upsert_item"), _item_params(params, item))
            row = await cur.fetchone()
            assert row is not None  # an upsert always returns its row
            evict = query("working", "evict_items").format(order=sql.SQL(_EVICTION_ORDER[policy]))
            await cur.execute(evict, {**params, "keep": row["id"], "capacity": capacity})
            evicted = [r["key"] for r in await cur.fetchall()]
        return item_from_row(row), sorted(evicted)

    async def get(self, scope: Scope, namespace: str, key: str) -> WorkingItem | None:
        params = {**namespace_params(scope, namespace), "key": key}
        rows = await self._db.fetch(query("working", "get_item"), params, tenant_id=scope.tenant_id)
        return item_from_row(rows[0]) if rows else None

    async def list_items(self, scope: Scope, namespace: str, *, limit: int) -> list[WorkingItem]:
        """Live items, most important first (then most recently used)."""
        params = {**namespace_params(scope, namespace), "limit": limit}
        rows = await self._db.fetch(
            query("working", "list_items"), params, tenant_id=scope.tenant_id
        )
        return [item_from_row(row) for row in rows]

    async def remove(self, scope: Scope, namespace: str, key: str) -> bool:
        """Delete an item; whether a live one was there."""
        params = {**namespace_params(scope, namespace), "key": key}
        rows = await self._db.fetch(
            query("working", "remove_item"), params, tenant_id=scope.tenant_id
        )
        return bool(rows[0]["live"])

    async def append_step(
        self, scope: Scope, namespace: str, step: NewStep, *, max_steps: int
    ) -> ChainStep:
        """Append a step after the chain's last one; keep only the latest ``max_steps``."""
        params = namespace_params(scope, namespace)
        async with self._db.transaction(scope.tenant_id) as conn, _cursor(conn) as cur:
            await _lock_and_purge(cur, params)
            await cur.execute(query("working", "append_step"), _step_params(params, step))
            row = await cur.fetchone()
            assert row is not None  # the insert always returns its row
            trim = {**params, "last": row["position"], "max_steps": max_steps}
            await cur.execute(query("working", "trim_chain"), trim)
        return step_from_row(row)

    async def chain(self, scope: Scope, namespace: str) -> list[ChainStep]:
        """Live steps in order."""
        params = namespace_params(scope, namespace)
        rows = await self._db.fetch(
            query("working", "get_chain"), params, tenant_id=scope.tenant_id
        )
        return [step_from_row(row) for row in rows]

    async def clear(self, scope: Scope, namespace: str, kind: str | None) -> dict[str, int]:
        """Delete a namespace's items and steps (or one ``kind``); live ones counted."""
        params = {**namespace_params(scope, namespace), "kind": kind}
        rows = await self._db.fetch(
            query("working", "clear_namespace"), params, tenant_id=scope.tenant_id
        )
        return {"items": int(rows[0]["items"]), "steps": int(rows[0]["steps"])}

    async def apply_touches(self, tenant_id: str, touches: Sequence[Touch]) -> None:
        """Record reads (access counts and times) made since the last write."""
        if touches:
            async with self._db.transaction(tenant_id) as conn, _cursor(conn) as cur:
                await _apply_touches(cur, tenant_id, touches)

    async def namespace_stats(
        self, scope: Scope, namespace: str | None
    ) -> list[WorkingNamespaceStats]:
        """Statistics per namespace of the scope's user; an agent or session of ``scope``
        narrows them (``None`` counts every agent / session)."""
        rows = await namespace_stats_rows(self._db, "working", scope, namespace)
        return [WorkingNamespaceStats(**row) for row in rows]

    async def cleanup_expired(self, tenant_id: str, *, batch: int = 5_000) -> int:
        """Delete a tenant's expired items and steps in batches; the number deleted."""
        return await delete_expired(self._db, "working", tenant_id, batch=batch)


def _cursor(conn: Connection) -> AsyncCursor[Row]:
    return conn.cursor(row_factory=dict_row)


async def _lock_and_purge(cur: AsyncCursor[Row], params: dict[str, Any]) -> None:
    keys = ("tenant", "user", "agent", "session", "namespace")
    lock = "\x1f".join(str(params[k]) for k in keys)
    await cur.execute(query("working", "lock_namespace"), {"lock_class": LOCK_CLASS, "lock": lock})
    await cur.execute(query("working", "purge_expired_namespace"), params)


async def _apply_touches(cur: AsyncCursor[Row], tenant_id: str, touches: Sequence[Touch]) -> None:
    if not touches:
        return
    params = {
        "tenant": tenant_id,
        "users": [t.scope.user_id for t in touches],
        "agents": [t.scope.agent_id or "" for t in touches],
        "sessions": [t.scope.session_id or "" for t in touches],
        "namespaces": [t.namespace for t in touches],
        "keys": [t.key for t in touches],
        "hits": [t.hits for t in touches],
        "ats": [t.at for t in touches],
    }
    await cur.execute(query("working", "touch_items"), params)


def _item_params(params: dict[str, Any], item: NewItem) -> dict[str, Any]:
    return {
        **params,
        "id": new_id(),
        "value": item.value.json_text,
        "importance": item.importance,
        "size": item.value.size,
        "ttl": item.ttl,
    }


def _step_params(params: dict[str, Any], step: NewStep) -> dict[str, Any]:
    return {
        **params,
        "id": new_id(),
        "step": step.step,
        "value": step.result.json_text,
        "metadata": step.metadata.json_text,
        "importance": step.importance,
        "size": step.result.size + len(step.step.encode()),
        "ttl": step.ttl,
    }


def item_from_row(row: Row) -> WorkingItem:
    return WorkingItem(
        namespace=row["namespace"],
        key=row["key"],
        value=row["value"],
        importance=row["importance"],
        user_id=row["user_id"],
        agent_id=row["agent_id"] or None,
        session_id=row["session_id"] or None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_accessed_at=row["last_accessed_at"],
        expires_at=row["expires_at"],
        size_bytes=row["size_bytes"],
    )


def step_from_row(row: Row) -> ChainStep:
    return ChainStep(
        namespace=row["namespace"],
        position=row["position"],
        step=row["step"],
        result=row["value"],
        importance=row["importance"],
        metadata=row["metadata"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
    )
