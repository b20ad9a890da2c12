"""Entities and relations rendered for a prompt, within a token budget."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mnemo.core.entity_records import EntityRecord, EntityRelation
from mnemo.core.tokens import default_token_counter


@dataclass(frozen=True, slots=True)
class EntityContext:
    """What entity memory contributes to a prompt: the records, and ``text`` (their
    rendering, ``tokens`` long). ``as_dict()`` gives the seed design's plain shape."""

    entities: list[EntityRecord]
    relations: list[EntityRelation]
    text: str
    tokens: int
    truncated: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """``{"entities": [...], "relationships": [...], "context": text, "tokens": n}``."""
        return {
            "entities": [
                {
                    "name": e.name,
                    "type": e.type,
                    "aliases": e.aliases,
                    "description": e.description,
                    "importance": e.importance,
                    "mention_count": e.mention_count,
                    "last_seen": e.last_seen_at.isoformat(),
                }
                for e in self.entities
            ],
            "relationships": [
                {
                    "subject": r.subject,
                    "predicate": r.predicate,
                    "object": r.object,
                    "confidence": r.confidence,
                    "mentions": r.mention_count,
                }
                for r in self.relations
            ],
            "context": self.text,
            "tokens": self.tokens,
            **self.extra,
        }


def entity_line(entity: EntityRecord) -> str:
    """``- Anna (person; also Annie): <description> [5 mentions, last 2024-05-01]``."""
    also = f"; also {', '.join(entity.aliases)}" if entity.aliases else ""
    about = f": {entity.description}" if entity.description else ""
    seen = entity.last_seen_at.date().isoformat()
    mentions = "mention" if entity.mention_count == 1 else "mentions"
    counts = f"[{entity.mention_count} {mentions}, last {seen}]"
    return f"- {entity.name} ({entity.type}{also}){about} {counts}"


def relation_line(relation: EntityRelation) -> str:
    return f"- {relation.subject} --{relation.predicate}--> {relation.object}"


def render_context(
    entities: Sequence[EntityRecord],
    relations: Sequence[EntityRelation],
    *,
    max_tokens: int | None,
) -> EntityContext:
    """Entities (in the given order) then relations touching a kept entity, as text;
    lines that would pass ``max_tokens`` are left out, whole."""
    counter = default_token_counter()
    lines: list[str] = []
    used = 0
    kept: list[EntityRecord] = []
    truncated = False
    for header, items in (("Known entities:", entities), ("Relationships:", relations)):
        block = _lines(items, kept)
        if not block:
            continue
        header_cost = counter.count(header + "\n")
        for i, (line, item) in enumerate(block):
            cost = counter.count(line + "\n") + (header_cost if i == 0 else 0)
            if max_tokens is not None and used + cost > max_tokens:
                truncated = True
                break
            if i == 0:
                lines.append(header)
            lines.append(line)
            used += cost
            if isinstance(item, EntityRecord):
                kept.append(item)
    kept_ids = {e.id for e in kept}
    shown = set(lines)
    kept_relations = [
        r
        for r in relations
        if (r.subject_id in kept_ids or r.object_id in kept_ids) and relation_line(r) in shown
    ]
    text = "\n".join(lines)
    return EntityContext(kept, kept_relations, text, counter.count(text) if text else 0, truncated)


def _lines(items: Sequence[Any], kept: list[EntityRecord]) -> list[tuple[str, Any]]:
    if items and isinstance(items[0], EntityRecord):
        return [(entity_line(e), e) for e in items]
    ids = {e.id for e in kept}
    return [(relation_line(r), r) for r in items if r.subject_id in ids or r.object_id in ids]
