"""The offline extractor: deterministic English rules, no model, no network.

It is the default when no LLM is configured. Each turn is cut into clauses;
a clause that is a question, a hypothetical ("if", "would", "maybe") or a
cancelled plan ("I was going to ... but") is skipped. The rest are tried, in
order, against a table of anchored patterns:

    instruction   "always / never / please don't / from now on ...", "call me X"
    commitment    "I will / I'm going to / I plan to / remind me to ..."
    event         a past-tense first-person clause with a date ("yesterday I ...")
    preference    "I love / like / prefer / hate / can't stand ...", "my favourite X is Y"
    fact          "I am a / I work at / I live in / I have two kids / my X is ..."
    entity        "my dog is named Max", "my sister Lisa" (anywhere in a sentence)

Content is rewritten in the third person ("Alice loves hiking") and relative
dates become absolute ("on 7 May 2023"). Precision is the aim: when a simple
rule cannot tell, it stays silent.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from mnemo.lifecycle.extraction.candidates import (
    CANDIDATE_KINDS,
    CandidateKind,
    CandidateMemory,
    Extraction,
    Turn,
)
from mnemo.lifecycle.extraction.clauses import (
    Clause,
    prepare_clause,
    split_clauses,
    split_sentences,
)
from mnemo.lifecycle.extraction.english import is_past_form, possessive, third_person
from mnemo.lifecycle.extraction.patterns import (
    EVENT_SUBJECT,
    NOT_EVENTS,
    PERFECT_EVENT,
    RELATIONS,
    RULES,
    Voice,
    is_vague,
)

__all__ = ["RulesExtractor"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: How much a kind matters by default, for the composite score.
IMPORTANCE: dict[str, float] = {
    "instruction": 0.9, "commitment": 0.7, "preference": 0.6,
    "fact": 0.6, "entity": 0.5, "event": 0.5,
}  # fmt: skip
_HEDGE_PENALTY = 0.15


@dataclass(frozen=True, slots=True)
class _Found:
    kind: CandidateKind
    content: str
    confidence: float
    event_date: date | None = None


class RulesExtractor:
    """Extracts candidates from turns with deterministic rules (see the module docstring).

    Only turns whose ``role`` is in ``roles`` are read (the user's, by default:
    what an assistant says about itself is not a memory about the user).
    ``undated_events`` also keeps past-tense first-person clauses that name no
    date ("I adopted a puppy"), at a lower confidence.
    """

    def __init__(
        self,
        *,
        roles: Collection[str] = ("user",),
        kinds: Collection[str] = CANDIDATE_KINDS,
        undated_events: bool = True,
    ) -> None:
        self.roles = frozenset(roles)
        self.kinds = frozenset(kinds)
        self.undated_events = undated_events

    async def extract(
        self, turns: Sequence[Turn], *, context: list[str] | None = None
    ) -> Extraction:
        """Candidates in ``turns``; ``context`` is not used by rules."""
        return Extraction(self.extract_sync(turns))

    def extract_sync(self, turns: Sequence[Turn]) -> list[CandidateMemory]:
        """The same as :meth:`extract`, without an event loop (it does no I/O)."""
        merged: dict[tuple[str, str], CandidateMemory] = {}
        for index, turn in enumerate(turns):
            if turn.role not in self.roles:
                continue
            voice = Voice(_speaker(turn), _addressee(turns, index), turn.created_at.date())
            for found in _read_turn(turn.content, voice, self.undated_events):
                if found.kind in self.kinds:
                    _merge(merged, found, turn.id)
        return list(merged.values())


def _merge(merged: dict[tuple[str, str], CandidateMemory], found: _Found, turn_id: str) -> None:
    key = (found.kind, found.content.lower())
    previous = merged.get(key)
    sources = (previous.source_turn_ids if previous else ()) + (turn_id,)
    merged[key] = CandidateMemory(
        kind=found.kind,
        content=found.content,
        confidence=max(found.confidence, previous.confidence if previous else 0.0),
        importance=IMPORTANCE[found.kind],
        source_turn_ids=tuple(dict.fromkeys(sources)),
        event_date=found.event_date,
    )


def _speaker(turn: Turn) -> str:
    if turn.speaker:
        return turn.speaker
    return "the assistant" if turn.role == "assistant" else "the user"


def _addressee(turns: Sequence[Turn], index: int) -> str:
    """Whoever "you" is: the nearest neighbouring turn by someone else."""
    me = _speaker(turns[index])
    for other in (*reversed(turns[:index]), *turns[index + 1 :]):
        if _speaker(other) != me:
            return _speaker(other)
    return "the assistant" if turns[index].role != "assistant" else "the user"


# --- reading a turn -----------------------------------------------------------------

_HYPOTHETICAL = re.compile(
    r"\b(?:if|unless|whether|would|could|might|maybe|perhaps|wish|imagine|suppose|hopefully|"
    r"someday|one day|wanna|[Ii]'d|[Ww]e'd)(?![\w'])",
    re.IGNORECASE,
)


def _read_turn(content: str, voice: Voice, undated_events: bool) -> Iterator[_Found]:
    for sentence in split_sentences(content):
        if sentence.endswith("?"):
            continue
        for raw in split_clauses(sentence):
            clause = prepare_clause(raw, voice.today)
            if clause is not None:
                yield from _match_clause(clause, voice, undated_events)
        yield from _entities(sentence, voice)


def _match_clause(clause: Clause, voice: Voice, undated_events: bool) -> Iterator[_Found]:
    if _HYPOTHETICAL.search(clause.text) and not clause.text.lower().startswith(
        ("i'd like you", "i would like you", "i'd prefer you", "please")
    ):
        return
    past = _past_event_confidence(clause, undated_events)
    for rule in (*RULES, PERFECT_EVENT):
        if rule.kind == "preference" and past and clause.when is not None:
            break  # a dated past clause is an event first
        match = rule.pattern.match(clause.text)
        content = rule.render(match, clause, voice) if match else None
        if content is not None:
            yield _found(rule.kind, content, rule.confidence, clause)
            return
    if past:
        content = third_person(clause.text, voice.speaker, voice.addressee, past=True)
        yield _found("event", content, past, clause)


def _past_event_confidence(clause: Clause, undated: bool) -> float:
    """How sure we are the clause reports a past event of the speaker's; 0 if it does not."""
    if clause.when is not None and clause.when.direction == "future":
        return 0.0
    match = EVENT_SUBJECT.match(clause.text)
    if match is None:
        return 0.0
    verb = match["verb"].lower()
    rest = clause.text[match.end() :]
    if clause.when is not None:
        rest = rest.replace(clause.when.phrase, "")
    if not is_past_form(verb) or is_vague(rest):
        return 0.0
    if clause.when is not None:
        return 0.7
    return 0.5 if undated and verb not in NOT_EVENTS and match[0][:1] in "IiWw" else 0.0


def _found(kind: CandidateKind, content: str, confidence: float, clause: Clause) -> _Found:
    content = _tidy(content)
    if clause.when is not None and clause.append_when:
        content = f"{content} {clause.when.phrase}"
    if clause.hedged:
        confidence -= _HEDGE_PENALTY
    event_date = clause.when.day if clause.when else None
    return _Found(kind, content[:1].upper() + content[1:] + ".", round(confidence, 2), event_date)


_TRAILING = re.compile(
    r"(?:[\s,]+(?:too|as well|haha+|lol|though|tbh|honestly|for sure|you know|lately|"
    r"right now|at the moment|:\)|:D|<3))*[\s.!,:;~)(\"']*$",
    re.IGNORECASE,
)


def _tidy(content: str) -> str:
    return _TRAILING.sub("", content.strip())


_ENTITY = re.compile(
    rf"\b[Mm]y (?P<rel>(?:[a-z]+ )?(?:{RELATIONS}))"
    r"(?:'s name is|,? (?:who is |who's )?(?:named|called)|(?: is)? (?:named|called)|,?) "
    r"(?P<name>[A-Z][a-z-]+(?: [A-Z][a-z-]+)?)\b(?!')"
)
_NOT_NAMES = _words(
    "I The A An And But So Monday Tuesday Wednesday Thursday Friday Saturday Sunday January "
    "February March April May June July August September October November December"
)


def _entities(sentence: str, voice: Voice) -> Iterator[_Found]:
    for match in _ENTITY.finditer(sentence):
        name = match["name"]
        if name.split()[0] in _NOT_NAMES:
            continue
        content = f"{possessive(voice.speaker)} {match['rel']} is named {name}"
        yield _Found("entity", content[:1].upper() + content[1:] + ".", 0.75)
