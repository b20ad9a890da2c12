"""The ``tenants`` and ``api_keys`` tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg.rows import dict_row

from mnemo.core.apikeys import ApiKey
from mnemo.core.ids import new_id
from mnemo.errors import NotFound
from mnemo.store.postgres.database import Database
from mnemo.store.postgres.queries import query


@dataclass(frozen=True, slots=True)
class KeyLookup:
    """What authentication needs of a key found by its prefix."""

    id: str
    tenant_id: str
    key_hash: bytes
    revoked: bool
    #: The one user the key acts for, or ``None`` for a tenant-wide key.
    bound_user_id: str | None = None


class ApiKeyStore:
    """Creates, finds, lists and revokes API keys; one method, one statement."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        tenant_id: str,
        *,
        prefix: str,
        key_hash: bytes,
        name: str | None,
        bound_user_id: str | None = None,
    ) -> ApiKey:
        """Store a key for ``tenant_id`` (bound to one user, if given), creating the
        tenant if it is new."""
        params = {"tenant": tenant_id, "id": new_id(), "prefix": prefix, "hash": key_hash,
                  "user": bound_user_id}  # fmt: skip
        async with (
            self._db.transaction(tenant_id) as conn,
            conn.cursor(row_factory=dict_row) as cursor,
        ):
            await cursor.execute(
                query("api_keys", "ensure_tenant"), {"tenant": tenant_id, "name": None}
            )
            await cursor.execute(query("api_keys", "insert_key"), {**params, "name": name})
            row = await cursor.fetchone()
        assert row is not None  # INSERT ... RETURNING always returns the row
        return _key(row)

    async def lookup(self, prefix: str) -> KeyLookup | None:
        """The key with this prefix, whichever its tenant, or ``None``."""
        rows = await self._db.fetch(query("api_keys", "lookup_key"), {"prefix": prefix})
        if not rows:
            return None
        row = rows[0]
        return KeyLookup(
            id=str(row["id"]),
            tenant_id=row["tenant_id"],
            key_hash=bytes(row["key_hash"]),
            revoked=row["revoked_at"] is not None,
            bound_user_id=row["bound_user_id"],
        )

    async def touch(self, tenant_id: str, key_id: str) -> None:
        """Record that the key was just used."""
        params = {"tenant": tenant_id, "id": key_id}
        await self._db.execute(query("api_keys", "touch_key"), params, tenant_id=tenant_id)

    async def list_keys(self, tenant_id: str | None = None) -> list[ApiKey]:
        """Every key (of one tenant, if given), oldest first."""
        rows = await self._db.fetch(
            query("api_keys", "list_keys"), {"tenant": tenant_id}, tenant_id=tenant_id
        )
        return [_key(row) for row in rows]

    async def revoke(self, ref: str) -> ApiKey:
        """Revoke the live key whose prefix or id is ``ref``; ``NotFound`` if there is none."""
        rows = await self._db.fetch(query("api_keys", "revoke_key"), {"ref": ref})
        if not rows:
            raise NotFound(f"no live API key with prefix or id {ref!r:.80}")
        return _key(rows[0])


def _key(row: dict[str, Any]) -> ApiKey:
    return ApiKey(**{**row, "id": str(row["id"])})
