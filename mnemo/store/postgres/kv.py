"""The key-value tables: ``kv_entries`` (current values) and ``kv_history`` (changes).

Every write of a key runs in one transaction that first takes an advisory lock
on the key, so the version check (``expected_version``), the new version number
and the history row always agree, even with concurrent writers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from psycopg import AsyncCursor
from psycopg.rows import dict_row

from mnemo.core.keyvalue import ChangeKind, KVChange, KVEntry, KVNamespaceStats
from mnemo.core.records import Scope
from mnemo.core.values import EncodedValue, decode_value
from mnemo.errors import Conflict, NotFound
from mnemo.store.postgres.database import Connection, Database
from mnemo.store.postgres.namespaces import delete_expired, namespace_params, namespace_stats_rows
from mnemo.store.postgres.queries import query

#: First key of the advisory locks taken on keys ("kv").
LOCK_CLASS = 0x6B76

Row = dict[str, Any]
Encoder = Callable[[Any], EncodedValue]


@dataclass(frozen=True, slots=True)
class KeyRef:
    """The address of one key: scope, namespace, key."""

    scope: Scope
    namespace: str
    key: str

    def params(self) -> dict[str, Any]:
        return {**namespace_params(self.scope, self.namespace), "key": self.key}

    def describe(self) -> str:
        return f"{self.namespace}/{self.key}"


@dataclass(frozen=True, slots=True)
class WriteOptions:
    """How a write is checked and recorded."""

    expected_version: int | None = None
    versioned: bool = False
    actor: str | None = None
    reason: str | None = None
    ttl: float | None = None


class KeyValueStore:
    """SQL on ``kv_entries`` and ``kv_history``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, ref: KeyRef) -> KVEntry | None:
        """The live entry, or ``None`` if absent or expired."""
        rows = await self._db.fetch(query("kv", "get_entry"), ref.params(), tenant_id=_tenant(ref))
        return entry_from_row(rows[0]) if rows else None

    async def list_entries(self, scope: Scope, namespace: str, *, limit: int) -> list[KVEntry]:
        """Live entries of a namespace in key order, at most ``limit``."""
        params = {**namespace_params(scope, namespace), "limit": limit}
        rows = await self._db.fetch(query("kv", "list_entries"), params, tenant_id=scope.tenant_id)
        return [entry_from_row(row) for row in rows]

    async def set(self, ref: KeyRef, value: EncodedValue, options: WriteOptions) -> KVEntry:
        """Store ``value`` as the key's next version (``Conflict`` if the version moved)."""
        async with self._db.transaction(_tenant(ref)) as conn, _cursor(conn) as cur:
            last, options = await _checked_versions(cur, ref, options)
            return await _upsert(cur, ref, value, last + 1, options, "set")

    async def delete(self, ref: KeyRef, options: WriteOptions) -> bool:
        """Remove the key; ``False`` if it was absent or expired."""
        async with self._db.transaction(_tenant(ref)) as conn, _cursor(conn) as cur:
            last, options = await _checked_versions(cur, ref, options)
            return await _delete(cur, ref, last + 1, options, "delete")

    async def rollback(
        self, ref: KeyRef, to_version: int, options: WriteOptions, encode: Encoder
    ) -> KVEntry | None:
        """Make the key hold what version ``to_version`` set (``None``: it deleted the
        key, so the key is deleted again). ``NotFound`` if no such version is kept."""
        async with self._db.transaction(_tenant(ref)) as conn, _cursor(conn) as cur:
            last, options = await _checked_versions(cur, ref, options)
            await cur.execute(
                query("kv", "history_version"), {**ref.params(), "version": to_version}
            )
            target = await cur.fetchone()
            if target is None:
                raise NotFound(f"{ref.describe()} has no recorded version {to_version}")
            if target["new_absent"]:
                await _delete(cur, ref, last + 1, options, "rollback")
                return None
            value = decode_value(target["new_value"], target["new_z"])
            return await _upsert(cur, ref, encode(value), last + 1, options, "rollback")

    async def history(
        self, scope: Scope, namespace: str, key: str | None, *, limit: int
    ) -> list[KVChange]:
        """Recorded changes of ``key`` (every key when ``None``), oldest first."""
        params = {**namespace_params(scope, namespace), "key": key, "limit": limit}
        rows = await self._db.fetch(query("kv", "history"), params, tenant_id=scope.tenant_id)
        return [change_from_row(row) for row in rows]

    async def namespace_stats(self, scope: Scope, namespace: str | None) -> list[KVNamespaceStats]:
        """Statistics per namespace of the scope's user; an agent or session of ``scope``
        narrows them (``None`` counts every agent / session)."""
        rows = await namespace_stats_rows(self._db, "kv", scope, namespace)
        return [KVNamespaceStats(**row) for row in rows]

    async def cleanup_expired(self, tenant_id: str, *, batch: int = 5_000) -> int:
        """Delete a tenant's expired entries in batches; the number deleted."""
        return await delete_expired(self._db, "kv", tenant_id, batch=batch)


def _tenant(ref: KeyRef) -> str:
    return ref.scope.tenant_id


def _cursor(conn: Connection) -> AsyncCursor[Row]:
    return conn.cursor(row_factory=dict_row)


async def _checked_versions(
    cur: AsyncCursor[Row], ref: KeyRef, options: WriteOptions
) -> tuple[int, WriteOptions]:
    """Lock the key and check ``options.expected_version``; the last version ever given
    to the key, and ``options`` made versioned if the key has a history already."""
    lock = "\x1f".join([*map(str, namespace_params(ref.scope, ref.namespace).values()), ref.key])
    await cur.execute(query("kv", "lock_key"), {"lock_class": LOCK_CLASS, "lock": lock})
    await cur.execute(query("kv", "key_versions"), ref.params())
    row = await cur.fetchone()
    assert row is not None  # the query always returns one row
    expected = options.expected_version
    if expected is not None and row["live_version"] != expected:
        current = row["live_version"]
        state = f"is at version {current}" if current else "does not exist"
        raise Conflict(f"{ref.describe()} {state}; expected version {expected}")
    if row["has_history"] and not options.versioned:
        options = replace(options, versioned=True)
    return int(row["last_version"]), options


async def _upsert(
    cur: AsyncCursor[Row],
    ref: KeyRef,
    value: EncodedValue,
    version: int,
    options: WriteOptions,
    change: ChangeKind,
) -> KVEntry:
    params = {
        **ref.params(),
        "value": value.json_text,
        "value_z": value.packed,
        "size": value.size,
        "version": version,
        "ttl": options.ttl,
        "actor": options.actor,
        "reason": options.reason,
        "change": change,
        "versioned": options.versioned,
    }
    await cur.execute(query("kv", "upsert_entry"), params)
    row = await cur.fetchone()
    assert row is not None  # an upsert always returns its row
    return entry_from_row(row)


async def _delete(
    cur: AsyncCursor[Row], ref: KeyRef, version: int, options: WriteOptions, change: ChangeKind
) -> bool:
    params = {
        **ref.params(),
        "version": version,
        "actor": options.actor,
        "reason": options.reason,
        "change": change,
        "versioned": options.versioned,
    }
    await cur.execute(query("kv", "delete_entry"), params)
    row = await cur.fetchone()
    return bool(row and row["live"])


def entry_from_row(row: Row) -> KVEntry:
    return KVEntry(
        namespace=row["namespace"],
        key=row["key"],
        value=decode_value(row["value"], row["value_z"]),
        version=row["version"],
        user_id=row["user_id"],
        agent_id=row["agent_id"] or None,
        session_id=row["session_id"] or None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        expires_at=row["expires_at"],
        updated_by=row["updated_by"],
        size_bytes=row["size_bytes"],
        compressed=row["value_z"] is not None,
    )


def change_from_row(row: Row) -> KVChange:
    return KVChange(
        namespace=row["namespace"],
        key=row["key"],
        version=row["version"],
        change=row["change"],
        old=_optional_value(row["old_value"], row["old_z"]),
        new=_optional_value(row["new_value"], row["new_z"]),
        actor=row["actor"],
        reason=row["reason"],
        at=row["created_at"],
    )


def _optional_value(stored_json: Any, packed: bytes | None) -> Any:
    return None if stored_json is None and packed is None else decode_value(stored_json, packed)
