"""An offline, rule-based entity extractor for conversation turns.

Used when no LLM is configured. It finds:

- **capitalised spans** — runs of capitalised words, joined through ``of``,
  ``the``, ``de``, ``&`` and a trailing number (``Bank of America``,
  ``Cyberpunk 2077``), plus acronyms (``LGBTQ``) and quoted titles. A single
  capitalised word that opens a sentence is kept only when it is known (a
  speaker, a person, an alias) or appears capitalised mid-sentence elsewhere
  in the text — sentence-initial common words ("Thanks", "Parenting") are not
  entities;
- **aliases** — a caller-given alias → canonical map (``Mel`` → ``Melanie``);
- **relations** — ``my sister Anna``, ``Anna is my sister``, ``X works at Y``,
  ``I live in Z``, ``I'm from Z``, ``I study at Y``, ``married to X``, as
  ``Relation(subject, predicate, object)`` triples, first person resolved to
  the speaker.

Each mention gets a coarse type — person, organisation, place or concept —
from cues: speakers and known people, titles (Dr, Mrs), kinship words,
organisation words (Inc, Ltd, University, Club), place words (City, Lake),
a small gazetteer of countries and large cities, a preposition of place
(``in/at/from/to <X>``), quotes (titles of works). Measured on a hand-labelled
LoCoMo sample: see ``docs/research/entities-offline.md``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["EntityExtraction", "EntityMention", "EntityType", "Relation", "extract_entities"]

EntityType = Literal["person", "organisation", "place", "concept"]


@dataclass(frozen=True, slots=True)
class EntityMention:
    """One occurrence of an entity: canonical ``name``, the surface forms seen
    that differ from it (``aliases``), ``span`` = (start, end) character offsets
    of the surface form in the text, and the sentence around it (``context``)."""

    name: str
    type: EntityType
    aliases: tuple[str, ...]
    span: tuple[int, int]
    context: str


@dataclass(frozen=True, slots=True)
class Relation:
    """A fact between two entities, e.g. ``Relation("Jon", "sister", "Anna")``."""

    subject: str
    predicate: str
    object: str


@dataclass(frozen=True, slots=True)
class EntityExtraction:
    """Everything found in one text, mentions in text order."""

    mentions: tuple[EntityMention, ...]
    relations: tuple[Relation, ...]

    def names(self) -> list[str]:
        """Distinct canonical names, in order of first mention."""
        return list(dict.fromkeys(m.name for m in self.mentions))


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NOT_NAMES = _words(
    # pronouns, determiners, auxiliaries, conjunctions, interjections, chat
    # acronyms: capitalised at a sentence start, never names on their own
    "I I'm I've I'd I'll Im Ive OK Ok Okay Oh Hey Hi Hello Yes Yeah Yep No Nope Wow Woah "
    "Thanks Thank Please Sorry Bye Haha Lol Omg Aww Awww Ah Hmm Cool Great Nice Awesome "
    "Mom Dad Mum Mommy Daddy Grandma Grandpa God Sir Madam Internet TV It It's Its They "
    "They're We We're We've You You're You've He He's She She's This That That's These "
    "Those There There's Here Here's What What's Who How How's Why When Where Which Is "
    "Are Was Were Do Does Did Can Can't Could Would Should Won't Don't Didn't Isn't Have "
    "Has Had Let Let's See Go Remember Check Look Guess Just So But And Or Even Also "
    "Still Then Now Maybe Plus Well Congrats Congratulations Woohoo Yay Absolutely "
    "Anytime Glad Cheers Sure Totally Definitely Indeed Agreed Right True Last Next Every "
    "Good Best Happy Dear The A An My Your Our His Her Their BTW FYI LOL OMG IMO TBH ASAP "
    "On In At During After Before Since From With For To Of Yo Yesterday Today Tonight "
    "Tomorrow Recently Lately Sometimes Usually Actually Honestly Anyway Besides Finally "
    "Luckily Hopefully Unfortunately Fortunately Apparently Basically Meanwhile Once"
)
_MONTHS_DAYS = _words(
    "Apr April Aug August Christmas Dec December Easter Feb February Fri Friday Jan "
    "January Jul July Jun June Mar March May Mon Monday Nov November Oct October Sat "
    "Saturday Sep Sept September Sun Sunday Thu Thur Thurs Thursday Tue Tues Tuesday Wed "
    "Wednesday"
)
_CONNECTORS = frozenset({"of", "the", "de", "du", "da", "del", "van", "von", "&"})
_COMPASS = _words("East Midwest North Northeast Northwest Pacific South Southeast Southwest West")
_TITLES = _words(
    "Aunt Auntie Coach Dame Dr Lady Lord Miss Mr Mrs Ms Officer Prof Professor Sir Uncle"
)
_ORG_WORDS = _words(
    "Academy Agency Association Bank Brigade Center Centre Charity Church Clinic Club Co "
    "College Committee Company Corp Corporation Council Department Federation Foundation "
    "GmbH Group Hospital Inc Institute LLC Labs League Ltd Ministry Network Party Press "
    "Records School Society Studio Studios Team Union University"
)
_PLACE_WORDS = _words(
    "Airport Ave Avenue Bay Beach Bridge Canyon City Coast County Desert Falls Forest "
    "Heights Hills Island Islands Lake Mount Mountain Mountains Park Province Rd River "
    "Road Square St State Station Street Town Valley Village"
)
_GAZETTEER = _words(
    "Africa Alaska America Amsterdam Argentina Arizona Asia Atlanta Austin Australia "
    "Austria Barcelona Beijing Belgium Berlin Boston Brazil Britain Brooklyn California "
    "Canada Carolina Chicago Chile China Colombia Colorado Copenhagen Dallas Denmark "
    "Denver Dublin Egypt England Europe Finland Florida France Georgia Germany Greece "
    "Hawaii Hollywood Houston India Indonesia Iran Iraq Ireland Israel Italy Japan Kenya "
    "Korea LA Lisbon London Madrid Manhattan Massachusetts Mexico Miami Michigan Montana "
    "Morocco Munich NYC Netherlands Nevada Nigeria Norway Ohio Oregon Oslo Pakistan Paris "
    "Peru Philippines Phoenix Poland Portland Portugal Prague Rome Russia Scotland "
    "Seattle Singapore Spain Stockholm Sweden Switzerland Sydney Texas Thailand Tokyo "
    "Toronto Turkey UK US USA Ukraine Utah Vancouver Vienna Vietnam Virginia Wales "
    "Washington"
)
_KINSHIP = (
    "sister|brother|mom|mother|mum|dad|father|wife|husband|partner|girlfriend|boyfriend|"
    "fiance|fiancee|friend|best friend|boss|manager|colleague|coworker|roommate|neighbor|"
    "neighbour|son|daughter|kid|cousin|aunt|uncle|grandma|grandmother|grandpa|grandfather|"
    "niece|nephew|teacher|coach|mentor|dog|cat|puppy|kitten|pet"
)
_PLACE_PREPOSITIONS = frozenset({"in", "at", "from", "to", "near", "visited", "visit", "around"})

_NAME = r"[A-Z][\w'’-]*(?:(?:\s+(?:of|the|de|&))*\s+(?:[A-Z][\w'’-]*|\d+))*"
_WORD_RE = re.compile(r"[A-Za-z][\w'’-]*|\d+|&")
_ACRONYM = re.compile(r"^[A-Z]{2,}[0-9]*$")
_QUOTED = re.compile(r"[\"“]([A-Z][^\"”\n]{0,60})[\"”]")
_SENTENCE_START = re.compile(r"(?:^|[.!?…:;\n\"“(])$")
_POSSESSIVE = re.compile(r"['’]s$")
_PRONOUN_I = re.compile(r"^I(?:['’](?:m|ll|ve|d))?$")
_WORK_NOUNS = _words(
    "album albums book books concert fan fans film films franchise game games movie "
    "movies novel novels parties party saga series show shows song songs tour universe"
)
_NAMING = re.compile(r"\b(?:name is|named|name's|call (?:him|her)|called (?:him|her))\s*$", re.I)
_FIRST_PERSON = re.compile(r"^(?:I|me|my|myself)$", re.IGNORECASE)

_RELATION_PATTERNS: tuple[tuple[re.Pattern[str], str | None, str], ...] = (
    # (pattern, fixed predicate or None to use the kin word, object's type)
    (re.compile(rf"\b(?P<subj>[Mm]y|{_NAME}['’]s)\s+(?P<kin>{_KINSHIP}),?\s+(?P<obj>{_NAME})"),
     None, "person"),
    (re.compile(rf"\b(?P<obj>{_NAME})\s+is\s+(?P<subj>my|{_NAME}['’]s)\s+(?P<kin>{_KINSHIP})\b"),
     None, "person"),
    (re.compile(rf"\b(?P<subj>I|{_NAME})\s+(?:work|works|worked|am working|is working)\s+"
                rf"(?:at|for)\s+(?:the\s+)?(?P<obj>{_NAME})"), "works_at", "organisation"),
    (re.compile(rf"\b(?P<subj>I|{_NAME})\s+(?:study|studies|studied|am studying)\s+at\s+"
                rf"(?:the\s+)?(?P<obj>{_NAME})"), "studies_at", "organisation"),
    (re.compile(rf"\b(?P<subj>I|{_NAME})\s+(?:live|lives|lived|am living|moved)\s+(?:in|to)\s+"
                rf"(?P<obj>{_NAME})"), "lives_in", "place"),
    (re.compile(rf"\b(?P<subj>I|{_NAME})\s*(?:'m|’m| am| is| was| were)\s+(?:originally\s+)?"
                rf"from\s+(?P<obj>{_NAME})"), "from", "place"),
    (re.compile(rf"\b(?P<subj>I|{_NAME})\s*(?:'m|’m| am| is| got| was)\s+married\s+to\s+"
                rf"(?P<obj>{_NAME})"), "married_to", "person"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int
    text: str
    sentence_initial: bool
    quoted: bool = False


def extract_entities(
    text: str,
    *,
    speaker: str | None = None,
    known_people: Collection[str] = (),
    aliases: Mapping[str, str] | None = None,
    known_names: Collection[str] = (),
) -> EntityExtraction:
    """Entity mentions and relations found in ``text`` (pure, deterministic).

    ``speaker`` resolves first-person relations ("my sister Anna" →
    ``Relation(speaker, "sister", "Anna")``; ``"I"`` when no speaker is given).
    ``known_people`` (e.g. the conversation's speakers) are typed as persons and
    found even at the start of a sentence. ``aliases`` maps a surface form to
    its canonical name; the mention then carries the canonical name with the
    surface form in ``aliases``. ``known_names`` (names a memory already holds)
    are also found at the start of a sentence, without implying a type; one
    that would not pass as a name mid-sentence ("That") is ignored.
    """
    alias_map = dict(aliases or {})
    people = {*known_people, *([speaker] if speaker else [])}
    relations, relation_types = _relations(text, speaker, alias_map)
    names = {n for n in known_names if n and _is_entity(_Span(0, len(n), n, False), set())}
    known = people | set(alias_map) | set(relation_types) | names
    capitalised = list(_capitalised_spans(text))
    mid_sentence = {s.text for s in capitalised if not s.sentence_initial and _is_entity(s, set())}
    mentions = []
    for span in _candidate_spans(text, capitalised, known | mid_sentence):
        name = alias_map.get(span.text, span.text)
        kind = relation_types.get(span.text) or _guess_type(text, span, name, people, alias_map)
        surface = () if name == span.text else (span.text,)
        context = _sentence_around(text, span.start, span.end)
        mentions.append(EntityMention(name, kind, surface, (span.start, span.end), context))
    return EntityExtraction(tuple(mentions), relations)


def _candidate_spans(text: str, capitalised: list[_Span], known: set[str]) -> Iterator[_Span]:
    """Capitalised spans that look like names, quoted titles and known aliases."""
    seen: set[tuple[int, int]] = set()
    spans = [*_quoted_spans(text), *capitalised, *_alias_spans(text, known)]
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if any(a <= span.start < b for a, b in seen):
            continue
        if _is_entity(span, known):
            seen.add((span.start, span.end))
            yield span


def _is_entity(span: _Span, known: set[str]) -> bool:
    words = span.text.split()
    if span.text in known or span.quoted:
        return True
    if len(span.text) < 2 or all(w in _NOT_NAMES or w in _MONTHS_DAYS for w in words):
        return False
    if span.text.isupper():
        # Acronyms (LGBTQ, NYC) are names; shouting ("SO EXCITED") is not.
        return len(words) == 1 and (len(span.text) <= 5 or any(c.isdigit() for c in span.text))
    # A lone capitalised word opening a sentence is usually just a sentence start.
    return not (span.sentence_initial and len(words) == 1)


def _capitalised_spans(text: str) -> Iterator[_Span]:
    words = list(_WORD_RE.finditer(text))
    i = 0
    while i < len(words):
        if not _starts_name(words[i].group()):
            i += 1
            continue
        j = _extend_name(words, i, text)
        start, end = words[i].start(), words[j].end()
        yield from _trimmed(text, start, end)
        i = j + 1


def _starts_name(word: str) -> bool:
    return word[0].isupper() and not _PRONOUN_I.match(word)


def _extend_name(words: list[re.Match[str]], i: int, text: str) -> int:
    """Index of the last word of the capitalised run starting at ``i``; up to two
    connectors may join capitalised words ("Lord of the Rings")."""
    j = i
    while j + 1 < len(words) and _adjacent(text, words[j], words[j + 1]):
        nxt = words[j + 1].group()
        if _starts_name(nxt) or (nxt.isdigit() and j == i):
            j += 1
            continue
        k = j + 1
        while k < len(words) and k - j <= 2 and words[k].group() in _CONNECTORS:
            k += 1
        joined = all(
            _adjacent(text, words[m], words[m + 1]) for m in range(j, min(k, len(words) - 1))
        )
        if k > j + 1 and k < len(words) and _starts_name(words[k].group()) and joined:
            j = k
        else:
            break
    return j


def _adjacent(text: str, left: re.Match[str], right: re.Match[str]) -> bool:
    """Only spaces between two words (no punctuation breaks a name)."""
    return text[left.end() : right.start()].strip(" ") == ""


def _trimmed(text: str, start: int, end: int) -> Iterator[_Span]:
    """Drop common leading words ("Hey John" → "John") and a possessive ``'s``."""
    while True:
        head = re.match(r"\S+", text[start:end])
        first = head.group() if head else ""
        rest = text[start + len(first) : end]
        opening_gerund = first.endswith("ing") and _SENTENCE_START.search(text[:start].rstrip())
        if not rest.strip() or not (first in _NOT_NAMES or first in _MONTHS_DAYS or opening_gerund):
            break
        start += len(first) + len(rest) - len(rest.lstrip())
    surface = _POSSESSIVE.sub("", text[start:end]).rstrip("-'’")
    if surface:
        before = text[:start].rstrip()
        after_title = before.endswith(".") and before[:-1].split()[-1:] in ([t] for t in _TITLES)
        initial = bool(_SENTENCE_START.search(before)) and not after_title
        yield _Span(start, start + len(surface), surface, initial)


def _quoted_spans(text: str) -> Iterator[_Span]:
    for match in _QUOTED.finditer(text):
        title = match.group(1).strip().rstrip(".,!?")
        if title and len(title.split()) <= 8:
            yield _Span(match.start(1), match.start(1) + len(title), title, False, quoted=True)


def _alias_spans(text: str, known: set[str]) -> Iterator[_Span]:
    """Known names and aliases anywhere, case-sensitively, on word boundaries."""
    for name in sorted(known, key=len, reverse=True):
        if not name:
            continue
        for match in re.finditer(rf"(?<![\w]){re.escape(name)}(?![\w])", text):
            yield _Span(match.start(), match.end(), name, False)


def _guess_type(
    text: str, span: _Span, name: str, people: set[str], alias_map: Mapping[str, str]
) -> EntityType:
    words = span.text.split()
    before = text[: span.start].rstrip()
    prev_word = before.split()[-1].strip(".,").lower() if before.split() else ""
    next_word = (
        text[span.end :].split(maxsplit=1)[0].strip(".,!?").lower()
        if text[span.end :].split()
        else ""
    )
    if name in people or span.text in alias_map or _title_before(before):
        return "person"
    if words[-1] in _ORG_WORDS or (words[0] in _ORG_WORDS and "of" in words):
        return "organisation"
    if words[-1] in _PLACE_WORDS or span.text in _GAZETTEER or words[0] in _COMPASS:
        return "place"
    quoted = text[span.start - 1 : span.start] in {'"', "“"}
    if quoted or _ACRONYM.match(span.text) or next_word in _WORK_NOUNS:
        return "concept"
    if prev_word in _PLACE_PREPOSITIONS:
        return "place"
    if _vocative(text, span) or _NAMING.search(before) or _looks_like_full_name(words):
        return "person"
    return "concept"


def _title_before(before: str) -> bool:
    last = before.split()[-1].rstrip(".") if before.split() else ""
    return last in _TITLES


def _vocative(text: str, span: _Span) -> bool:
    """Addressed by name: "Thanks, Maria!", "Hey John", "Yeah Mel,", "Maria, since"."""
    after = text[span.end : span.end + 1]
    before = text[: span.start].rstrip()
    prev_word = before.split()[-1].strip(",") if before.split() else ""
    greeted = before.endswith(",") or prev_word in _NOT_NAMES or prev_word.lower() in {
        "hey", "hi", "hello", "thanks", "bye", "dear", "go", "yeah", "yes", "congrats"
    }  # fmt: skip
    if span.sentence_initial and not greeted:
        return after == ","
    return greeted and after in {",", "!", ".", "?", ""}


def _looks_like_full_name(words: list[str]) -> bool:
    return len(words) == 2 and all(w.isalpha() and w[1:].islower() for w in words)


def _relations(
    text: str, speaker: str | None, alias_map: Mapping[str, str]
) -> tuple[tuple[Relation, ...], dict[str, EntityType]]:
    """Relation triples, and the type each relation implies for its object."""
    found: list[Relation] = []
    types: dict[str, EntityType] = {}
    for pattern, predicate, object_type in _RELATION_PATTERNS:
        for match in pattern.finditer(text):
            obj = _clean_name(match.group("obj"))
            if not obj or obj in _NOT_NAMES:
                continue
            subject = _resolve_subject(match.group("subj"), speaker, alias_map)
            relation_name = predicate or match.group("kin").lower().replace(" ", "_")
            found.append(Relation(subject, relation_name, alias_map.get(obj, obj)))
            types[obj] = object_type  # type: ignore[assignment]
    return tuple(dict.fromkeys(found)), types


def _resolve_subject(subject: str, speaker: str | None, alias_map: Mapping[str, str]) -> str:
    cleaned = _clean_name(subject)
    if _FIRST_PERSON.match(subject):
        return speaker or "I"
    return alias_map.get(cleaned, cleaned)


def _clean_name(name: str) -> str:
    """A matched name without a possessive or trailing number-less junk."""
    return _POSSESSIVE.sub("", name.strip())


def _sentence_around(text: str, start: int, end: int, limit: int = 240) -> str:
    left = max(text.rfind(mark, 0, start) for mark in (". ", "! ", "? ", "\n"))
    right_candidates = [i for i in (text.find(m, end) for m in (". ", "! ", "? ", "\n")) if i >= 0]
    right = min(right_candidates) + 1 if right_candidates else len(text)
    sentence = text[left + 1 if left >= 0 else 0 : right].strip()
    return sentence if len(sentence) <= limit else sentence[:limit].rstrip() + "…"
