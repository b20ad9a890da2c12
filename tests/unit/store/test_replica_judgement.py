"""How a probe's answer decides whether a standby is read from (no server needed)."""

from __future__ import annotations

import time
from typing import Any, cast

from mnemo.store.postgres.replicas import ReplicaSet


def replicas(max_lag_ms: float = 1000) -> ReplicaSet:
    return ReplicaSet([], cast(Any, None), max_lag_ms=max_lag_ms, check_seconds=0.5)


def test_a_streaming_standby_within_the_bound_is_used() -> None:
    assert replicas()._judge((True, 100, 0, True)) == (True, "streaming")


def test_a_server_not_in_recovery_is_not_a_standby() -> None:
    usable, reason = replicas()._judge((False, None, 0, True))
    assert not usable and "not a standby" in reason


def test_stopped_replication_and_replay_lag_set_a_standby_aside() -> None:
    assert not replicas()._judge((True, 100, 0, False))[0]
    usable, reason = replicas(max_lag_ms=500)._judge((True, 100, 800.0, True))
    assert not usable and "800 ms over 500 ms" in reason
    assert not replicas()._judge((True, 100, None, True))[0]  # lag unknown


def test_a_standby_behind_the_primary_of_max_lag_ago_is_set_aside() -> None:
    """WAL that never arrives is no replay lag on the standby, but it is lag."""
    set_ = replicas(max_lag_ms=200)
    set_._samples.extend([(time.monotonic() - 0.5, 5_000), (time.monotonic(), 9_000)])
    assert not set_._judge((True, 4_000, 0, True))[0]
    assert set_._judge((True, 5_000, 0, True))[0]  # behind now, but not by the bound


def test_read_your_writes_marks_fold_into_one_when_too_many(monkeypatch: Any) -> None:
    monkeypatch.setattr("mnemo.store.postgres.replicas.MAX_MARKS", 2)
    set_ = replicas()
    set_._marks = {("t", "a"): 10, ("t", "b"): 20, ("t", "c"): 30}
    set_._fold_marks()
    assert set_.mark_of("t", "a") == 30 and set_.mark_of("t", "z") == 30
