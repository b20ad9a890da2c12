"""An offline, extractive, progressive summariser for conversation turns.

Used when no LLM is configured. The summary is a list of lines, one sentence
each, attributed and dated::

    [8 May 2023] Caroline: I went to a LGBTQ support group yesterday.

:func:`summarize_progressive` takes the previous summary and the turns being
folded in, and returns the new summary within a token limit. Every line of
the previous summary and every sentence of the new turns competes on:

- *centrality* — mean TF-IDF cosine similarity to the other candidates (the
  LexRank degree idea: what the conversation keeps coming back to);
- *informativeness* — summed IDF of its content words, damped by length;
- cues — numbers and dates, capitalised names, first-person statements
  (plus); questions, replies about the other person and near-empty chit-chat
  (minus).

Lines are picked greedily by score, skipping near-repeats of a picked line,
until the limit; the output keeps chronological order (surviving old lines
first). Deterministic: ties break by position.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mnemo.core.tokens import TokenCounter, default_token_counter
from mnemo.errors import InvalidInput

__all__ = ["SummaryTurn", "split_sentences", "summarize_progressive"]

REDUNDANCY_THRESHOLD = 0.6
# Old lines already won a selection; a small edge keeps the summary stable
# without freezing it (new, central content still displaces them).
PREVIOUS_LINE_WEIGHT = 1.25

_STOPWORD_TEXT = (
    "a about above after again all also am an and any are as at be because been before "
    "being below between both but by can could did do does doing don't down during each "
    "even ever few for from further get got had has have having he her here hers herself "
    "him himself his how i i'm i've i'd i'll if in into is it it's its itself just know "
    "let's like lot me more most much my myself no nor not now of off oh ok okay on once "
    "only or other our ours ourselves out over own pretty really same she should so some "
    "such than that that's the their theirs them themselves then there these they this "
    "those through to too under until up us very was we we're were what what's when where "
    "which while who whom why will with would yeah yes you you're your yours yourself "
    "yourselves thanks thank wow hey hi great awesome cool amazing glad sure totally "
    "definitely gonna wanna lol haha hmm"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_ABBREVIATIONS = ("Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "St.", "Jr.", "Sr.", "e.g.", "i.e.", "vs.")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|\n+")
_FILLER_START = re.compile(
    r"^(?:(?:wow|yeah|yes|yep|oh|hey|hi|hello|well|so|haha|lol|thanks|thank you|ok|okay|"
    r"cool|awesome|great|nice|omg|aww|ah|hmm|totally|definitely)\b[\s,!.…-]*)+",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
_NUMBER_OR_DATE = re.compile(
    r"\b\d+\b|\b(?:january|february|march|april|june|july|august|september|october|"
    r"november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"yesterday|tomorrow|last (?:week|month|year|weekend)|next (?:week|month|year))\b",
    re.IGNORECASE,
)
_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I've|my|we|our|me)\b", re.IGNORECASE)
_SECOND_PERSON = re.compile(r"\b(?:you|your|you're|you've)\b", re.IGNORECASE)
_LINE_PREFIX = re.compile(
    r"^(?:\[(?P<when>[^\]]+)\]\s*)?(?P<speaker>[^:\n]{1,60}):\s+(?P<body>.+)$"
)


@dataclass(frozen=True, slots=True)
class SummaryTurn:
    """One turn to fold in: who spoke, what they said, and optionally when
    (a human-readable date label kept in the summary, e.g. ``"8 May 2023"``)."""

    speaker: str
    text: str
    when: str | None = None


@dataclass(frozen=True, slots=True)
class _Candidate:
    line: str
    body: str
    position: int
    words: tuple[str, ...]
    previous: bool


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (on ., !, ?, … before a capital or digit, and on
    line breaks), not splitting after common abbreviations such as ``Dr.``."""
    protected = text
    for abbreviation in _ABBREVIATIONS:
        protected = protected.replace(abbreviation, abbreviation.replace(".", "\x00"))
    parts = _SENTENCE_END.split(protected)
    return [s.replace("\x00", ".").strip() for s in parts if s and s.strip()]


def _content_words(text: str) -> tuple[str, ...]:
    words = (w.lower().replace("’", "'") for w in _WORD.findall(text))
    return tuple(_stem(w) for w in words if w not in _STOPWORDS and len(w) > 1)


def _stem(word: str) -> str:
    """A light suffix strip so "group"/"groups", "paint"/"painting" meet."""
    for suffix in ("'s", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _format_line(speaker: str, sentence: str, when: str | None) -> str:
    prefix = f"[{when}] " if when else ""
    return f"{prefix}{speaker}: {sentence}"


def _candidates(previous: str, turns: Sequence[SummaryTurn]) -> list[_Candidate]:
    """Old summary lines then new sentences, in chronological order."""
    out: list[_Candidate] = []
    for line in (ln.strip() for ln in previous.splitlines()):
        if line:
            match = _LINE_PREFIX.match(line)
            body = match.group("body") if match else line
            out.append(_Candidate(line, body, len(out), _content_words(body), True))
    for turn in turns:
        for sentence in split_sentences(turn.text):
            body = _FILLER_START.sub("", sentence).strip()
            if body:
                body = body[0].upper() + body[1:]
                line = _format_line(turn.speaker, body, turn.when)
                out.append(_Candidate(line, body, len(out), _content_words(body), False))
    return out


def _tfidf(candidates: Sequence[_Candidate]) -> tuple[np.ndarray, dict[str, float]]:
    """Row-normalised TF-IDF matrix over candidates, and the IDF of each word."""
    vocabulary = sorted({w for c in candidates for w in c.words})
    column = {w: i for i, w in enumerate(vocabulary)}
    frequency = Counter(w for c in candidates for w in set(c.words))
    n = len(candidates)
    idf = {w: math.log((1 + n) / (1 + frequency[w])) + 1.0 for w in vocabulary}
    matrix = np.zeros((n, len(vocabulary)))
    for row, cand in enumerate(candidates):
        for word, tf in Counter(cand.words).items():
            matrix[row, column[word]] = tf * idf[word]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms), idf


def _scores(
    candidates: Sequence[_Candidate], matrix: np.ndarray, idf: dict[str, float]
) -> list[float]:
    n = len(candidates)
    similarity = matrix @ matrix.T
    centrality = (similarity.sum(axis=1) - np.diag(similarity)) / max(1, n - 1)
    top_centrality = float(centrality.max()) or 1.0
    info = [sum(idf[w] for w in set(c.words)) / math.sqrt(1 + len(c.words)) for c in candidates]
    top_info = max(info) or 1.0
    scores = []
    for cand, cent, inf in zip(candidates, centrality, info, strict=True):
        score = 0.5 * float(cent) / top_centrality + 0.5 * inf / top_info
        if cand.previous:
            score *= PREVIOUS_LINE_WEIGHT
        scores.append(score * _cue_factor(cand))
    return scores


def _cue_factor(cand: _Candidate) -> float:
    """Multiplier from surface cues: facts with names and dates up, chit-chat down."""
    factor = 1.0
    if _NUMBER_OR_DATE.search(cand.body):
        factor *= 1.2
    if re.search(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]+", cand.body):
        factor *= 1.1
    if cand.body.rstrip().endswith("?"):
        factor *= 0.5
    if _FIRST_PERSON.search(cand.body):
        factor *= 1.15  # the speaker telling about themselves: where facts are
    elif _SECOND_PERSON.search(cand.body):
        factor *= 0.7  # replies about the other person: mostly compliments
    if len(cand.words) < 3:
        factor *= 0.3
    return factor


def summarize_progressive(
    previous_summary: str,
    turns: Sequence[SummaryTurn],
    max_tokens: int,
    *,
    counter: TokenCounter | None = None,
) -> str:
    """The previous summary with ``turns`` folded in, at most ``max_tokens`` tokens.

    One line per kept sentence (``[when] speaker: sentence``), chronological.
    Lines of ``previous_summary`` in that format keep their attribution; other
    text in it is kept line by line. The result is deterministic, and its
    token count by ``counter`` (default: :func:`default_token_counter`) never
    exceeds ``max_tokens``.
    """
    if max_tokens < 0:
        raise InvalidInput("max_tokens must be >= 0")
    counter = counter or default_token_counter()
    candidates = _candidates(previous_summary, turns)
    if not candidates or max_tokens == 0:
        return ""
    matrix, idf = _tfidf(candidates)
    scores = _scores(candidates, matrix, idf)
    picked = _pick(candidates, scores, matrix, max_tokens, counter)
    return _fit("\n".join(candidates[i].line for i in sorted(picked)), max_tokens, counter)


def _pick(
    candidates: Sequence[_Candidate],
    scores: Sequence[float],
    matrix: np.ndarray,
    max_tokens: int,
    counter: TokenCounter,
) -> list[int]:
    """Best-scored lines that fit, skipping near-repeats of lines already picked."""
    order = sorted(range(len(candidates)), key=lambda i: (-scores[i], i))
    picked: list[int] = []
    used = 0
    for index in order:
        cost = counter.count(candidates[index].line) + 1
        if used + cost > max_tokens:
            continue
        if picked and float((matrix[picked] @ matrix[index]).max()) > REDUNDANCY_THRESHOLD:
            continue
        picked.append(index)
        used += cost
    return picked


def _fit(text: str, max_tokens: int, counter: TokenCounter) -> str:
    """Drop trailing lines while the joined text is over the limit (BPE merges)."""
    lines = text.split("\n")
    while lines and counter.count("\n".join(lines)) > max_tokens:
        lines.pop()
    return "\n".join(lines)
