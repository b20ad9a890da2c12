"""Rewrite a first-person English clause in the third person.

"I love my dog" said by Alice becomes "Alice loves Alice's dog"; "you" becomes
whoever was addressed. Deliberately small: it knows the pronouns, the verbs that
follow "I" and the common irregular forms, which is what the rules extractor
produces. Pure string work.
"""

from __future__ import annotations

import re

__all__ = [
    "IRREGULAR_PAST",
    "is_past_form",
    "possessive",
    "third_person",
    "third_person_singular",
]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_MODALS = _words(
    "will would can could should shall may might must can't cannot couldn't wouldn't "
    "shouldn't won't didn't wasn't used"
)
#: Past forms (kept as they are) — the irregular ones; regular ones end in -ed.
IRREGULAR_PAST = _words(
    "was were had did got went made saw took came found gave told felt left bought met ran "
    "wrote began brought thought taught kept knew said sent spent won lost heard held built "
    "caught chose drew drove ate fell flew forgot grew hid hung led lent lit meant paid rode "
    "rang rose sang sat slept sold spoke stood stole swam threw understood woke wore became "
    "broke bit blew fought forgave froze dug fed sought shot shook sank stuck struck swore "
    "swept tore wept wound overcame undertook"
)
#: Present forms that merely end in -ed.
_PRESENT_IN_ED = _words(
    "need feed bleed breed speed proceed succeed exceed shred wed embed heed seed weed"
)
#: Forms that are both present and past; left alone when the clause is in the past.
_AMBIGUOUS = _words("read hit hurt cut put set let quit shut spread cost bet")
_IRREGULAR_3RD = {
    "am": "is", "'m": "is", "have": "has", "do": "does", "go": "goes", "don't": "doesn't",
    "haven't": "hasn't", "be": "is", "are": "is", "aren't": "isn't",
}  # fmt: skip
_ADVERBS = (
    r"(?:(?!(?:fly|rely|reply|apply|supply|imply|comply|multiply|bully)\b)\w{2,}ly|just|also|"
    r"still|never|always|even|only|often|sometimes|already|ever|too|kind of|sort of|do|now|"
    r"then|both|all|recently)"
)

_I_VERB = re.compile(rf"\b[Ii]((?:\s+{_ADVERBS})*)\s+([A-Za-z']+)(?![\w'])")
_CONTRACTIONS = [
    (re.compile(r"\b[Ii]'m\b"), "{s} is"),
    (re.compile(r"\b[Ii]'ve\b"), "{s} has"),
    (re.compile(r"\b[Ii]'ll\b"), "{s} will"),
    (re.compile(r"\b[Ii]'d(?=\s+(?:been|gone|done|had|never|already|just|seen)\b)"), "{s} had"),
    (re.compile(r"\b[Ii]'d\b"), "{s} would"),
    (re.compile(r"\b[Ww]e're\b"), "{w} are"),
    (re.compile(r"\b[Ww]e've\b"), "{w} have"),
    (re.compile(r"\b[Ww]e'll\b"), "{w} will"),
    (re.compile(r"\b[Ww]e'd\b"), "{w} would"),
    (re.compile(r"\b[Yy]ou're\b"), "{a} is"),
    (re.compile(r"\b[Yy]ou've\b"), "{a} has"),
    (re.compile(r"\b[Yy]ou'll\b"), "{a} will"),
    (re.compile(r"\b[Yy]ou'd\b"), "{a} would"),
    (re.compile(r"\b[Yy]ou are\b"), "{a} is"),
    (re.compile(r"\b[Yy]ou were\b"), "{a} was"),
    (re.compile(r"\b[Yy]ou have\b"), "{a} has"),
]
_WORDS = [
    (re.compile(r"\b(?:[Mm]yself)\b"), "themself"),
    (re.compile(r"\b(?:[Mm]y|[Mm]ine)\b"), "{s_pos}"),
    (re.compile(r"\b[Mm]e\b"), "{s}"),
    (re.compile(r"\b[Oo]urselves\b"), "themselves"),
    (re.compile(r"\b(?:[Oo]ur|[Oo]urs)\b"), "{s_pos}"),
    (re.compile(r"\b[Ww]e\b"), "{w}"),
    (re.compile(r"\b[Uu]s\b"), "{w}"),
    (re.compile(r"\b[Yy]ourself\b"), "{a}"),
    (re.compile(r"\b(?:[Yy]our|[Yy]ours)\b"), "{a_pos}"),
    (re.compile(r"\b[Yy]ou\b"), "{a}"),
    (re.compile(r"\b[Ii]\b(?!\.)"), "{s}"),
]


def third_person(
    text: str, speaker: str, addressee: str | None = None, *, past: bool = False
) -> str:
    """``text`` with first-person words turned into ``speaker`` and "you" into ``addressee``.

    ``past`` keeps forms such as "read" or "put" as they are after "I" (they are
    past tense there) instead of conjugating them ("reads").
    """
    names = {
        "s": speaker,
        "s_pos": possessive(speaker),
        "w": f"{speaker} and others",
        "a": addressee or "you",
        "a_pos": possessive(addressee) if addressee else "your",
    }
    text = text.replace("\u2019", "'")
    for pattern, template in _CONTRACTIONS:
        text = pattern.sub(template.format(**names), text)
    text = _I_VERB.sub(lambda m: _conjugated(m, speaker, past), text)
    for pattern, template in _WORDS:
        text = pattern.sub(template.format(**names), text)
    return text[:1].upper() + text[1:]


def possessive(name: str) -> str:
    """``"Alice"`` → ``"Alice's"``."""
    return f"{name}'s"


def third_person_singular(verb: str, *, past: bool = False) -> str:
    """The form of ``verb`` that follows "she": love → loves, go → goes, study → studies.

    Modals, past forms and (with ``past``) present/past look-alikes are returned unchanged.
    """
    low = verb.lower()
    if low in _IRREGULAR_3RD:
        return _IRREGULAR_3RD[low]
    if low in _MODALS or is_past_form(low) or (past and low in _AMBIGUOUS):
        return verb
    if "'" in low or not low.isalpha():
        return verb
    if low.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if low.endswith("y") and len(low) > 1 and low[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def is_past_form(verb: str) -> bool:
    """Whether ``verb`` is a simple-past form ("went", "adopted"; not "need")."""
    low = verb.lower()
    return low in IRREGULAR_PAST or (low.endswith("ed") and low not in _PRESENT_IN_ED)


def _conjugated(match: re.Match[str], speaker: str, past: bool) -> str:
    adverbs, verb = match.group(1), match.group(2)
    if adverbs.split()[-1:] == ["do"]:  # emphatic "I do love" → "Alice does love"
        return f"{speaker}{adverbs[: adverbs.rfind('do')]}does {verb}"
    return f"{speaker}{adverbs} {third_person_singular(verb, past=past)}"
