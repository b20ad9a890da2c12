"""Rewrite a first-person English clause in the third person.

"I love my dog" said by Alice becomes "Alice loves Alice's dog"; "you" becomes
whoever was addressed. Deliberately small: it knows the pronouns, the verbs that
follow "I" (and the verbs coordinated with them: "I love espresso and prefer
dark roast" → "... loves espresso and prefers dark roast") and the common
irregular forms, which is what the rules extractor produces. Pure string work.
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
    text = _conjugate_coordinated(text, past)
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


# --- verbs coordinated with the first one ("I love X and prefer Y") ---------------------

#: Base forms that are (almost) never a noun right after "and": conjugated wherever they
#: follow a coordinating word.
_VERBS = _words(
    "prefer enjoy like hate adore dislike detest want need own speak teach attend try hope "
    "wish know think believe feel keep make take give get go do have miss seem become buy "
    "bring build carry choose collect come consider eat find forget grow hear hold learn "
    "leave live lose meet mean pay remember say see sell send sit sleep spend stand stay "
    "tell understand wear avoid appreciate admire value follow "
    "support belong tend refuse manage continue begin start stop finish share raise "
    "don't haven't aren't"
)
#: Base forms that are just as often a noun ("I like music and dance"): conjugated only
#: when a word other than a conjunction follows them ("and play guitar") or an adverb
#: precedes them ("and also cook").
_NOUN_LIKE_VERBS = _words(
    "love work walk run play dance cook drink paint swim hike bike study travel read sing "
    "shop visit care help plan look watch call text fish garden ride climb ski surf skate "
    "train exercise practice practise use drive cycle bake sew knit coach volunteer mentor "
    "worry check hang email stream post film record jog row box fight fly camp dream "
    "listen talk chat rest relax nap host fix design code draw write act"
)
_CONJUNCTIONS = _words("and or but & nor")
#: Words that open a new clause with its own subject: coordination stops there.
_CLAUSE_STOP = re.compile(
    r"[.;:!?]|\b(?:I|he|she|they|we|who|whom|whose|which|that|because|when|whenever|if|"
    r"while|although|though|since|so|as|where|unless|until)\b",
    re.IGNORECASE,
)
_FIRST_VERB = re.compile(
    rf"\b[Ii](?:(?P<contraction>'m|'ve|'ll|'d)|(?P<adverbs>(?:\s+{_ADVERBS})*)\s+"
    r"(?P<verb>[A-Za-z']+))(?![\w'])"
)
_COORDINATED = re.compile(
    rf"(?:,\s*(?:(?:and|or|but)\s+)?|\s+(?:and|or|but|&)\s+(?:then\s+|also\s+)?)"
    rf"(?P<adverbs>(?:(?!do\b){_ADVERBS}\s+)*)(?P<verb>[a-z']+)(?![\w'])"
    r"(?:\s+(?P<next>[\w']+))?"
)
_INFINITIVE = re.compile(r"\bto\s+(?P<verb>[a-z]+)\b", re.IGNORECASE)
#: After these the coordinated verbs stay bare ("I can't swim or dance", "I'll call and
#: ask"); only a negation of their own is conjugated ("I can't swim and don't dance").
_BARE_AFTER = _MODALS | {"don't", "haven't", "aren't", "never", "not"}
_NEGATIONS = _words("don't haven't aren't")


def _conjugate_coordinated(text: str, past: bool) -> str:
    """``text`` with the verbs coordinated with a first-person verb in the third person.

    "I love espresso and prefer dark roast" → "I love espresso and prefers dark roast"
    (the first verb is left to :func:`third_person`). A verb after a modal stays bare
    ("I can swim and dance"), as does one continuing an infinitive ("I want to travel
    and see the world"); coordination stops at a new subject or clause.
    """
    edits: list[tuple[int, int, str]] = []
    for first in _FIRST_VERB.finditer(text):
        contraction, verb = first["contraction"], (first["verb"] or "").lower()
        bare = contraction in ("'ll", "'d") or verb in _BARE_AFTER
        after_past = past or is_past_form(verb)
        stop = _CLAUSE_STOP.search(text, first.end())
        tail_end = stop.start() if stop else len(text)
        since = first.end()  # where the words governed by the last finite verb start
        for match in _COORDINATED.finditer(text, first.end(), tail_end):
            word = match["verb"]
            if _INFINITIVE.search(text[since : match.start()]) and not _governs_no_infinitive(
                text[since : match.start()]
            ):
                continue
            if bare and word not in _NEGATIONS:
                continue
            if word in _NOUN_LIKE_VERBS:
                following = (match["next"] or "").lower()
                if not (match["adverbs"] or (following and following not in _CONJUNCTIONS)):
                    continue
            elif word not in _VERBS:
                continue
            form = third_person_singular(word, past=after_past)
            if form != word:
                edits.append((match.start("verb"), match.end("verb"), form))
            since = match.end("verb")
    for start, end, form in sorted(edits, reverse=True):
        text = text[:start] + form + text[end:]
    return text


def _governs_no_infinitive(span: str) -> bool:
    """Whether every "to" in ``span`` is a preposition ("go to the gym"), not "to travel"."""
    return all(
        found["verb"].lower() not in _VERBS and found["verb"].lower() not in _NOUN_LIKE_VERBS
        for found in _INFINITIVE.finditer(span)
    )
