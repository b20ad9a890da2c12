"""``AsyncMemory``'s per-user data methods: erase, statistics, export and import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from mnemo.core.records import Scope
from mnemo.core.validation import require_scope_id
from mnemo.engine.base import EngineBase
from mnemo.engine.reads import read_only
from mnemo.errors import Forbidden
from mnemo.store.cache import cache_namespace

logger = logging.getLogger(__name__)


class UserDataMethods(EngineBase):
    """Everything stored about one user, across every table: delete, count, move."""

    async def delete_user(self, user_id: str) -> dict[str, int]:
        """Erase everything stored about a user; the number of rows removed per table."""
        user_id = require_scope_id(user_id, "user_id") or ""
        await self._ready()
        self._writer.forget_user(self.config.tenant_id, user_id)
        await self._drop_scope_indexes(Scope(self.config.tenant_id, user_id))
        counts = await self._store.delete_user(self.config.tenant_id, user_id)
        counts["cache"] = await self.cache.delete_prefix(
            cache_namespace(self.config.tenant_id, user_id)
        )
        return counts

    async def _drop_scope_indexes(self, scope: Scope) -> None:
        """Drop the user's own vector indexes; without the right to (the REST service's
        role), their registry rows go with the user and the maintenance sweep drops them."""
        self._scope_routes.forget(scope)
        try:
            await self._scope_indexes.drop_scope(scope)
        except Forbidden as exc:
            logger.info("scope indexes of a deleted user are left to the sweep: %s", exc)

    @read_only
    async def stats(self, user_id: str) -> dict[str, Any]:
        """A user's rows per table and a summary of their memories (counts, kinds, dates)."""
        scope = self._scope(user_id, None, None)
        await self._ready()
        return await self._user_data.stats(scope)

    async def export_user(self, user_id: str) -> AsyncIterator[dict[str, Any]]:
        """Everything stored about a user, as the lines of a JSON Lines export (header first)."""
        scope = self._scope(user_id, None, None)
        await self._ready()
        async for line in self._user_data.export(scope):
            yield line

    async def import_user(
        self, user_id: str, lines: Iterable[Mapping[str, Any]]
    ) -> dict[str, dict[str, int]]:
        """Store an export's lines for ``user_id``; rows ``imported`` and ``skipped`` by table."""
        scope = self._scope(user_id, None, None)
        await self._ready()
        return await self._user_data.import_lines(scope, lines)
