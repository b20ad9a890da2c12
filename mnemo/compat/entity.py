"""``EntityMemory`` of the "memory implementations for LLM context" design, on mnemo.

    memory = EntityMemory({"database_url": ...,
                           "entity_types": ["person", "organization", "location", "concept"],
                           "relationship_tracking": True})
    await memory.initialize()
    await memory.store({"user_id": "u1", "session_id": "s1", "role": "user",
                        "content": "My sister Anna works at Acme."})
    context = await memory.get_context({"user_id": "u1", "query": "Who is Anna?"})
    analytics = await memory.get_entity_analytics("u1")

Entities live in PostgreSQL (``entities``, ``entity_aliases``, ``entity_mentions``,
``entity_relations``). Extraction uses the configured LLM (``llm``, or an API key
as described in ``mnemo.compat.base``), else mnemo's offline extractor. Types are
reported in the vocabulary the config uses (``organization`` / ``location`` when
asked for so; mnemo's own names are ``organisation`` / ``place``). Config keys
besides the shared ones: ``entity_types``, ``relationship_tracking`` (``True``),
``max_context_entities`` (10), ``max_context_tokens`` (``None``: no cap).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mnemo.compat.base import CompatMemory, message_fields
from mnemo.config import EntityConfig
from mnemo.core.entity_profile import normalise_entity_type
from mnemo.core.entity_records import EntityRecord, EntityRelation
from mnemo.core.records import Scope
from mnemo.engine import AsyncMemory
from mnemo.errors import ConfigurationError, InvalidInput, MnemoError
from mnemo.kinds.entities import EntityService

__all__ = ["EntityMemory"]

DEFAULT_TYPES = ("person", "organization", "location", "concept")


class EntityMemory(CompatMemory):
    """People, organisations, places and concepts of a user's conversations, with
    aliases, mentions, importance and relationships."""

    memory_type = "entity_memory"

    def __init__(
        self, config: Mapping[str, Any] | None = None, *, memory: AsyncMemory | None = None
    ) -> None:
        super().__init__(config, memory=memory)
        names = self.config.get("entity_types", DEFAULT_TYPES)
        try:
            if isinstance(names, str) or not isinstance(names, Sequence):
                raise InvalidInput("entity_types must be a list of type names")
            self._names: dict[str, str] = {normalise_entity_type(n): str(n) for n in names}
            self.entity_config = EntityConfig(
                entity_types=tuple(self._names),
                relationship_tracking=bool(self.config.get("relationship_tracking", True)),
            )
        except MnemoError as exc:
            raise ConfigurationError(f"invalid EntityMemory config: {exc}") from exc
        self.max_context_entities = self.config.get("max_context_entities", 10)
        self.max_context_tokens = self.config.get("max_context_tokens")

    @property
    def entities(self) -> EntityService:
        """The engine's entity memory with this instance's options."""
        return self.engine.entities.with_config(self.entity_config)

    async def store(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Read one message (``content``, scope keys, ``role``, ``speaker`` / ``name``,
        ``id``, ``timestamp``) or ``messages`` (a list of them) and update the entities.

        ``{"entities": [names touched], "created": [new names], "relationships": [...]}``.
        """
        scope = await self._scope(data)
        if "messages" in data:
            source: Any = [
                message_fields(m)[0] if isinstance(m, Mapping) else m for m in data["messages"]
            ]
        else:
            source = [message_fields(data)[0]]
        result = await self.entities.observe(source, **_scope_args(scope))
        return {
            "entities": [e.name for e in result.entities],
            "created": result.created,
            "relationships": [self._relation(r) for r in result.relations],
            "extractor": result.extractor,
        }

    async def get_context(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """The entities worth mentioning for ``request["query"]`` (optional), ready for a
        prompt: ``{"entities": [...], "relationships": [...], "context": text, "tokens"}``.
        ``max_entities`` / ``max_tokens`` override the config."""
        scope = await self._scope(request)
        context = await self.entities.get_context(
            request.get("query"),
            limit=request.get("max_entities", self.max_context_entities),
            max_tokens=request.get("max_tokens", self.max_context_tokens),
            **_scope_args(scope),
        )
        plain = context.as_dict()
        for entity in plain["entities"]:
            entity["type"] = self._type_name(entity["type"])
        return {"memory_type": self.memory_type, **plain}

    async def get_entity_analytics(self, user_id: str | None = None) -> dict[str, Any]:
        """Totals, counts by type and relationship, the most mentioned and most recent."""
        scope = await self._scope({"user_id": user_id} if user_id else {})
        found = await self.entities.get_entity_analytics(scope.user_id)
        return {
            "user_id": found.user_id,
            "total_entities": found.total_entities,
            "total_mentions": found.total_mentions,
            "total_relationships": found.total_relations,
            "total_aliases": found.total_aliases,
            "sessions": found.sessions,
            "entity_types": {self._type_name(t): n for t, n in found.by_type.items()},
            "relationship_types": found.relations_by_predicate,
            "top_entities": [self._entity(e) for e in found.top_entities],
            "recent_entities": [self._entity(e) for e in found.recent_entities],
            "first_seen": found.first_seen_at.isoformat() if found.first_seen_at else None,
            "last_seen": found.last_seen_at.isoformat() if found.last_seen_at else None,
        }

    async def get_entity(self, name: str, user_id: str | None = None) -> dict[str, Any]:
        """One entity by name or alias (``NotFound`` if unknown)."""
        scope = await self._scope({"user_id": user_id} if user_id else {})
        return self._entity(await self.entities.get(name, user_id=scope.user_id))

    async def search_entities(
        self, query: str, user_id: str | None = None, limit: int = 10
    ) -> list[dict[str, Any]]:
        """Entities matching ``query`` by name, alias or meaning, best first."""
        scope = await self._scope({"user_id": user_id} if user_id else {})
        hits = await self.entities.search(query, user_id=scope.user_id, limit=limit)
        return [{**self._entity(h), "score": h.score} for h in hits]

    async def get_relationships(
        self, name: str, user_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The relationships of the entity called ``name``, strongest first."""
        scope = await self._scope({"user_id": user_id} if user_id else {})
        related = await self.entities.related(name, user_id=scope.user_id)
        return [self._relation(r) for r in related]

    async def add_alias(self, name: str, alias: str, user_id: str | None = None) -> dict[str, Any]:
        """Make ``alias`` another name of the entity ``name``."""
        scope = await self._scope({"user_id": user_id} if user_id else {})
        return self._entity(await self.entities.add_alias(name, alias, user_id=scope.user_id))

    def _type_name(self, kind: str) -> str:
        return self._names.get(kind, kind)

    def _entity(self, entity: EntityRecord) -> dict[str, Any]:
        return {
            "id": entity.id,
            "name": entity.name,
            "type": self._type_name(entity.type),
            "aliases": entity.aliases,
            "description": entity.description,
            "importance": entity.importance,
            "mention_count": entity.mention_count,
            "first_seen": entity.first_seen_at.isoformat(),
            "last_seen": entity.last_seen_at.isoformat(),
        }

    @staticmethod
    def _relation(relation: EntityRelation) -> dict[str, Any]:
        return {
            "subject": relation.subject,
            "predicate": relation.predicate,
            "object": relation.object,
            "confidence": relation.confidence,
            "mentions": relation.mention_count,
            "evidence": relation.evidence,
        }

    async def _scope(self, request: object) -> Scope:
        scope = await self.request_scope(request, write=True)
        assert scope is not None  # write=True resolves a user or raises
        return scope


def _scope_args(scope: Scope) -> dict[str, Any]:
    return {"user_id": scope.user_id, "agent_id": scope.agent_id, "session_id": scope.session_id}
