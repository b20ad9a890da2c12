"""The entity extractor seam, and the offline extractor behind it.

An extractor turns utterances into the entities and relations each one names
(``extract``) and folds new facts about an entity into its running description
(``describe``). :class:`OfflineEntityExtractor` does both with the deterministic
rules of ``mnemo.core.entities`` and ``mnemo.core.entity_profile``; an LLM-backed
one lives in ``mnemo.lifecycle.extraction.entities``, chosen by the engine
when an LLM is configured.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from mnemo.core.entities import EntityType, Relation, extract_entities
from mnemo.core.entity_profile import merge_description

__all__ = [
    "EntityExtractor",
    "Extracted",
    "FoundEntity",
    "KnownEntities",
    "OfflineEntityExtractor",
    "Utterance",
]


@dataclass(frozen=True, slots=True)
class Utterance:
    """One piece of text to read: who said it (first person resolves to them), when,
    and the id of the stored message it came from, if any."""

    text: str
    speaker: str | None
    at: datetime
    message_id: str | None = None


@dataclass(frozen=True, slots=True)
class FoundEntity:
    """An entity named in one utterance: its name there, type, other names used
    for it (``aliases``), how often it was named, and what the text says about it."""

    name: str
    type: EntityType
    aliases: tuple[str, ...] = ()
    mentions: int = 1
    facts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Extracted:
    """What one utterance names."""

    entities: tuple[FoundEntity, ...]
    relations: tuple[Relation, ...]


@dataclass(frozen=True, slots=True)
class KnownEntities:
    """What the user's entity memory already knows, to help an extractor: other
    names (aliases) mapped to canonical names, the names known to be people, and
    every other known name."""

    aliases: Mapping[str, str] = field(default_factory=dict)
    people: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()


class EntityExtractor(Protocol):
    """Finds entities and relations; keeps descriptions current."""

    @property
    def name(self) -> str:
        """A short name recorded with results ("offline", "llm:<model>")."""
        ...

    async def extract(
        self, utterances: Sequence[Utterance], known: KnownEntities
    ) -> list[Extracted]:
        """One ``Extracted`` per utterance, in order."""
        ...

    async def describe(
        self, name: str, current: str, facts: Sequence[str], *, max_chars: int
    ) -> str:
        """The entity's description after learning ``facts``, at most ``max_chars``."""
        ...


class OfflineEntityExtractor:
    """Rules only: capitalised spans, known aliases, relation patterns; descriptions
    keep the most informative sentences (see ``merge_description``)."""

    name = "offline"

    async def extract(
        self, utterances: Sequence[Utterance], known: KnownEntities
    ) -> list[Extracted]:
        """Each utterance read by ``extract_entities`` with the known names and aliases,
        plus the names found in the utterances before it (so "Lisbon" opening a
        sentence is recognised once the conversation has named it)."""
        found: list[Extracted] = []
        people, names = set(known.people), set(known.names)
        for utterance in utterances:
            so_far = KnownEntities(known.aliases, frozenset(people), frozenset(names))
            extracted = self._one(utterance, so_far)
            found.append(extracted)
            for entity in extracted.entities:
                (people if entity.type == "person" else names).add(entity.name)
        return found

    async def describe(
        self, name: str, current: str, facts: Sequence[str], *, max_chars: int
    ) -> str:
        """``merge_description`` of the current description and the new sentences."""
        return merge_description(current, facts, max_chars=max_chars, name=name)

    def _one(self, utterance: Utterance, known: KnownEntities) -> Extracted:
        people = set(known.people)
        if utterance.speaker:
            people.add(utterance.speaker)
        found = extract_entities(
            utterance.text,
            speaker=utterance.speaker,
            known_people=people,
            aliases=known.aliases,
            known_names=known.names,
        )
        grouped: dict[str, list[tuple[str, EntityType, tuple[str, ...], str]]] = {}
        for m in found.mentions:
            grouped.setdefault(m.name, []).append((m.name, m.type, m.aliases, m.context))
        entities = tuple(
            FoundEntity(
                name=name,
                type=_first_specific([g[1] for g in group]),
                aliases=tuple(dict.fromkeys(a for g in group for a in g[2])),
                mentions=len(group),
                facts=tuple(dict.fromkeys(g[3] for g in group)),
            )
            for name, group in grouped.items()
        )
        return Extracted(entities, found.relations)


def _first_specific(types: Sequence[EntityType]) -> EntityType:
    return next((t for t in types if t != "concept"), types[0])
