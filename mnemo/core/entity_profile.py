"""Pure rules for keeping an entity's profile current: merge keys, types, descriptions, importance.

An entity is known under a *canonical key* (its name case-folded, whitespace
collapsed, a possessive ``'s`` and surrounding punctuation dropped), so "Anna",
"ANNA" and "anna's" are one entity. Its offline *running description* keeps the
most informative sentences seen about it within a size cap; its *importance*
grows with mentions and fades with time since it was last seen.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from mnemo.core.entities import EntityType
from mnemo.errors import InvalidInput

__all__ = [
    "ENTITY_TYPES",
    "TYPE_SYNONYMS",
    "canonical_key",
    "entity_importance",
    "is_addressed",
    "merge_description",
    "merge_type",
    "normalise_entity_type",
    "sentence_informativeness",
    "split_sentences",
]

ENTITY_TYPES: tuple[EntityType, ...] = ("person", "organisation", "place", "concept")

#: Other spellings users and LLMs give for mnemo's four types.
TYPE_SYNONYMS: dict[str, EntityType] = {
    "person": "person",
    "people": "person",
    "per": "person",
    "human": "person",
    "pet": "person",
    "animal": "person",
    "organisation": "organisation",
    "organization": "organisation",
    "org": "organisation",
    "company": "organisation",
    "institution": "organisation",
    "group": "organisation",
    "place": "place",
    "location": "place",
    "loc": "place",
    "gpe": "place",
    "city": "place",
    "country": "place",
    "concept": "concept",
    "thing": "concept",
    "product": "concept",
    "work": "concept",
    "event": "concept",
    "misc": "concept",
    "other": "concept",
    "topic": "concept",
}

_POSSESSIVE = re.compile(r"['’]s$")
_GREETINGS = (
    "hey|hi|hello|thanks|thank you|wow|whoa|yeah|yes|aw+|congrats|congratulations|oh|ok|"
    "okay|sure|totally|agreed|dear|bye|good morning|good night|go"
)
#: Words after which a name ending an exclamation is its object, not the addressee.
_LINKS = (
    "about|with|to|for|from|at|of|in|on|and|or|the|by|like|than|as|see|saw|met|meet|call|"
    "called|tell|told|ask|asked|love|loved|miss|missed|visit|visited|is|was|and"
)
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?…]+|$)")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+|\d+")
_STOPWORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "are",
        "but",
        "not",
        "you",
        "all",
        "any",
        "can",
        "had",
        "her",
        "was",
        "one",
        "our",
        "out",
        "has",
        "him",
        "his",
        "how",
        "its",
        "may",
        "new",
        "now",
        "old",
        "see",
        "two",
        "way",
        "who",
        "did",
        "get",
        "got",
        "let",
        "say",
        "she",
        "too",
        "use",
        "that",
        "with",
        "have",
        "this",
        "will",
        "your",
        "from",
        "they",
        "know",
        "want",
        "been",
        "good",
        "much",
        "some",
        "time",
        "very",
        "when",
        "come",
        "here",
        "just",
        "like",
        "long",
        "make",
        "many",
        "over",
        "such",
        "take",
        "than",
        "them",
        "well",
        "were",
        "what",
        "which",
        "would",
        "there",
        "their",
        "about",
        "after",
        "again",
        "also",
        "back",
        "because",
        "before",
        "being",
        "could",
        "even",
        "into",
        "just",
        "more",
        "most",
        "only",
        "other",
        "really",
        "should",
        "since",
        "still",
        "then",
        "these",
        "thing",
        "things",
        "think",
        "those",
        "though",
        "through",
        "today",
        "yeah",
        "yes",
        "wow",
        "hey",
        "thanks",
        "thank",
        "great",
        "nice",
        "cool",
        "awesome",
        "haha",
        "lol",
        "gonna",
        "wanna",
    ]
)


def canonical_key(name: str) -> str:
    """The merge key of a name: case-folded, spaces collapsed, a possessive and a
    leading "the" dropped ("The Lord of the Rings" and "Lord of the Rings" merge)."""
    collapsed = " ".join(name.split()).strip(" .,;:!?\"'“”‘’()[]")
    key = _POSSESSIVE.sub("", collapsed).casefold()
    return key[4:] if key.startswith("the ") and len(key) > 4 else key


def normalise_entity_type(value: object) -> EntityType:
    """mnemo's type for a type name or synonym (``"organization"`` → ``"organisation"``)."""
    if not isinstance(value, str) or value.strip().casefold() not in TYPE_SYNONYMS:
        raise InvalidInput(
            f"unknown entity type {value!r:.60}; use one of {list(ENTITY_TYPES)} "
            f"or a synonym such as 'organization' or 'location'"
        )
    return TYPE_SYNONYMS[value.strip().casefold()]


def merge_type(current: EntityType, observed: EntityType) -> EntityType:
    """Keep a specific type once known: ``concept`` is only the fallback guess."""
    return observed if current == "concept" else current


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, stripped, in order (a line break also ends one)."""
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def sentence_informativeness(sentence: str) -> float:
    """How much a sentence says: distinct content words, with names and numbers
    counting extra; a question counts half (it asks rather than tells)."""
    words = _WORD.findall(sentence)
    content = {w.casefold() for w in words if len(w) > 2 and w.casefold() not in _STOPWORDS}
    # Names and numbers past the first word (which is capitalised anyway).
    specifics = len({w for w in words[1:] if w[0].isupper() or w.isdigit()})
    score = len(content) + 0.5 * specifics
    return score / 2 if sentence.rstrip().endswith("?") else score


def merge_description(
    current: str,
    observed: Iterable[str],
    *,
    max_chars: int = 600,
    min_score: float = 2.5,
    name: str | None = None,
) -> str:
    """The running description: the most informative sentences of ``current`` and
    ``observed`` that fit in ``max_chars``, in the order they were first seen.

    Sentences scoring below ``min_score`` and near-duplicates of kept ones are
    dropped; on equal scores the newer sentence wins. With the entity's ``name``,
    sentences addressed to it ("Thanks, Mel!") are left out: they tell about the
    speaker's topic, not about the entity. Deterministic.
    """
    pool = _distinct([*split_sentences(current), *_observed_sentences(observed)])
    scores = [_description_score(sentence, name) for sentence in pool]
    ranked = sorted(range(len(pool)), key=lambda i: (-scores[i], -i))
    kept: list[int] = []
    used = 0
    for i in ranked:
        cost = len(_terminated(pool[i])) + (1 if kept else 0)
        if scores[i] >= min_score and used + cost <= max_chars:
            kept.append(i)
            used += cost
    return " ".join(_terminated(pool[i]) for i in sorted(kept))


def _terminated(sentence: str) -> str:
    """The sentence with a final full stop if it had no end mark, so that joined
    sentences split back the same way."""
    return sentence if sentence[-1] in ".!?…" else sentence + "."


def is_addressed(sentence: str, name: str) -> bool:
    """Whether ``sentence`` speaks *to* ``name`` ("Thanks, Mel!", "Hey Mel, ...",
    "Yep Mel, ...", "Mel, look", "Great news Mel!"), rather than about them."""
    escaped = re.escape(name)
    return bool(
        re.search(rf",\s*{escaped}\s*(?:[!?.,]|$)", sentence)
        or re.match(rf"\W*(?:\w+\W+){{0,2}}?{escaped}\s*,", sentence)
        or re.match(rf"\W*(?:{_GREETINGS})\W*\s+{escaped}\b", sentence, re.IGNORECASE)
        or re.search(rf"\b(?!(?:{_LINKS})\b)\w+\s+{escaped}\s*[!?]+\W*$", sentence, re.I)
    )


def _description_score(sentence: str, name: str | None) -> float:
    return 0.0 if name and is_addressed(sentence, name) else sentence_informativeness(sentence)


def entity_importance(
    mention_count: int, last_seen: datetime, now: datetime, *, half_life_days: float = 30.0
) -> float:
    """Importance in [0, 1]: 0.6 from mentions (saturating: 1 → 0.11, 5 → 0.38,
    20 → 0.59) plus 0.4 from recency (halved every ``half_life_days``)."""
    mentions = 1.0 - math.exp(-max(mention_count, 0) / 10.0)
    age_days = max((now - last_seen).total_seconds(), 0.0) / 86_400.0
    recency = 0.5 ** (age_days / half_life_days) if half_life_days > 0 else 0.0
    return round(min(1.0, 0.6 * mentions + 0.4 * recency), 6)


def _observed_sentences(observed: Iterable[str]) -> list[str]:
    return [s for text in observed for s in split_sentences(text)]


def _distinct(sentences: Sequence[str]) -> list[str]:
    """Sentences without repeats or near-repeats (same content words), first kept."""
    seen: list[frozenset[str]] = []
    out: list[str] = []
    for sentence in sentences:
        words = frozenset(w.casefold() for w in _WORD.findall(sentence))
        if not words or any(_jaccard(words, other) >= 0.8 for other in seen):
            continue
        seen.append(words)
        out.append(sentence)
    return out


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b)
