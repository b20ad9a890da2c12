"""Query parameters and upkeep shared by the namespaced tables (key-value, working memory)."""

from __future__ import annotations

from typing import Any

from mnemo.core.records import Scope
from mnemo.store.postgres.database import Database, Statement
from mnemo.store.postgres.queries import query
from mnemo.store.postgres.replicas import on_primary


def namespace_params(scope: Scope, namespace: str) -> dict[str, Any]:
    """Query parameters of a scope and namespace (absent agent/session are ``''``)."""
    return {
        "tenant": scope.tenant_id,
        "user": scope.user_id,
        "agent": scope.agent_id or "",
        "session": scope.session_id or "",
        "namespace": namespace,
    }


async def namespace_stats_rows(
    db: Database, file: str, scope: Scope, namespace: str | None
) -> list[dict[str, Any]]:
    """``file``'s ``namespace_stats`` rows for the scope's user; an agent or session of
    ``scope`` narrows them (``None`` counts every agent / session)."""
    params = {
        "tenant": scope.tenant_id,
        "user": scope.user_id,
        "agent": scope.agent_id,
        "session": scope.session_id,
        "namespace": namespace,
    }
    return await db.fetch(query(file, "namespace_stats"), params, tenant_id=scope.tenant_id)


async def delete_expired(db: Database, file: str, tenant_id: str, *, batch: int) -> int:
    """Run ``file``'s ``cleanup_expired`` in batches until done; the number deleted. On
    Citus, which refuses its row locks over every shard, the tenant's users holding
    expired rows are swept one by one (each batch then runs on one shard)."""
    tenant = {"tenant": tenant_id}
    if not await db.distributed():
        return await _delete_batches(db, query(file, "cleanup_expired"), tenant, batch=batch)
    with on_primary():
        users = await db.fetch(query(file, "users_with_expired"), tenant, tenant_id=tenant_id)
    statement = query(file, "cleanup_expired_of_user")
    total = 0
    for row in users:
        params = {**tenant, "user": row["user_id"]}
        total += await _delete_batches(db, statement, params, batch=batch)
    return total


async def _delete_batches(
    db: Database, statement: Statement, params: dict[str, Any], *, batch: int
) -> int:
    """Run a batch ``statement`` until it deletes fewer than ``batch`` rows; the total."""
    total = 0
    while True:
        deleted = await db.execute(
            statement, {**params, "batch": batch}, tenant_id=params["tenant"]
        )
        total += deleted
        if deleted < batch:
            return total
