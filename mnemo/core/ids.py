"""Time-ordered UUIDs (version 7), so new rows land at the end of their index.

Within one process the ids are strictly increasing, even inside one millisecond
(a 12-bit counter fills ``rand_a``, as RFC 9562 method 1 describes). Search
relies on this to know which stored item came right before or after another.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

from mnemo.errors import InvalidInput

_lock = threading.Lock()
_last = [0, 0]  # milliseconds, counter


def new_id() -> uuid.UUID:
    """A fresh UUIDv7, greater than every id this process made before."""
    with _lock:
        millis = time.time_ns() // 1_000_000
        if millis <= _last[0]:
            millis, counter = _last[0], _last[1] + 1
            if counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                millis, counter = millis + 1, 0
        else:
            counter = 0
        _last[0], _last[1] = millis, counter
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (millis & ((1 << 48) - 1)) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)


def parse_id(value: object, *, what: str = "id") -> uuid.UUID:
    """``value`` as a UUID, or ``InvalidInput`` saying what was wrong."""
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise InvalidInput(f"{what} must be a UUID string, got {value!r:.80}")
