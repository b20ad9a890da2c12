"""Browsing a tenant's store: users, memories in any state, provenance, sessions, the queue.

``AsyncMemory.inspect`` hands out this service; the inspector at ``/ui`` reads
through the REST routes built on it. Everything here only reads, within the
engine's tenant, and checks its input like every other kind.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from mnemo.core.filters import parse_filters
from mnemo.core.ids import parse_id
from mnemo.core.inspection import (
    EXTRACTION_STATUSES,
    Provenance,
    QueuedTurn,
    SessionOverview,
    UserOverview,
)
from mnemo.core.messages import MessageRecord
from mnemo.core.records import LISTED_STATUSES, MemoryRecord, Scope
from mnemo.core.validation import (
    require_choice,
    require_kinds,
    require_limit,
    require_scope_id,
    require_timestamp,
)
from mnemo.errors import InvalidInput, NotFound
from mnemo.store.postgres.extractions import ExtractionStore
from mnemo.store.postgres.filters import Fragment, like_pattern, message_fragment, scope_fragment
from mnemo.store.postgres.inspection import InspectionStore
from mnemo.store.postgres.memories import MemoryStore
from mnemo.store.postgres.messages import MessageStore

MAX_PAGE = 1_000  # the most rows one listing returns
MAX_TEXT_FILTER_CHARS = 1_000
#: How many memories a provenance lists as replaced by the one asked about.
MAX_PREDECESSORS = 100


class InspectionService:
    """Read views of one tenant's store for people browsing it."""

    def __init__(
        self,
        store: InspectionStore,
        memories: MemoryStore,
        messages: MessageStore,
        extractions: ExtractionStore,
        *,
        tenant_id: str,
    ) -> None:
        self._store = store
        self._memories = memories
        self._messages = messages
        self._extractions = extractions
        self._tenant = tenant_id

    async def users(
        self, *, after: str | None = None, limit: int = 50
    ) -> builtins.list[UserOverview]:
        """The tenant's users with memories or conversation turns, by id, after ``after``."""
        limit = require_limit(limit, maximum=MAX_PAGE)
        start = "" if after is None else require_scope_id(after, "after") or ""
        ids = await self._store.user_ids(self._tenant, after=start, limit=limit)
        return await self._store.user_overviews(self._tenant, ids) if ids else []

    async def memories(
        self,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        status: str | None = None,
        contains: str | None = None,
        kinds: Sequence[str] | None = None,
        filters: Mapping[str, Any] | None = None,
        as_of: datetime | str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> builtins.list[MemoryRecord]:
        """A user's memories, newest first: ``status`` ``active`` (the default),
        ``superseded`` or ``deleted`` (removed, as their history last saw them), or
        with ``as_of`` those valid at that time; ``contains`` narrows to a text."""
        scope = Scope(
            tenant_id=self._tenant,
            user_id=require_scope_id(user_id, "user_id") or "",
            agent_id=require_scope_id(agent_id, "agent_id", required=False),
            session_id=require_scope_id(session_id, "session_id", required=False),
        )
        when = require_timestamp(as_of, "as_of")
        if when is not None and status is not None:
            raise InvalidInput("as_of selects what was valid at that time; leave status out")
        chosen = require_choice(status or "active", "status", LISTED_STATUSES)
        where = scope_fragment(
            scope, kinds=require_kinds(kinds), filters=parse_filters(filters), as_of=when,
            include_superseded=True,
        )  # fmt: skip
        where = _containing(where, contains)
        limit = require_limit(limit, maximum=MAX_PAGE)
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidInput(f"offset must be a non-negative integer, got {offset!r:.40}")
        if chosen == "deleted":
            return await self._store.removed_memories(where, limit=limit, offset=offset)
        if when is None:
            where = where.and_("m.status = %(status)s", status=chosen)
        return await self._memories.list_page(where, limit=limit, offset=offset)

    async def provenance(self, memory_id: str) -> Provenance:
        """The memory (stored or last seen in its history), its source turns with their
        extraction states, what replaced it and what it replaced."""
        memory_id = str(parse_id(memory_id, what="memory id"))
        memory = await self._stored_or_removed(memory_id)
        if memory is None:
            raise NotFound(f"no memory with id {memory_id}")
        scope = Scope(tenant_id=self._tenant, user_id=memory.user_id)
        sources = await self._turns(scope, memory.source_message_ids)
        states = await self._extractions.states(
            self._tenant, memory.user_id, [turn.id for turn in sources]
        )
        successor = None
        if memory.superseded_by is not None:
            successor = await self._stored_or_removed(memory.superseded_by)
        replaced = scope_fragment(scope, include_superseded=True).and_(
            "m.superseded_by = %(replaced_by)s::uuid", replaced_by=memory.id
        )
        return Provenance(
            memory=memory,
            sources=sources,
            extraction={message_id: state.status for message_id, state in states.items()},
            superseded_by=successor,
            supersedes=await self._memories.list_page(replaced, limit=MAX_PREDECESSORS),
        )

    async def sessions(self, *, user_id: str, limit: int = 100) -> builtins.list[SessionOverview]:
        """A user's conversation sessions, most recently active first."""
        scope = self._scope(user_id)
        limit = require_limit(limit, maximum=MAX_PAGE)
        return await self._store.sessions(self._tenant, scope.user_id, limit=limit)

    async def extraction_queue(
        self, *, status: str = "failed", user_id: str | None = None, limit: int = 100
    ) -> builtins.list[QueuedTurn]:
        """Turns in one extraction state (``pending``, ``failed``, ``done``), of the
        tenant or of one user, most recently changed first, with their errors."""
        status = require_choice(status, "status", EXTRACTION_STATUSES)
        user = require_scope_id(user_id, "user_id", required=False)
        limit = require_limit(limit, maximum=MAX_PAGE)
        return await self._store.extraction_queue(self._tenant, user, status=status, limit=limit)

    def _scope(self, user_id: object) -> Scope:
        return Scope(tenant_id=self._tenant, user_id=require_scope_id(user_id, "user_id") or "")

    async def _stored_or_removed(self, memory_id: str) -> MemoryRecord | None:
        try:
            return await self._memories.get(self._tenant, memory_id)
        except NotFound:
            return await self._store.removed_memory(self._tenant, memory_id)

    async def _turns(
        self, scope: Scope, message_ids: Sequence[str]
    ) -> builtins.list[MessageRecord]:
        if not message_ids:
            return []
        where = message_fragment(scope).and_("m.id = ANY(%(ids)s::uuid[])", ids=list(message_ids))
        return await self._messages.page(
            where, by_turn=False, newest_first=False, limit=len(message_ids)
        )


def _containing(where: Fragment, text: str | None) -> Fragment:
    if text is None:
        return where
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT_FILTER_CHARS:
        raise InvalidInput(
            f"contains must be non-blank text of at most {MAX_TEXT_FILTER_CHARS} characters"
        )
    if "\x00" in text:
        raise InvalidInput("contains must not contain NUL characters")
    return where.and_("m.content ILIKE %(contains)s", contains=like_pattern(text.strip()))
