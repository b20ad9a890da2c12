"""Which entries say the same thing, across sections. Pure.

Two entries are the same when their bare contents are equal once normalised
(case, accents, punctuation and spacing ignored), or when one's content of at
least ``MIN_CONTAINED_WORDS`` words appears whole inside a higher-priority
entry's content — a memory "I prefer window seats" repeats the turn "Five days.
I prefer window seats", and so does a summary line quoting that turn. Each
entry gets the dedup text of the entry it repeats, so ``core.budget`` keeps
only the first of them that it places.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from mnemo.core.budget import normalise_for_dedup
from mnemo.orchestrator.result import ContextEntry

__all__ = ["MIN_CONTAINED_WORDS", "DedupKeys", "dedup_key"]

#: Shorter contents only match whole ("ok" must not vanish inside every turn).
MIN_CONTAINED_WORDS = 3


class DedupKeys:
    """Assigns dedup texts to entries offered in priority order (highest first)."""

    def __init__(self) -> None:
        self._exact: dict[str, str] = {}  # normalised content -> dedup text
        self._starts: list[int] = []  # where each earlier content starts in _joined
        self._keys: list[str] = []  # the dedup text of each earlier content
        self._joined = ""  # every earlier content, " a  b  c " (one search finds containers)

    def section(
        self, entries: Iterable[ContextEntry], *, containment: bool = True
    ) -> list[str | None]:
        """The dedup text of each entry of the next section (``None``: its own text);
        without ``containment`` only equal contents count as the same."""
        keys: list[str | None] = []
        mine: list[tuple[str, str]] = []
        for entry in entries:
            normalised = normalise_for_dedup(entry.content)
            if not normalised:
                keys.append(None)
                continue
            found = self._container(normalised) if containment else self._exact.get(normalised)
            key = found or entry.content
            keys.append(key)
            mine.append((normalised, key))
        for normalised, key in mine:
            self._exact.setdefault(normalised, key)
            self._starts.append(len(self._joined))
            self._keys.append(key)
            self._joined += f" {normalised} "
        return keys

    def _container(self, normalised: str) -> str | None:
        exact = self._exact.get(normalised)
        if exact is not None or normalised.count(" ") + 1 < MIN_CONTAINED_WORDS:
            return exact
        at = self._joined.find(f" {normalised} ")
        if at < 0:
            return None
        return self._keys[bisect.bisect_right(self._starts, at) - 1]


def dedup_key(entry: ContextEntry, dedup: str | None) -> str:
    """What ``core.budget`` compares for ``entry`` given its dedup text."""
    return normalise_for_dedup(entry.text if dedup is None else dedup)
