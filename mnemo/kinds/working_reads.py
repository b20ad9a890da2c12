"""Reads of working-memory items, counted in this process and written in batches.

LRU eviction needs to know when each item was last read. Writing that on every
read would turn each cached read into a PostgreSQL write, so reads are counted
here and written with the next write of the tenant's working memory (in the
same transaction that decides what to evict), on ``flush`` and on close. Losing
them (the process dies) loses only access statistics.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from mnemo.core.records import Scope
from mnemo.errors import MnemoError
from mnemo.store.postgres.working import Touch, WorkingStore

logger = logging.getLogger(__name__)


class AccessLog:
    """Reads of items made in this process, applied to PostgreSQL with the next write.

    Shared by every view of the engine; entries are kept per tenant.
    """

    def __init__(self) -> None:
        self._pending: dict[tuple[Scope, str, str], tuple[int, datetime]] = {}

    def record(self, scope: Scope, namespace: str, key: str) -> None:
        hits, _ = self._pending.get((scope, namespace, key), (0, None))
        self._pending[(scope, namespace, key)] = (hits + 1, datetime.now(UTC))

    def drain(self, tenant_id: str) -> list[Touch]:
        """Take the tenant's recorded reads (``restore`` them if writing them fails)."""
        mine = [k for k in self._pending if k[0].tenant_id == tenant_id]
        return [Touch(s, n, k, *self._pending.pop((s, n, k))) for s, n, k in mine]

    def tenants(self) -> set[str]:
        """Tenants with recorded reads not yet written."""
        return {scope.tenant_id for scope, _, _ in self._pending}

    def restore(self, touches: list[Touch]) -> None:
        """Put back reads that could not be written."""
        for touch in touches:
            hits, at = self._pending.get((touch.scope, touch.namespace, touch.key), (0, touch.at))
            self._pending[(touch.scope, touch.namespace, touch.key)] = (
                hits + touch.hits,
                max(at, touch.at),
            )


async def flush_reads(store: WorkingStore, access: AccessLog) -> None:
    """Write every tenant's recorded reads (the engine calls this on flush and close)."""
    for tenant_id in sorted(access.tenants()):
        touches = access.drain(tenant_id)
        try:
            await store.apply_touches(tenant_id, touches)
        except BaseException:
            access.restore(touches)
            raise


async def flush_reads_on_close(store: WorkingStore, access: AccessLog) -> None:
    """``flush_reads`` for shutdown: a failure is logged, not raised (only access
    statistics are lost, and closing must release the pool regardless)."""
    try:
        await flush_reads(store, access)
    except MnemoError as exc:
        logger.warning("could not write working-memory access statistics: %s", exc)
