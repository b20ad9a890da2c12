"""Entity memory: the people, organisations, places and concepts a user talks about.

``observe`` reads text or messages (an LLM extractor when one is configured,
else the offline rules), merges what it finds into the user's entities by
canonical name or alias (case-insensitive), and records mentions, a running
description, importance and relations. Reads: ``get``, ``list``, ``search``,
``related``, ``get_entity_analytics`` and ``get_context`` (prompt-ready).
Entities belong to a user; an agent or session id narrows reads to the
entities mentioned under that agent / in that session.
"""

from __future__ import annotations

import builtins
import copy
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from mnemo.config import EntityConfig, Limits, SearchConfig
from mnemo.core.entity_extraction import EntityExtractor
from mnemo.core.entity_profile import canonical_key, normalise_entity_type
from mnemo.core.entity_records import (
    EntityAnalytics,
    EntityHit,
    EntityRecord,
    EntityRelation,
    ObserveResult,
)
from mnemo.core.observe import Observers
from mnemo.core.records import Scope
from mnemo.core.scoring import Scored
from mnemo.core.validation import (
    require_content,
    require_limit,
    require_scope_id,
    require_timestamp,
)
from mnemo.errors import Conflict, InvalidInput, NotFound
from mnemo.kinds.entity_context import EntityContext, render_context
from mnemo.kinds.entity_input import utterances_from
from mnemo.kinds.entity_writer import EntityWriter
from mnemo.retrieval.embedding import EmbeddingService
from mnemo.retrieval.search import HybridSearch
from mnemo.store.postgres.entities import EntityStore
from mnemo.store.postgres.entity_rows import (
    ENTITY_TABLE,
    EntitySearchStore,
    entity_fragment,
    entity_from_row,
    relation_from_row,
)

MAX_LIST = 1_000


def _entity_hit(record: EntityRecord, scored: Scored) -> EntityHit:
    fields = {name: getattr(record, name) for name in EntityRecord.__dataclass_fields__}
    return EntityHit(**fields, score=scored.score, scores=scored.scores)


class EntityService:
    """A tenant's entity memory. Every method checks its input before touching the store."""

    def __init__(
        self,
        store: EntityStore,
        search_store: EntitySearchStore,
        embeddings: EmbeddingService,
        extractor: EntityExtractor,
        *,
        tenant_id: str,
        config: EntityConfig,
        search: SearchConfig,
        limits: Limits,
        observers: Observers,
    ) -> None:
        self._store = store
        self._embeddings = embeddings
        self._extractor = extractor
        self._tenant_id = tenant_id
        self.config = config
        self._limits = limits
        self._search = HybridSearch(
            ENTITY_TABLE,
            _entity_hit,
            search_store,
            embeddings,
            search,
            observers,
            metric="entities.search",
        )

    def with_config(self, config: EntityConfig) -> EntityService:
        """This service with other entity options (types kept, relations, sizes)."""
        view = copy.copy(self)
        view.config = config
        return view

    # -- writing ---------------------------------------------------------------------------

    async def observe(
        self,
        source: object,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        speaker: str | None = None,
        observed_at: datetime | str | None = None,
    ) -> ObserveResult:
        """Read ``source`` (a text, a message ``{"content", "role", "speaker", "id",
        "created_at"}``, or a list of them) and merge the entities and relations it
        names into the user's entity memory; what changed.

        First person resolves to the message's ``speaker`` (or ``name``), else to
        ``speaker``, else to "User" / "Assistant" by role. Nothing is written when
        the input is bad (``InvalidInput``) or the LLM fails (``LLMError``).
        """
        scope = self._scope(user_id, agent_id, session_id)
        at = require_timestamp(observed_at, "observed_at") or datetime.now(UTC)
        utterances = utterances_from(
            source, speaker=speaker, at=at, max_chars=self._limits.max_content_chars
        )
        writer = EntityWriter(self._store, self._embeddings, self._extractor, self.config)
        return await writer.observe(scope, utterances)

    async def add_alias(self, name: str, alias: str, *, user_id: str) -> EntityRecord:
        """Make ``alias`` another name of the entity called ``name``.

        Raises ``NotFound`` if no entity is called ``name`` and ``Conflict`` if
        ``alias`` already names another entity.
        """
        scope = self._scope(user_id)
        alias = require_content(alias, max_chars=200, name="alias").strip()
        entity = await self._resolve_one(scope, name)
        other = (await self._store.resolve(scope, [canonical_key(alias)])).get(canonical_key(alias))
        if other is not None and str(other["id"]) != entity.id:
            raise Conflict(f"{alias!r} already names the entity {other['name']!r}")
        owner = await self._store.add_alias(scope, canonical_key(alias), alias, entity.id)
        if owner != entity.id:
            raise Conflict(f"{alias!r} already names another entity")
        return await self.get(name, user_id=user_id)

    async def delete(self, name: str, *, user_id: str) -> None:
        """Forget an entity, its aliases, mentions and relations (``NotFound`` if unknown)."""
        scope = self._scope(user_id)
        entity = await self._resolve_one(scope, name)
        await self._store.delete(scope, entity.id)

    # -- reading ---------------------------------------------------------------------------

    async def get(self, name: str, *, user_id: str) -> EntityRecord:
        """The entity called ``name`` or one of its aliases (any case); else ``NotFound``."""
        return await self._resolve_one(self._scope(user_id), name)

    async def list(
        self,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        types: Sequence[str] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[EntityRecord]:
        """The user's entities, most important first, narrowed as asked."""
        scope = self._scope(user_id, agent_id, session_id)
        limit = require_limit(limit, maximum=MAX_LIST)
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidInput(f"offset must be a non-negative integer, got {offset!r:.40}")
        rows = await self._store.list_page(
            scope,
            types=_types(types),
            limit=limit,
            offset=offset,
            half_life_days=self.config.importance_half_life_days,
        )
        return self._records(rows)

    async def search(
        self,
        query: str,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        types: Sequence[str] | None = None,
        limit: int = 10,
    ) -> builtins.list[EntityHit]:
        """Entities matching ``query``: one it names exactly (by name or alias) first,
        then by meaning and words of names, aliases and descriptions."""
        scope = self._scope(user_id, agent_id, session_id)
        query = require_content(query, max_chars=self._limits.max_content_chars, name="query")
        limit = require_limit(limit, maximum=MAX_LIST)
        checked = _types(types)
        exact = await self._exact(scope, query, checked)
        ranked = await self._search.search(
            scope, query, entity_fragment(scope, types=checked), limit=limit
        )
        seen = {hit.id for hit in exact}
        return [*exact, *(hit for hit in ranked if hit.id not in seen)][:limit]

    async def related(
        self, name: str, *, user_id: str, predicate: str | None = None, limit: int = 50
    ) -> builtins.list[EntityRelation]:
        """Relations in which the entity called ``name`` is subject or object, strongest first."""
        scope = self._scope(user_id)
        limit = require_limit(limit, maximum=MAX_LIST)
        entity = await self._resolve_one(scope, name)
        return await self._relations(scope, [entity.id], predicate=predicate, limit=limit)

    async def get_entity_analytics(self, user_id: str, *, top: int = 10) -> EntityAnalytics:
        """Totals, counts by type and predicate, the most mentioned and most recent entities."""
        scope = self._scope(user_id)
        top = require_limit(top, "top", maximum=100)
        raw = await self._store.analytics(scope, top=top)
        return EntityAnalytics(
            user_id=scope.user_id,
            total_entities=int(raw["total_entities"]),
            total_mentions=int(raw["total_mentions"]),
            total_relations=int(raw["total_relations"]),
            total_aliases=int(raw["total_aliases"]),
            sessions=int(raw["sessions"]),
            by_type=raw["by_type"],
            relations_by_predicate=raw["by_predicate"],
            top_entities=self._records(raw["top"]),
            recent_entities=self._records(raw["recent"]),
            first_seen_at=raw["first_seen_at"],
            last_seen_at=raw["last_seen_at"],
        )

    async def get_context(
        self,
        query: str | None = None,
        *,
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
        limit: int = 10,
        max_tokens: int | None = None,
    ) -> EntityContext:
        """The entities worth telling the model about, ready for a prompt.

        With a ``query``: the entities it names, then those matching it, then the
        most important; without: the most important. Their relations come along
        (when tracked). ``max_tokens`` bounds the rendered text.
        """
        scope = self._scope(user_id, agent_id, session_id)
        limit = require_limit(limit, maximum=100)
        if max_tokens is not None:
            max_tokens = require_limit(max_tokens, "max_tokens", maximum=1_000_000)
        chosen: dict[str, EntityRecord] = {}
        if query is not None:
            for hit in await self.search(
                query, user_id=user_id, agent_id=agent_id, session_id=session_id, limit=limit
            ):
                chosen.setdefault(hit.id, hit)
        if len(chosen) < limit:
            for entity in await self.list(
                user_id=user_id, agent_id=agent_id, session_id=session_id, limit=limit
            ):
                chosen.setdefault(entity.id, entity)
        entities = list(chosen.values())[:limit]
        relations = []
        if self.config.relationship_tracking and entities:
            relations = await self._relations(scope, [e.id for e in entities], limit=4 * limit)
        return render_context(entities, relations, max_tokens=max_tokens)

    # -- helpers ---------------------------------------------------------------------------

    async def _exact(
        self, scope: Scope, query: str, types: Sequence[str] | None
    ) -> builtins.list[EntityHit]:
        key = canonical_key(query)
        row = (await self._store.resolve(scope, [key])).get(key) if key else None
        if row is None or (types and row["type"] not in types):
            return []
        record = self._records([row])[0]
        fields = {name: getattr(record, name) for name in EntityRecord.__dataclass_fields__}
        return [EntityHit(**fields, score=1.0, scores={"exact": 1.0})]

    async def _resolve_one(self, scope: Scope, name: object) -> EntityRecord:
        text = require_content(name, max_chars=500, name="name")
        key = canonical_key(text)
        row = (await self._store.resolve(scope, [key])).get(key) if key else None
        if row is None:
            raise NotFound(f"no entity called {text!r:.80} for user {scope.user_id!r:.80}")
        return self._records([row])[0]

    async def _relations(
        self, scope: Scope, ids: builtins.list[str], *, predicate: str | None = None, limit: int
    ) -> builtins.list[EntityRelation]:
        rows = await self._store.relations_of(scope, ids, predicate=predicate, limit=limit)
        return [relation_from_row(row) for row in rows]

    def _records(self, rows: Sequence[dict[str, Any]]) -> builtins.list[EntityRecord]:
        now = datetime.now(UTC)
        half_life = self.config.importance_half_life_days
        return [entity_from_row(row, now=now, half_life_days=half_life) for row in rows]

    def _scope(self, user_id: object, agent_id: object = None, session_id: object = None) -> Scope:
        return Scope(
            tenant_id=self._tenant_id,
            user_id=require_scope_id(user_id, "user_id") or "",
            agent_id=require_scope_id(agent_id, "agent_id", required=False),
            session_id=require_scope_id(session_id, "session_id", required=False),
        )


def _types(types: Sequence[str] | None) -> list[str] | None:
    if types is None:
        return None
    if isinstance(types, str):
        types = [types]
    return list(dict.fromkeys(normalise_entity_type(t) for t in types))


__all__ = ["EntityService"]
