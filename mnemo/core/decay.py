"""Decay maths: how the score of an unused memory falls, and what protects it.

A memory's decay score is 1 when it is fresh and halves every *effective*
half-life of idleness. Idleness counts from the last access (or from creation
when it was never read), so every read resets the clock; the effective
half-life also grows with the number of reads, so a memory that keeps being
useful fades more slowly even between reads::

    score = 0.5 ** (idle_days / (half_life_days * (1 + ln(1 + access_count))))

Pinned memories and memories at least ``protected_importance`` important do not
decay: their score stays 1. Pure functions, no I/O.
"""

from __future__ import annotations

import math
from datetime import datetime

from mnemo.errors import InvalidInput

__all__ = ["crossed_band", "decay_score", "effective_half_life", "idle_days", "is_protected"]


def effective_half_life(half_life_days: float, access_count: int) -> float:
    """The half-life stretched by reads: ``half_life_days * (1 + ln(1 + access_count))``."""
    if not half_life_days > 0 or not math.isfinite(half_life_days):
        raise InvalidInput(f"half-life must be a positive number of days, got {half_life_days}")
    return half_life_days * (1.0 + math.log1p(max(0, access_count)))


def idle_days(created_at: datetime, last_accessed_at: datetime | None, now: datetime) -> float:
    """Days since the last read (or creation); never negative."""
    since = max(created_at, last_accessed_at) if last_accessed_at else created_at
    return max(0.0, (now - since).total_seconds() / 86_400)


def decay_score(*, idle: float, half_life_days: float, access_count: int) -> float:
    """The score after ``idle`` days without a read, in (0, 1]; 1 when ``idle`` is 0."""
    return float(0.5 ** (max(0.0, idle) / effective_half_life(half_life_days, access_count)))


def is_protected(*, pinned: bool, importance: float, protected_importance: float) -> bool:
    """Whether a memory is exempt from decay and clean-up."""
    return pinned or importance >= protected_importance


def crossed_band(before: float, after: float, *, step: float = 0.1) -> bool:
    """Whether a change of score crosses a multiple of ``step`` (worth a history entry).

    Decay runs often and moves scores a little each time; recording only band
    crossings keeps ``memory_events`` readable while every tenth of the fall
    stays visible in a memory's history.
    """
    return math.floor(round(before / step, 9)) != math.floor(round(after / step, 9))
