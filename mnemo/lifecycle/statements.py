"""Reading memory statements well enough to compare them without a model.

Extracted memories are short third-person statements ("Alice lives in Paris.").
Reconciliation and consolidation need three things from them, computed here:

- :func:`analyse` — the content words (lower-cased, crudely stemmed, stop words
  dropped), the numbers, the proper names, and whether the statement is negated;
- :func:`slot_of` — for statements about a *single-valued* attribute, the slot
  (subject + attribute) and its value: where someone lives or works, their
  favourite X, age, name, what they want to be called, how they feel about a
  thing (love ↔ hate), an always/never instruction, what they prefer. Two
  statements with the same slot and different values conflict;
- :func:`same_statement` / :func:`refines` — whether one statement says nothing
  the other does not, or adds detail to it, given their cosine similarity.

Embedding cosines alone cannot tell "prefers dark roast" from "prefers light
roast" (0.97 with the default embedder) while paraphrases sit at 0.99; the word
checks are what keep a new fact from being dropped as a "duplicate".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "SimilarityRules",
    "Slot",
    "Statement",
    "analyse",
    "conflicts",
    "refines",
    "same_statement",
    "slot_of",
]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOP = _words(
    "a an the to of in on at for with and or but is are was were be been being it its this "
    "that these those as by from about into over after before than then so very really just "
    "also too now still again there here their his her he she they them we you i me my our "
    "your has have had do does did will would can could should some any all each every up "
    "out off lately currently these days anymore"
)
_NEGATIONS = frozenset({"not", "no", "never", "nothing", "nobody", "none", "neither", "nor"})
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*|\d+(?:[.,:]\d+)*")
_SUFFIXES = (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""))


@dataclass(frozen=True, slots=True)
class Statement:
    """What comparison needs to know about one statement."""

    text: str
    words: frozenset[str]
    numbers: frozenset[str]
    names: frozenset[str]
    negated: bool


@dataclass(frozen=True, slots=True)
class Slot:
    """A single-valued attribute of a subject, and the value a statement gives it.

    ``needs_similarity``: the slot is loose ("X prefers ...") and two statements
    only compete for it when they are about the same topic (high cosine).
    """

    key: tuple[str, ...]
    value: str
    needs_similarity: bool = False


@dataclass(frozen=True, slots=True)
class SimilarityRules:
    """Cosine thresholds of the comparisons (calibrated for the default embedder)."""

    #: At/above: the same statement however worded (if numbers, names, negation agree).
    same_meaning: float = 0.985
    #: At/above: a statement adding no word to the other is a duplicate of it.
    duplicate: float = 0.90
    #: At/above: a statement holding all of the other's words and more refines it.
    refine: float = 0.85
    #: At/above: two "X prefers ..." statements compete for one slot.
    conflict: float = 0.92


def analyse(text: str) -> Statement:
    """Words, numbers, names and negation of ``text``."""
    tokens = _WORD.findall(text)
    words, numbers, names, negated = set(), set(), set(), False
    for index, token in enumerate(tokens):
        lower = token.lower()
        if lower.endswith("n't") or lower in _NEGATIONS:
            negated = True
            continue
        if token[0].isdigit():
            numbers.add(token)
            continue
        if index > 0 and token[0].isupper() and lower not in _STOP:
            names.add(lower)
        if lower not in _STOP:
            words.add(_stem(lower))
    return Statement(text, frozenset(words), frozenset(numbers), frozenset(names), negated)


def same_statement(new: Statement, old: Statement, cosine: float, rules: SimilarityRules) -> bool:
    """Whether ``new`` says nothing that ``old`` does not already say.

    Never when they give one attribute different values, however close their vectors.
    """
    if new.negated != old.negated or conflicts(new, old, cosine, rules):
        return False
    if new.words == old.words and new.numbers == old.numbers:
        return True
    if cosine >= rules.same_meaning and (new.numbers, new.names) == (old.numbers, old.names):
        return True
    return (
        cosine >= rules.duplicate
        and new.words <= old.words
        and new.numbers <= old.numbers
        and new.names <= old.names
    )


def refines(new: Statement, old: Statement, cosine: float, rules: SimilarityRules) -> bool:
    """Whether ``new`` keeps everything ``old`` says and adds detail to it."""
    return (
        new.negated == old.negated
        and cosine >= rules.refine
        and old.words < new.words
        and old.numbers <= new.numbers
        and old.names <= new.names
    )


def conflicts(new: Statement, old: Statement, cosine: float, rules: SimilarityRules) -> bool:
    """Whether ``new`` gives a single-valued attribute of ``old``'s subject another value."""
    new_slot, old_slot = slot_of(new.text), slot_of(old.text)
    if new_slot is None or old_slot is None or new_slot.key != old_slot.key:
        return False
    if new_slot.needs_similarity and cosine < rules.conflict:
        return False
    return new_slot.value != old_slot.value


def _stem(word: str) -> str:
    word = word.removesuffix("'s").removesuffix("'")
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)] + replacement
    return word


# --- slots ---------------------------------------------------------------------------

_TAIL = re.compile(
    r"(?:[\s,]+(?:now|these days|nowadays|anymore|any more|lately|currently|at the moment|"
    r"again|too|as well|instead|actually))+$",
    re.IGNORECASE,
)
_SUBJECT = r"(?P<s>[A-Z][\w' -]*?|[Tt]he user)"
_LOVE = r"loves?|likes?|enjoys?|adores?|is (?:a |an )?(?:big |huge )?fan of|is into"
_HATE = r"hates?|dislikes?|detests?|can't stand|cannot stand|is not (?:a |an )?fan of"
_NOT = r"(?P<neg>no longer |does not |doesn't |is no longer )?"
_SLOTS: tuple[tuple[re.Pattern[str], str, bool], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), name, loose)
    for pattern, name, loose in (
        (rf"^{_SUBJECT}'s? (?:favou?rite|all-time favou?rite) (?P<q>[\w -]+?) (?:is|are) "
         r"(?P<v>.+)$", "favourite", False),
        (rf"^{_SUBJECT}'s? (?P<q>name|birthday|age|email(?: address)?|phone number|"
         r"hometown|job|occupation|profession|native language) is (?P<v>.+)$", "attr", False),
        (rf"^{_SUBJECT} {_NOT}(?:now )?(?:lives?|is living|is based|resides?) in (?P<v>.+)$",
         "home", False),
        (rf"^{_SUBJECT} (?:has )?moved to (?P<v>.+?)(?: (?:on|in) .*\d{{4}})?$", "home", False),
        (rf"^{_SUBJECT} {_NOT}(?:now )?works? (?:at|for) (?P<v>.+)$", "employer", False),
        (rf"^{_SUBJECT} {_NOT}(?:now )?works? as (?:an? )?(?P<v>.+)$", "occupation", False),
        (rf"^{_SUBJECT} is (?P<v>\d+) years old$", "age", False),
        (rf"^{_SUBJECT} wants to be called (?P<v>.+)$", "called", False),
        (rf"^{_SUBJECT} {_NOT}prefers? (?P<v>.+)$", "prefers", True),
    )
)  # fmt: skip
_FEELING = re.compile(
    rf"^{_SUBJECT} (?P<neg>does not |doesn't |no longer |never )?(?P<verb>{_LOVE}|{_HATE}) "
    r"(?P<o>.+)$",
    re.IGNORECASE,
)
_INSTRUCTION = re.compile(
    rf"^{_SUBJECT} wants (?P<who>.+?) (?P<mode>to always|to never|not to|to) (?P<body>.+)$",
    re.IGNORECASE,
)


def slot_of(text: str) -> Slot | None:
    """The single-valued slot ``text`` fills, or ``None`` when it fills none."""
    plain = _TAIL.sub("", text.strip().rstrip(".!").strip())
    feeling = _feeling(plain)
    if feeling is not None:
        return feeling
    instruction = _instruction(plain)
    if instruction is not None:
        return instruction
    for pattern, name, loose in _SLOTS:
        match = pattern.match(plain)
        if match:
            groups = match.groupdict()
            qualifier = (_norm(groups["q"]),) if "q" in groups else ()
            value = ("not " if groups.get("neg") else "") + _norm(match["v"])
            return Slot((_norm(match["s"]), name, *qualifier), value, loose)
    return None


def _feeling(text: str) -> Slot | None:
    match = _FEELING.match(text)
    if match is None:
        return None
    hates = re.fullmatch(_HATE, match["verb"], re.IGNORECASE) is not None
    negated = match["neg"] is not None
    polarity = "negative" if hates != negated else "positive"
    return Slot((_norm(match["s"]), "feels about", _norm(match["o"])), polarity)


def _instruction(text: str) -> Slot | None:
    match = _INSTRUCTION.match(text)
    if match is None:
        return None
    mode = match["mode"].lower()
    value = "never" if mode in ("to never", "not to") else "always"
    body = _norm(match["body"])
    return Slot((_norm(match["s"]), "instruction", _norm(match["who"]), body), value)


def _norm(text: str) -> str:
    return " ".join(_stem(w) for w in re.findall(r"[\w'-]+", text.lower()) if w not in ("the",))
