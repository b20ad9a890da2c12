"""Query parameters and upkeep shared by the namespaced tables (key-value, working memory)."""

from __future__ import annotations

from typing import Any

from mnemo.core.records import Scope
from mnemo.store.postgres.database import Database
from mnemo.store.postgres.queries import query


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
    """Run ``file``'s ``cleanup_expired`` in batches until done; the number deleted."""
    total = 0
    while True:
        params = {"tenant": tenant_id, "batch": batch}
        deleted = await db.execute(query(file, "cleanup_expired"), params, tenant_id=tenant_id)
        total += deleted
        if deleted < batch:
            return total
