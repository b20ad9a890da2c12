"""Cutting a turn into clauses the extraction rules can read.

A turn becomes sentences (:func:`split_sentences`), a sentence becomes clauses
at conjunctions that start a new first-person statement (:func:`split_clauses`),
and each clause is prepared (:func:`prepare_clause`): chatty openers ("Oh yeah,
...") and hedges ("I think ...") are cut, a dropped "I" is restored ("Just got
a puppy"), questions and cancelled plans are refused, and its time expression
is resolved to an absolute date.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from mnemo.lifecycle.extraction.dates import TimeMention, find_time_mention

__all__ = [
    "MAX_WORDS",
    "Clause",
    "plain_text",
    "prepare_clause",
    "split_clauses",
    "split_sentences",
]

#: Clauses longer than this are run-ons the rules would misread; they are skipped.
MAX_WORDS = 60


@dataclass(frozen=True, slots=True)
class Clause:
    """A clause ready for the patterns: openers, hedges and a leading date taken out."""

    text: str
    hedged: bool
    when: TimeMention | None
    #: Whether ``when.phrase`` still has to be added to the content (it led the clause).
    append_when: bool = False


def split_sentences(text: str) -> Iterator[str]:
    """The non-empty sentences of ``text`` (after :func:`plain_text`)."""
    for sentence in _SENTENCE_BREAK.split(plain_text(text)):
        if sentence.strip():
            yield sentence.strip()


_FIRST_PERSON = r"(?:I\b|I'm\b|I've\b|I'll\b|I'd\b|[Ww]e\b|[Ww]e're\b|[Ww]e've\b|[Mm]y\b)"
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+|;\s*|\s+[-\u2013\u2014]+\s+")
_CONJUNCTION_BREAK = re.compile(
    rf",?\s+(?:and|but|so|because|though|although|plus|and then)\s+(?={_FIRST_PERSON})"
)
_COMMA_BREAK = re.compile(rf",\s+(?={_FIRST_PERSON})")
_OPENER = re.compile(
    r"^(?:(?i:oh|ah|aw+|yeah|yes|yep|yup|well|wow|ha(?:ha)+|lol|hey|hi|ok|okay|sure|right|"
    r"honestly|actually|anyway|anyways|btw|by the way|plus|um+|hmm+|thanks|thank you|no|nope|"
    r"totally|definitely|absolutely|true|cool|great|awesome|nice|man|dude|omg|also|and|but|"
    r"so|then|and then|besides|luckily|fortunately|unfortunately|sadly|guess what|fun fact|"
    r"on a different note|speaking of which|as for me|for me|same here)"
    rf"(?:\s*[,!.:]+\s*|\s+(?={_FIRST_PERSON}))"
    # a name addressed, "Mel, I ...", but not a lead-in such as "Yesterday, I ..."
    r"|(?!(?i:yesterday|today|tonight|tomorrow|last|this|next|earlier|recently)\b)[A-Z][a-z]+\s*[,!]+\s*"
    r")+"
)
_HEDGE = re.compile(
    r"^(?:I think|I guess|I believe|I feel like|I suppose|I reckon|to be honest|tbh)"
    rf"\s*,?\s+(?={_FIRST_PERSON})",
    re.IGNORECASE,
)
_QUESTION_START = re.compile(
    r"^(?:do|does|did|are|is|was|were|have|has|can|could|would|will|should|what|why|how|"
    r"when|where|who|which|wanna)\b.*\byou\b",
    re.IGNORECASE,
)
_CANCELLED = re.compile(
    r"\b(?:was|were) (?:going|planning|supposed|about) to\b|"
    r"\b(?:wanted|meant|planned|intended|hoped|tried) to\b|\bused to\b|\banymore\b|\bno longer\b",
    re.IGNORECASE,
)
_PREPOSITION_BEFORE = re.compile(r"\b(?:since|from|until|till|by|before|after|for)\s*$", re.I)


def plain_text(text: str) -> str:
    """Straight quotes, no emoji or symbols, one space between words."""
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    kept = "".join(ch for ch in text if unicodedata.category(ch) not in ("So", "Sk", "Cs", "Co"))
    return re.sub(r"[ \t]+", " ", kept)


def split_clauses(sentence: str) -> Iterator[str]:
    """The clauses of ``sentence``, cut where a new first-person statement begins."""
    for part in _CONJUNCTION_BREAK.split(sentence):
        pieces = _COMMA_BREAK.split(part)
        # "Last week, I went ..." stays whole: a short lead-in belongs to the clause.
        buffer = pieces[0]
        for piece in pieces[1:]:
            if len(buffer.split()) >= 4:
                yield buffer
                buffer = piece
            else:
                buffer = f"{buffer}, {piece}"
        yield buffer


def prepare_clause(raw: str, today: date) -> Clause | None:
    """``raw`` ready for the patterns, or ``None`` when no rule should read it."""
    text = _OPENER.sub("", raw.strip())
    text, hedges = _HEDGE.subn("", text)
    text = _with_implied_subject(text.strip(" ,.!:"))
    if not text or _QUESTION_START.match(text) or _CANCELLED.search(text):
        return None
    if not 2 <= len(text.split()) <= MAX_WORDS:
        return None
    when = find_time_mention(text, today, future=_sounds_future(text))
    append = False
    if when is not None:
        text, append = _without_mention(text, when)
    return Clause(text, bool(hedges), when, append)


_IMPLIED_SUBJECT = [
    # chat drops the "I": "Gonna start a class", "Just got a puppy", "Been painting a lot"
    (re.compile(r"^(?=(?:gonna|going to|planning (?:to|on))\s+(?!be\b))", re.I), "I'm "),
    (
        re.compile(
            r"^(?=just (?:\w+ed|got|bought|made|won|found|met|took|saw|wrote|began|ran)\b)", re.I
        ),
        "I ",
    ),
    (re.compile(r"^(?=been \w+ing\b)", re.I), "I've "),
]


def _with_implied_subject(text: str) -> str:
    for pattern, subject in _IMPLIED_SUBJECT:
        if pattern.match(text):
            return subject + text[:1].lower() + text[1:]
    return text


def _sounds_future(text: str) -> bool:
    return bool(_FUTURE_CUE.search(text))


_FUTURE_CUE = re.compile(
    r"\b(?:will|'ll|going to|gonna|plan(?:ning)? to|remind|tomorrow|next)\b", re.IGNORECASE
)


def _without_mention(text: str, when: TimeMention) -> tuple[str, bool]:
    """``text`` with the mention made absolute, and whether the phrase is still to be added.

    A lead-in ("Yesterday, I went ...") is cut and the phrase appended later; a
    mention inside the clause is replaced where it stands, bare after a
    preposition ("since last year" → "since 2022").
    """
    before, after = text[: when.start], text[when.end :]
    if before.strip(" ,"):
        phrase = when.phrase
        if _PREPOSITION_BEFORE.search(before):
            phrase = re.sub(r"^(?:on|in) ", "", phrase)
        return f"{before}{phrase}{after}", False
    return after.lstrip(" ,"), True
