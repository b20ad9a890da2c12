"""Consolidation: near-duplicate memories of a user are folded into one.

:func:`plan_merges` finds, among the user's current memories of the same kind
and embedding model, each memory that says nothing another one does not (the
same checks as reconciliation: :func:`mnemo.lifecycle.statements.same_statement`
at ``consolidate_similarity``) and picks what it merges into: the most similar
such memory, never one already merged away. Less valuable memories are merged
first (unpinned, least important, least read, newest), so the survivor of a
group is its most valuable member; pinned memories are never merged away.

The optimizer applies a plan with ``LifecycleStore.merge``: the survivor keeps
its content and gains the provenance, reads and best confidence/importance of
the others, which leave ``merge`` events holding what they were.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mnemo.lifecycle.statements import SimilarityRules, Statement, analyse, same_statement
from mnemo.store.postgres.lifecycle import UpkeepRow

__all__ = ["MergeGroup", "MergedMemory", "plan_merges"]


@dataclass(frozen=True, slots=True)
class MergedMemory:
    """A memory folded into a survivor, and its cosine to what it merged into."""

    memory_id: str
    content: str
    similarity: float


@dataclass(frozen=True, slots=True)
class MergeGroup:
    """One survivor and the memories folded into it."""

    survivor_id: str
    survivor_content: str
    merged: tuple[MergedMemory, ...]


def plan_merges(rows: Sequence[UpkeepRow], rules: SimilarityRules) -> list[MergeGroup]:
    """The merges that would leave no near-duplicates among ``rows``."""
    by_kind: dict[tuple[str, str | None], list[UpkeepRow]] = defaultdict(list)
    for row in rows:
        if row.embedding is not None:
            by_kind[(row.kind, row.embedding_model)].append(row)
    groups: list[MergeGroup] = []
    for members in by_kind.values():
        if len(members) > 1:
            groups.extend(_merges_within(members, rules))
    return groups


def _merges_within(rows: list[UpkeepRow], rules: SimilarityRules) -> list[MergeGroup]:
    ordered = sorted(rows, key=_value)  # least valuable first
    vectors = np.asarray([r.embedding for r in ordered], dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    cosines = vectors @ vectors.T
    statements = [analyse(r.content) for r in ordered]
    into: dict[int, tuple[int, float]] = {}
    for i, row in enumerate(ordered):
        if row.pinned:
            continue
        target = _best_target(i, cosines[i], statements, rules)
        if target is not None:
            into[i] = target
    return _groups(ordered, into)


def _best_target(
    i: int, cosines: np.ndarray, statements: list[Statement], rules: SimilarityRules
) -> tuple[int, float] | None:
    """The most similar more valuable memory that ``i`` duplicates, with the cosine."""
    for j in map(int, np.argsort(-cosines)):
        cosine = float(cosines[j])
        if cosine < rules.duplicate:
            return None
        if j > i and same_statement(statements[i], statements[j], cosine, rules):
            return j, cosine
    return None


def _groups(ordered: list[UpkeepRow], into: dict[int, tuple[int, float]]) -> list[MergeGroup]:
    members: dict[int, list[MergedMemory]] = defaultdict(list)
    for i, (j, cosine) in into.items():
        root = j
        while root in into:  # j was merged further after i chose it
            root = into[root][0]
        members[root].append(MergedMemory(ordered[i].id, ordered[i].content, round(cosine, 4)))
    return [
        MergeGroup(ordered[root].id, ordered[root].content, tuple(merged))
        for root, merged in sorted(members.items())
    ]


def _value(row: UpkeepRow) -> tuple[bool, float, int, float, str]:
    """Sort key, least valuable first; ties: the newer one is merged into the older."""
    return (row.pinned, row.importance, row.access_count, -row.created_at.timestamp(), row.id)
