"""The records entity memory hands back: entities, relations, observations, analytics."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class EntityRecord:
    """A person, organisation, place or concept a user's conversations mention.

    ``importance`` is computed when the record is read: mentions and recency
    (see ``mnemo.core.entity_profile.entity_importance``).
    """

    id: str
    user_id: str
    name: str
    type: str
    description: str
    aliases: list[str]
    importance: float
    mention_count: int
    first_seen_at: datetime
    last_seen_at: datetime
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    embedding_model: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EntityHit(EntityRecord):
    """An entity found by search, with its ``score`` and the ``scores`` behind it."""

    score: float
    scores: dict[str, float]


@dataclass(frozen=True, slots=True, kw_only=True)
class EntityRelation:
    """``subject --predicate--> object`` between two entities of one user, with evidence."""

    id: str
    subject: str
    predicate: str
    object: str
    subject_id: str
    object_id: str
    confidence: float
    mention_count: int
    evidence: list[str]
    source_message_ids: list[str]
    first_seen_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ObserveResult:
    """What one ``observe`` call changed: the entities it touched (``created`` names the
    new ones) and the relations it recorded."""

    entities: list[EntityRecord]
    created: list[str]
    relations: list[EntityRelation]
    extractor: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EntityAnalytics:
    """A user's entity memory at a glance."""

    user_id: str
    total_entities: int
    total_mentions: int
    total_relations: int
    total_aliases: int
    sessions: int
    by_type: dict[str, int]
    relations_by_predicate: dict[str, int]
    top_entities: list[EntityRecord]
    recent_entities: list[EntityRecord]
    first_seen_at: datetime | None
    last_seen_at: datetime | None
