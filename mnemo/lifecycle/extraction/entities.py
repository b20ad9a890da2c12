"""Entity extraction and description merging by an LLM.

The prompts are ``mnemo/lifecycle/prompts/entities.md`` (+ ``entities_input.md``)
and ``entity_describe.md``. Replies must validate against :data:`ENTITY_SCHEMA`
/ :data:`DESCRIBE_SCHEMA` (``LLM.complete_json`` repairs and retries); every
item is checked again here (utterance numbers in range, types known, names
present), because a schema-valid reply can still be wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from string import Template
from typing import Any

from mnemo.core.entities import Relation
from mnemo.core.entity_extraction import Extracted, FoundEntity, KnownEntities, Utterance
from mnemo.core.entity_profile import TYPE_SYNONYMS, merge_description
from mnemo.lifecycle.extraction.llm import load_prompt
from mnemo.providers.llms.base import LLM, ChatMessage

__all__ = ["DESCRIBE_SCHEMA", "ENTITY_SCHEMA", "LLMEntityExtractor", "extracted_from_reply"]

_STRINGS = {"type": "array", "items": {"type": "string"}}
ENTITY_SCHEMA: dict[str, Any] = {
    "title": "entities",
    "type": "object",
    "properties": {
        "entities": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "utterance": {"type": "integer"},
                    "name": {"type": "string"},
                    "type": {"type": "string"},
                    "aliases": _STRINGS,
                    "facts": _STRINGS,
                },
                "required": ["utterance", "name", "type", "aliases", "facts"],
                "additionalProperties": False,
            },
        },
        "relations": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "utterance": {"type": "integer"},
                    "subject": {"type": "string"},
                    "predicate": {"type": "string"},
                    "object": {"type": "string"},
                },
                "required": ["utterance", "subject", "predicate", "object"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["entities", "relations"],
    "additionalProperties": False,
}
DESCRIBE_SCHEMA: dict[str, Any] = {
    "title": "entity_description",
    "type": "object",
    "properties": {"description": {"type": "string"}},
    "required": ["description"],
    "additionalProperties": False,
}
_MAX_NAME_CHARS = 200
_MAX_FACT_CHARS = 400
#: Known names and aliases shown to the model (the user's most recent first).
MAX_KNOWN = 200


class LLMEntityExtractor:
    """Asks an :class:`~mnemo.providers.llms.base.LLM`; raises ``LLMError`` when it
    gives no usable reply (nothing is then written)."""

    def __init__(self, llm: LLM, *, max_tokens: int | None = 4_000) -> None:
        self.llm = llm
        self.max_tokens = max_tokens

    @property
    def name(self) -> str:
        return f"llm:{self.llm.model_id}"

    async def extract(
        self, utterances: Sequence[Utterance], known: KnownEntities
    ) -> list[Extracted]:
        """One ``Extracted`` per utterance, from one LLM call."""
        if not utterances:
            return []
        completion = await self.llm.complete_json(
            _extract_messages(utterances, known), ENTITY_SCHEMA, max_tokens=self.max_tokens
        )
        return extracted_from_reply(completion.parsed, utterances)

    async def describe(
        self, name: str, current: str, facts: Sequence[str], *, max_chars: int
    ) -> str:
        """The LLM's merge of ``current`` and ``facts``; cut to ``max_chars`` at a
        sentence boundary by the offline rule if the model wrote too much."""
        if not facts:
            return current
        system = Template(load_prompt("entity_describe")).substitute(max_chars=max_chars)
        listed = "\n".join(f"- {_one_line(f)}" for f in facts)
        user = f"Entity: {name}\nCurrent description: {current or '(none)'}\nNew facts:\n{listed}"
        completion = await self.llm.complete_json(
            [ChatMessage.system(system.strip()), ChatMessage.user(user)],
            DESCRIBE_SCHEMA,
            max_tokens=self.max_tokens,
        )
        text = _one_line(str(completion.parsed["description"]))
        return (
            text if len(text) <= max_chars else merge_description("", [text], max_chars=max_chars)
        )


def extracted_from_reply(reply: Any, utterances: Sequence[Utterance]) -> list[Extracted]:
    """The usable part of a schema-valid reply, one ``Extracted`` per utterance.

    Items naming an utterance out of range, an unknown type or an empty name
    are dropped; repeated entities of one utterance are merged.
    """
    entities: list[dict[str, FoundEntity]] = [{} for _ in utterances]
    relations: list[list[Relation]] = [[] for _ in utterances]
    for item in reply.get("entities", []):
        index, found = _entity(item, len(utterances))
        if found is not None:
            entities[index][found.name.casefold()] = _merged(
                entities[index].get(found.name.casefold()), found
            )
    for item in reply.get("relations", []):
        index, relation = _relation(item, len(utterances))
        if relation is not None:
            relations[index].append(relation)
    return [
        Extracted(tuple(e.values()), tuple(dict.fromkeys(r)))
        for e, r in zip(entities, relations, strict=True)
    ]


def _entity(item: dict[str, Any], count: int) -> tuple[int, FoundEntity | None]:
    index = int(item["utterance"]) - 1
    name = _one_line(item["name"])[:_MAX_NAME_CHARS]
    kind = TYPE_SYNONYMS.get(str(item["type"]).strip().casefold())
    if not 0 <= index < count or not name or kind is None:
        return 0, None
    aliases = tuple(
        dict.fromkeys(a for a in (_one_line(x)[:_MAX_NAME_CHARS] for x in item["aliases"]) if a)
    )
    facts = tuple(f for f in (_one_line(x)[:_MAX_FACT_CHARS] for x in item["facts"]) if f)
    return index, FoundEntity(name, kind, aliases, 1, facts[:3])


def _merged(old: FoundEntity | None, new: FoundEntity) -> FoundEntity:
    if old is None:
        return new
    return FoundEntity(
        old.name,
        old.type if old.type != "concept" else new.type,
        tuple(dict.fromkeys(old.aliases + new.aliases)),
        old.mentions,
        tuple(dict.fromkeys(old.facts + new.facts)),
    )


def _relation(item: dict[str, Any], count: int) -> tuple[int, Relation | None]:
    index = int(item["utterance"]) - 1
    subject, obj = _one_line(item["subject"]), _one_line(item["object"])
    predicate = "_".join(_one_line(item["predicate"]).lower().split())[:60]
    if not 0 <= index < count or not (subject and obj and predicate):
        return 0, None
    return index, Relation(subject[:_MAX_NAME_CHARS], predicate, obj[:_MAX_NAME_CHARS])


def _extract_messages(utterances: Sequence[Utterance], known: KnownEntities) -> list[ChatMessage]:
    names = [*sorted(known.people), *sorted(known.names)]
    listed = "\n".join(
        [f"- {name}" for name in names[:MAX_KNOWN]]
        + [f"- {alias} -> {name}" for alias, name in list(known.aliases.items())[:MAX_KNOWN]]
    )
    lines = "\n".join(
        f"[{i}] {u.speaker or 'someone'}: {_one_line(u.text)}" for i, u in enumerate(utterances, 1)
    )
    user = Template(load_prompt("entities_input")).substitute(
        known=listed or "(none)", utterances=lines
    )
    return [ChatMessage.system(load_prompt("entities").strip()), ChatMessage.user(user.strip())]


def _one_line(text: object) -> str:
    return " ".join(str(text).split())
