"""Merging an observation into the stored entities: the rows one ``observe`` writes.

An observed entity joins the stored entity its name names, else the one one of
its aliases names, else becomes a new entity (case-insensitive, on canonical
keys). Counts add up, the description goes through the extractor's merge, and
importance is recomputed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mnemo.core.entities import EntityType
from mnemo.core.entity_profile import canonical_key, entity_importance, merge_type
from mnemo.core.ids import new_id
from mnemo.kinds.entity_observation import Observation, ObservedEntity, ObservedRelation
from mnemo.store.postgres.entities import EntityChanges, EntityWrite, MentionWrite, RelationWrite

Describe = Callable[[str, str, Sequence[str]], Awaitable[str]]


@dataclass
class Plan:
    """The rows to write, which entities are new, and each observed key's entity id."""

    changes: EntityChanges
    created: list[str]
    ids: dict[str, str]
    previous_content: dict[str, str]


async def plan_changes(
    observation: Observation,
    resolved: Mapping[str, Mapping[str, Any]],
    *,
    now: datetime,
    describe: Describe,
    half_life_days: float,
) -> Plan:
    """Merge the observation into the stored entities the keys resolve to.

    An observed entity joins the stored entity its name names, else the one one
    of its aliases names, else becomes a new entity. Descriptions go through
    ``describe`` (the extractor's merge) only when there are new facts.
    """
    targets = _targets(observation, resolved)
    writes: list[EntityWrite] = []
    aliases: dict[str, tuple[str, str, str]] = {}
    mentions: list[MentionWrite] = []
    created: list[str] = []
    for entity_id, group in _grouped(observation, targets).items():
        stored = _stored(resolved, entity_id)
        write = await _merged(entity_id, group, stored, now, describe, half_life_days)
        writes.append(write)
        if stored is None:
            created.append(write.name)
        aliases.update(_new_aliases(group, write, stored))
        mention = _mention(entity_id, group)
        if mention is not None:
            mentions.append(mention)
    ids = {key: targets[key] for key in observation.entities}
    relations = _relation_writes(observation.relations, ids)
    previous = {str(r["id"]): r["content"] for r in resolved.values() if "content" in r}
    changes = EntityChanges(writes, list(aliases.values()), mentions, relations)
    return Plan(changes, created, ids, previous)


def _targets(observation: Observation, resolved: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    targets: dict[str, str] = {}
    for key, entity in observation.entities.items():
        hit = resolved.get(key) or next(
            (resolved[k] for k in entity.surfaces if k in resolved), None
        )
        targets[key] = str(hit["id"]) if hit is not None else str(new_id())
    return targets


def _grouped(observation: Observation, targets: dict[str, str]) -> dict[str, list[ObservedEntity]]:
    groups: dict[str, list[ObservedEntity]] = {}
    for key, entity in observation.entities.items():
        groups.setdefault(targets[key], []).append(entity)
    return groups


def _stored(resolved: Mapping[str, Mapping[str, Any]], entity_id: str) -> Mapping[str, Any] | None:
    """The stored row of ``entity_id``, or ``None`` for a new entity."""
    return next((row for row in resolved.values() if str(row["id"]) == entity_id), None)


async def _merged(
    entity_id: str,
    group: list[ObservedEntity],
    stored: Mapping[str, Any] | None,
    now: datetime,
    describe: Describe,
    half_life_days: float,
) -> EntityWrite:
    lead = max(group, key=lambda e: (e.mentions, len(e.facts)))
    name = stored["name"] if stored else lead.name
    kind: EntityType = stored["type"] if stored else lead.type
    for entity in group:
        kind = merge_type(kind, entity.type)
    facts = [f for e in group for f in e.facts]
    current = stored["description"] if stored else ""
    description = await describe(name, current, facts) if facts else current
    count = (stored["mention_count"] if stored else 0) + sum(e.mentions for e in group)
    seen = [e.last_seen for e in group if e.last_seen] + [
        e.first_seen for e in group if e.first_seen
    ]
    first = min([*seen, *([stored["first_seen_at"]] if stored else [])])
    last = max([*seen, *([stored["last_seen_at"]] if stored else [])])
    aliases = [
        *(stored["aliases"] if stored else []),
        *(s for e in group for s in e.surfaces.values()),
    ]
    return EntityWrite(
        id=entity_id,
        name=name,
        canonical_name=stored["canonical_name"] if stored else canonical_key(name),
        type=kind,
        description=description,
        importance=entity_importance(count, last, now, half_life_days=half_life_days),
        mention_count=count,
        first_seen_at=first,
        last_seen_at=last,
        content=entity_content(name, kind, aliases, description),
    )


def entity_content(name: str, kind: str, aliases: Sequence[str], description: str) -> str:
    """The searchable text of an entity: name, type, aliases, description."""
    others = [a for a in dict.fromkeys(aliases) if canonical_key(a) != canonical_key(name)]
    also = f"; also {', '.join(others)}" if others else ""
    return (
        f"{name} ({kind}{also}): {description}".rstrip(": ")
        if description
        else f"{name} ({kind}{also})"
    )


def _new_aliases(
    group: list[ObservedEntity], write: EntityWrite, stored: Mapping[str, Any] | None
) -> dict[str, tuple[str, str, str]]:
    known = {canonical_key(a) for a in (stored["aliases"] if stored else [])}
    known.add(write.canonical_name)
    found: dict[str, tuple[str, str, str]] = {}
    for entity in group:
        names = {entity.key: entity.name, **entity.surfaces}
        for key, surface in names.items():
            if key not in known and key not in found:
                found[key] = (key, surface, write.id)
    return found


def _mention(entity_id: str, group: list[ObservedEntity]) -> MentionWrite | None:
    count = sum(e.mentions for e in group)
    firsts = [e.first_seen for e in group if e.first_seen]
    lasts = [e.last_seen for e in group if e.last_seen]
    if count == 0 or not firsts or not lasts:
        return None
    return MentionWrite(entity_id, count, min(firsts), max(lasts))


def _relation_writes(
    relations: Sequence[ObservedRelation], ids: dict[str, str]
) -> list[RelationWrite]:
    merged: dict[tuple[str, str, str], RelationWrite] = {}
    for r in relations:
        triple = (ids[r.subject_key], r.predicate, ids[r.object_key])
        if triple[0] == triple[2]:
            continue
        old = merged.get(triple)
        sources = [r.message_id] if r.message_id else []
        if old is None:
            merged[triple] = RelationWrite(str(new_id()), *triple, 0.6, [r.evidence], sources, r.at)
        else:
            merged[triple] = RelationWrite(
                old.id,
                *triple,
                1 - (1 - old.confidence) * 0.4,
                list(dict.fromkeys([*old.evidence, r.evidence])),
                list(dict.fromkeys([*old.source_message_ids, *sources])),
                max(old.seen_at, r.at),
                old.count + 1,
            )
    return list(merged.values())
