"""Evidence recall: for a question, the fraction of its evidence turns among the first k.

A run is reported as the mean over questions (each weighs the same), overall and per
category.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from mnemo.evaluation.dataset import LOCOMO_CATEGORIES, Question

__all__ = ["DEFAULT_KS", "RecallReport", "category_order", "evaluate", "recall_at_k"]

#: Cut-offs reported by default.
DEFAULT_KS: tuple[int, ...] = (5, 10)
_LOCOMO_ORDER = {name: number for number, name in LOCOMO_CATEGORIES.items()}


def recall_at_k(ranked: Sequence[str], evidence: Iterable[str], k: int) -> float:
    """Fraction of ``evidence`` ids found among the first ``k`` of ``ranked``."""
    wanted = set(evidence)
    if not wanted:
        raise ValueError("recall is undefined for a question without evidence")
    return len(wanted.intersection(ranked[:k])) / len(wanted)


def category_order(name: str) -> tuple[int, str]:
    """Sort key: LoCoMo's categories in their numbering, then the others by name."""
    return (_LOCOMO_ORDER.get(name, len(_LOCOMO_ORDER) + 1), name)


@dataclass(frozen=True, slots=True)
class RecallReport:
    """Mean recall@k over questions, overall and per category (``{category: {k: r}}``)."""

    ks: tuple[int, ...]
    questions: int
    overall: dict[int, float]
    by_category: dict[str, dict[int, float]]
    category_counts: dict[str, int] = field(default_factory=dict)

    def summary(self, label: str = "") -> str:
        """One line, e.g. ``"bm25  @5 0.412 @10 0.511 | multi-hop 0.300/0.402 ..."``."""
        head = " ".join(f"@{k} {self.overall[k]:.3f}" for k in self.ks)
        cats = " ".join(
            f"{name} " + "/".join(f"{scores[k]:.3f}" for k in self.ks)
            for name, scores in self.by_category.items()
        )
        return f"{label}  {head} | {cats}".strip()


def evaluate(
    results: Iterable[tuple[Question, Sequence[str]]], ks: Sequence[int] = DEFAULT_KS
) -> RecallReport:
    """Score ``(question, ranked ids)`` pairs; each question weighs the same."""
    ks = tuple(ks)
    sums: dict[str, dict[int, float]] = {}
    counts: dict[str, int] = {}
    for question, ranked in results:
        per_k = sums.setdefault(question.category, dict.fromkeys(ks, 0.0))
        for k in ks:
            per_k[k] += recall_at_k(ranked, question.evidence, k)
        counts[question.category] = counts.get(question.category, 0) + 1
    total = sum(counts.values())
    overall = {k: (sum(s[k] for s in sums.values()) / total if total else 0.0) for k in ks}
    names = sorted(sums, key=category_order)
    return RecallReport(
        ks=ks,
        questions=total,
        overall=overall,
        by_category={c: {k: sums[c][k] / counts[c] for k in ks} for c in names},
        category_counts={c: counts[c] for c in names},
    )
