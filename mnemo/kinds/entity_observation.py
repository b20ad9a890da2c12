"""Grouping what an extractor found by entity: one entry per canonical key.

Each entry gathers the names used, mentions, facts and when it was seen;
relations keep the utterance as evidence. Speakers addressed by a short form
of their name ("Thanks, Mel!" to Melanie) get that form as an alias.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from mnemo.core.entities import EntityType, Relation
from mnemo.core.entity_extraction import Extracted, Utterance
from mnemo.core.entity_profile import canonical_key, is_addressed, merge_type


@dataclass
class ObservedEntity:
    """Everything one observation says about one entity."""

    key: str
    name: str
    type: EntityType
    surfaces: dict[str, str] = field(default_factory=dict)  # key -> surface form
    mentions: int = 0
    facts: list[str] = field(default_factory=list)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    #: Speakers who addressed it by name ("Thanks, Mel!").
    addressed_by: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class ObservedRelation:
    subject_key: str
    predicate: str
    object_key: str
    evidence: str
    message_id: str | None
    at: datetime


@dataclass
class Observation:
    entities: dict[str, ObservedEntity]
    relations: list[ObservedRelation]

    def keys(self) -> list[str]:
        """Every key that may name a stored entity: names and surface forms."""
        return list(dict.fromkeys(k for e in self.entities.values() for k in (e.key, *e.surfaces)))


def aggregate(
    found: Sequence[Extracted],
    utterances: Sequence[Utterance],
    types: Collection[str],
    *,
    relations: bool = True,
) -> Observation:
    """Group entities by canonical key (types outside ``types`` dropped) and, with
    ``relations``, keep the relations whose ends are both kept, with the utterance
    as evidence. A relation end named by no entity (a speaker) is added as a person."""
    entities: dict[str, ObservedEntity] = {}
    dropped: set[str] = set()
    kept_relations: list[ObservedRelation] = []
    for extracted, utterance in zip(found, utterances, strict=True):
        for entity in extracted.entities:
            if entity.type not in types:
                dropped.add(canonical_key(entity.name))
            elif canonical_key(entity.name):
                entry = _add(
                    entities,
                    entity.name,
                    entity.type,
                    entity.aliases,
                    entity.mentions,
                    entity.facts,
                    utterance.at,
                )
                if utterance.speaker and any(is_addressed(f, entity.name) for f in entity.facts):
                    entry.addressed_by.add(utterance.speaker)
        for relation in extracted.relations if relations else ():
            kept = _relation(entities, dropped, relation, utterance, types)
            if kept is not None:
                kept_relations.append(kept)
    speakers = {u.speaker for u in utterances if u.speaker}
    if "person" in types:
        _fold_short_forms(entities, kept_relations, speakers, utterances[-1].at)
    return Observation(entities, kept_relations)


def _fold_short_forms(
    entities: dict[str, ObservedEntity],
    relations: list[ObservedRelation],
    speakers: Collection[str],
    at: datetime,
) -> None:
    """Make "Mel" an alias of the speaker Melanie when another speaker addressed
    Melanie as "Mel": a one-word person name of 3+ letters that starts exactly one
    speaker's first name, used to address someone other than that speaker."""
    for key, entry in list(entities.items()):
        speaker = _speaker_with_short_form(entry, speakers)
        if speaker is None or not entry.addressed_by - {speaker}:
            continue
        target = _add(entities, speaker, "person", (), 0, (), at)
        if target is entry:
            continue
        target.surfaces.update({key: entry.name, **entry.surfaces})
        target.surfaces.pop(target.key, None)
        target.mentions += entry.mentions
        target.facts.extend(f for f in entry.facts if f not in target.facts)
        target.first_seen = min(filter(None, (target.first_seen, entry.first_seen)), default=at)
        target.last_seen = max(filter(None, (target.last_seen, entry.last_seen)), default=at)
        del entities[key]
        relations[:] = [_renamed(r, key, target.key) for r in relations]


def _speaker_with_short_form(entry: ObservedEntity, speakers: Collection[str]) -> str | None:
    if entry.type != "person" or " " in entry.key or len(entry.key) < 3:
        return None
    matches = [
        s
        for s in speakers
        if canonical_key(s) != entry.key and canonical_key(s).split(" ")[0].startswith(entry.key)
    ]
    return matches[0] if len(matches) == 1 else None


def _renamed(relation: ObservedRelation, old: str, new: str) -> ObservedRelation:
    subject = new if relation.subject_key == old else relation.subject_key
    obj = new if relation.object_key == old else relation.object_key
    return replace(relation, subject_key=subject, object_key=obj)


def _add(
    entities: dict[str, ObservedEntity],
    name: str,
    kind: EntityType,
    aliases: Sequence[str],
    mentions: int,
    facts: Sequence[str],
    at: datetime,
) -> ObservedEntity:
    key = canonical_key(name)
    entry = entities.get(key)
    if entry is None:
        entry = entities[key] = ObservedEntity(key, " ".join(name.split()), kind)
    entry.type = merge_type(entry.type, kind)
    for alias in aliases:
        alias_key = canonical_key(alias)
        if alias_key and alias_key != key:
            entry.surfaces.setdefault(alias_key, " ".join(alias.split()))
    entry.mentions += mentions
    entry.facts.extend(f for f in facts if f not in entry.facts)
    entry.first_seen = min(entry.first_seen or at, at)
    entry.last_seen = max(entry.last_seen or at, at)
    return entry


def _relation(
    entities: dict[str, ObservedEntity],
    dropped: set[str],
    relation: Relation,
    utterance: Utterance,
    types: Collection[str],
) -> ObservedRelation | None:
    ends = []
    for name in (relation.subject, relation.object):
        key = canonical_key(name)
        if not key or (key in dropped and key not in entities):
            return None
        if key not in entities and not _known_as_alias(entities, key):
            if "person" not in types:
                return None
            _add(entities, name, "person", (), 0, (), utterance.at)
        ends.append(_owner(entities, key))
    if ends[0] == ends[1]:
        return None
    return ObservedRelation(
        ends[0],
        relation.predicate,
        ends[1],
        utterance.text[:400],
        utterance.message_id,
        utterance.at,
    )


def _known_as_alias(entities: dict[str, ObservedEntity], key: str) -> bool:
    return any(key in e.surfaces for e in entities.values())


def _owner(entities: dict[str, ObservedEntity], key: str) -> str:
    if key in entities:
        return key
    return next(e.key for e in entities.values() if key in e.surfaces)
