"""The LLM extractor: turns → prompt → validated JSON → candidate memories.

The prompts are files under ``mnemo/lifecycle/prompts/`` (``extract.md``, the
instructions; ``extract_input.md``, the turns and what is already known), so
they can be read and changed without touching code. The reply must validate
against :data:`EXTRACTION_SCHEMA` (``LLM.complete_json`` repairs and retries);
then every item is checked again here, because a valid reply can still point at
turns that were never shown or carry numbers out of range.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cache
from importlib.resources import files
from string import Template
from typing import Any

from mnemo.lifecycle.extraction.candidates import (
    CANDIDATE_KINDS,
    CandidateKind,
    CandidateMemory,
    Extraction,
    Turn,
    clamp_unit,
)
from mnemo.providers.llms.base import LLM, ChatMessage

__all__ = [
    "EXTRACTION_SCHEMA",
    "LLMExtractor",
    "build_messages",
    "candidates_from_reply",
    "load_prompt",
]

#: The reply's JSON schema. Every property is required and no others are allowed,
#: which is what OpenAI's strict structured outputs demand.
EXTRACTION_SCHEMA: dict[str, Any] = {
    "title": "extracted_memories",
    "type": "object",
    "properties": {
        "memories": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "kind": {"type": "string", "enum": list(CANDIDATE_KINDS)},
                    "content": {"type": "string"},
                    "source_turn_ids": {"type": "array", "items": {"type": "string"}},
                    "confidence": {"type": "number"},
                    "importance": {"type": "number"},
                    "event_date": {"type": ["string", "null"]},
                },
                "required": [
                    "kind",
                    "content",
                    "source_turn_ids",
                    "confidence",
                    "importance",
                    "event_date",
                ],
                "additionalProperties": False,
            },
        }
    },
    "required": ["memories"],
    "additionalProperties": False,
}
_MAX_CONTENT_CHARS = 1_000


@cache
def load_prompt(name: str) -> str:
    """The text of ``mnemo/lifecycle/prompts/<name>.md``."""
    return (files("mnemo.lifecycle") / "prompts" / f"{name}.md").read_text(encoding="utf-8")


class LLMExtractor:
    """Extracts candidates by asking an :class:`~mnemo.providers.llms.base.LLM`.

    Raises :class:`~mnemo.errors.LLMError` when the model gives no usable reply
    (the job running it dead-letters the turns).
    """

    def __init__(
        self,
        llm: LLM,
        *,
        temperature: float = 0.0,
        max_tokens: int | None = 4_000,
        attempts: int | None = None,
    ) -> None:
        self.llm = llm
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.attempts = attempts

    async def extract(
        self, turns: Sequence[Turn], *, context: list[str] | None = None
    ) -> Extraction:
        """Candidates in ``turns``; ``context`` lists what is already known, to avoid repeats.

        A reply cut off by ``max_tokens`` that repairs into a valid one is used, and the
        result says it was truncated."""
        if not turns:
            return Extraction([])
        completion = await self.llm.complete_json(
            build_messages(turns, context),
            EXTRACTION_SCHEMA,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            attempts=self.attempts,
        )
        return Extraction(candidates_from_reply(completion.parsed, turns), completion.truncated)


def build_messages(
    turns: Sequence[Turn], context: Sequence[str] | None = None
) -> list[ChatMessage]:
    """The system and user messages asking for the memories in ``turns``."""
    known = "\n".join(f"- {_one_line(item)}" for item in context or ()) or "(nothing)"
    lines = "\n".join(_render_turn(turn) for turn in turns)
    user = Template(load_prompt("extract_input")).substitute(context=known, turns=lines)
    return [ChatMessage.system(load_prompt("extract").strip()), ChatMessage.user(user.strip())]


def _render_turn(turn: Turn) -> str:
    who = turn.speaker or ("the assistant" if turn.role == "assistant" else "the user")
    stamp = turn.created_at.strftime("%Y-%m-%d %H:%M")
    return f"[{turn.id}] {stamp} {who} ({turn.role}): {_one_line(turn.content)}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def candidates_from_reply(reply: Any, turns: Sequence[Turn]) -> list[CandidateMemory]:
    """The usable candidates in a (schema-valid) reply.

    Items are dropped when their kind is unknown, their content is empty or none
    of their source turns was among ``turns``; unknown turn ids are removed,
    numbers clamped to [0, 1], bad dates set to ``None`` and repeats merged.
    """
    known_ids = {turn.id for turn in turns}
    items = reply.get("memories", []) if isinstance(reply, dict) else []
    found: dict[tuple[str, str], CandidateMemory] = {}
    for item in items:
        candidate = _candidate(item, known_ids) if isinstance(item, dict) else None
        if candidate is not None:
            found.setdefault((candidate.kind, candidate.content.lower()), candidate)
    return list(found.values())


def _candidate(item: dict[str, Any], known_ids: set[str]) -> CandidateMemory | None:
    kind, content = item.get("kind"), _one_line(str(item.get("content") or ""))
    raw_ids = item.get("source_turn_ids")
    sources = tuple(
        dict.fromkeys(str(i) for i in raw_ids if str(i) in known_ids)
        if isinstance(raw_ids, list)
        else ()
    )
    if kind not in CANDIDATE_KINDS or not content or not sources:
        return None
    kind_: CandidateKind = kind
    return CandidateMemory(
        kind=kind_,
        content=content[:_MAX_CONTENT_CHARS],
        confidence=clamp_unit(item.get("confidence"), 0.5),
        importance=clamp_unit(item.get("importance"), 0.5),
        source_turn_ids=sources,
        event_date=_date_or_none(item.get("event_date")),
    )


def _date_or_none(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None
