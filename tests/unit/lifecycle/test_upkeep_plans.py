"""Decay maths and the plans of decay, consolidation and clean-up (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mnemo.config import LifecycleConfig
from mnemo.core.decay import crossed_band, decay_score, effective_half_life, idle_days
from mnemo.errors import ConfigurationError, InvalidInput
from mnemo.lifecycle.cleanup import plan_removals
from mnemo.lifecycle.consolidate import plan_merges
from mnemo.lifecycle.decay import plan_decay
from mnemo.lifecycle.optimize import Optimizer
from mnemo.lifecycle.statements import SimilarityRules
from mnemo.store.postgres.lifecycle import UpkeepRow

NOW = datetime(2025, 1, 1, tzinfo=UTC)
CONFIG = LifecycleConfig()


def row(memory_id: str, content: str = "x", *, days: float = 0, vector: list[float] | None = None,
        **changes: object) -> UpkeepRow:  # fmt: skip
    base = UpkeepRow(
        id=memory_id, kind="fact", content=content,
        embedding=np.asarray(vector or [1.0, 0.0, 0.0], dtype=np.float32),
        embedding_model="m", created_at=NOW - timedelta(days=days), last_accessed_at=None,
        access_count=0, pinned=False, importance=0.5, confidence=0.9, decay_score=1.0,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_score_halves_every_half_life_of_idleness() -> None:
    assert decay_score(idle=0, half_life_days=90, access_count=0) == 1.0
    assert decay_score(idle=90, half_life_days=90, access_count=0) == pytest.approx(0.5)
    assert decay_score(idle=180, half_life_days=90, access_count=0) == pytest.approx(0.25)


def test_reads_stretch_the_half_life_and_reset_the_clock() -> None:
    assert effective_half_life(90, 10) == pytest.approx(90 * (1 + np.log(11)))
    assert decay_score(idle=90, half_life_days=90, access_count=10) > 0.8
    read = NOW - timedelta(days=2)
    assert idle_days(NOW - timedelta(days=300), read, NOW) == pytest.approx(2)


def test_a_bad_half_life_is_refused() -> None:
    with pytest.raises(InvalidInput):
        effective_half_life(0, 1)


@given(
    idle=st.floats(0, 10_000),
    more=st.floats(0, 1_000),
    half_life=st.floats(0.1, 1_000),
    reads=st.integers(0, 10_000),
)
def test_decay_never_rises_with_idleness_and_stays_in_the_unit_interval(
    idle: float, more: float, half_life: float, reads: int
) -> None:
    first = decay_score(idle=idle, half_life_days=half_life, access_count=reads)
    later = decay_score(idle=idle + more, half_life_days=half_life, access_count=reads)
    assert 0.0 <= later <= first <= 1.0
    assert decay_score(idle=idle, half_life_days=half_life, access_count=reads + 1) >= first


def test_history_entries_only_when_a_tenth_is_crossed() -> None:
    assert crossed_band(0.95, 0.89)
    assert not crossed_band(0.95, 0.91)
    assert not crossed_band(1.0, 1.0)


def test_plan_decay_protects_pinned_and_important_memories() -> None:
    rows = [
        row("old", days=90),
        row("pinned", days=900, pinned=True, decay_score=0.4),
        row("vital", days=900, importance=0.9),
        row("fresh", days=0),
    ]
    changes = {c.memory_id: c for c in plan_decay(rows, now=NOW, half_life_days=90,
                                                  protected_importance=0.8)}  # fmt: skip
    assert changes["old"].after == pytest.approx(0.5)
    assert changes["old"].recorded
    assert changes["pinned"].after == 1.0  # pinning restores it
    assert "vital" not in changes and "fresh" not in changes


def test_plan_merges_folds_duplicates_into_the_most_valuable() -> None:
    rows = [
        row("a", "Alice loves hiking.", vector=[1, 0, 0], importance=0.4),
        row("b", "Alice loves hiking.", vector=[1, 0.01, 0], importance=0.9),
        row("c", "Alice loves hiking.", vector=[1, 0, 0.01], pinned=True, importance=0.1),
        row("d", "Alice prefers tea.", vector=[0, 1, 0]),
    ]
    groups = plan_merges(rows, SimilarityRules())
    assert len(groups) == 1
    assert groups[0].survivor_id == "c"  # pinned beats important
    assert {m.memory_id for m in groups[0].merged} == {"a", "b"}


def test_plan_merges_keeps_close_but_different_facts_and_other_kinds_apart() -> None:
    rows = [
        row("dark", "Alice prefers dark roast coffee.", vector=[1, 0.2, 0]),
        row("light", "Alice prefers light roast coffee.", vector=[1, 0.21, 0]),
        row("fact", "Alice loves hiking.", vector=[0, 1, 0]),
        row("event", "Alice loves hiking.", vector=[0, 1, 0], kind="event"),
    ]
    assert plan_merges(rows, SimilarityRules()) == []


def test_plan_removals_spares_protected_notes_and_merged_memories() -> None:
    rows = [
        row("stale", decay_score=0.01),
        row("note", decay_score=0.01, kind="note"),
        row("vital", decay_score=0.01, importance=0.95),
        row("merged", decay_score=0.01),
        row("alive", decay_score=0.5),
    ]
    removed = plan_removals(rows, {}, skip={"merged"}, config=CONFIG)
    assert [r.memory_id for r in removed] == ["stale"]


def test_optimizer_plan_decays_then_merges_then_removes() -> None:
    rows = [
        row("ancient", "Alice once owned a red bicycle.", days=2_000, vector=[0, 0, 1]),
        row("dup", "Alice loves hiking.", days=10, vector=[1, 0, 0]),
        row("keep", "Alice loves hiking.", days=1, vector=[1, 0, 0], importance=0.7),
    ]
    optimizer = Optimizer(store=None, config=CONFIG)  # type: ignore[arg-type]
    report = optimizer.plan("alice", rows, now=NOW, dry_run=True)
    assert report.counts == {"examined": 3, "protected": 0, "decayed": 2, "merged": 1,
                             "removed": 1}  # fmt: skip
    assert report.removed[0].memory_id == "ancient"
    assert report.merges[0].survivor_id == "keep"
    assert report.as_dict()["merges"][0]["merged"][0]["id"] == "dup"


@pytest.mark.parametrize(
    "changes",
    [
        {"decay_half_life_days": 0},
        {"extraction_batch": 0},
        {"extraction_max_tokens": 0},
        {"cleanup_below": 1.5},
        {"heartbeat_seconds": 30, "stalled_after_seconds": 10},
        {"duplicate_similarity": -0.1},
    ],
)
def test_inconsistent_lifecycle_settings_are_refused(changes: dict[str, float]) -> None:
    with pytest.raises(ConfigurationError):
        LifecycleConfig(**changes)  # type: ignore[arg-type]


def test_memory_decay_days_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from mnemo.settings import Settings

    monkeypatch.setenv("MEMORY_DECAY_DAYS", "30")
    monkeypatch.setenv("MNEMO_IN_PROCESS_WORKER", "false")
    lifecycle = Settings().to_config().lifecycle
    assert lifecycle.decay_half_life_days == 30
    assert lifecycle.in_process_worker is False
