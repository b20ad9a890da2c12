"""Read replicas: read-only work on streaming standbys, the primary when none can serve it.

A public method that only reads (search, list, get, history, context, stats, ...) runs
inside ``reading(tenant, user)``; ``Database.connection`` then lends a standby's
connection when one is usable:

- the last probe (every ``check_seconds``, off the request path) found it in recovery,
  its WAL receiver running, its replay no more than ``max_lag_ms`` behind what it has
  received, and past what the primary had flushed ``max_lag_ms`` ago;
- it has replayed the primary's WAL up to the scope's read-your-writes mark: the
  primary's WAL insert position, recorded after a call that promises read-your-writes
  (``add(wait=True)`` marks its user, ``flush()`` everyone). A standby the last probe saw
  behind the mark is asked again on the lent connection before the primary is used.

Writes, transactions and everything outside such methods use the primary. A read that
fails on a standby (it went down, a recovery conflict cancelled the query, a write slipped
into a read path) is run again on the primary by the caller (``ReadIntent.failed_on``).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import PoolTimeout

from mnemo.store.postgres.errors import describe_dsn
from mnemo.store.postgres.pool import Pool, open_pool

logger = logging.getLogger(__name__)

Connection = psycopg.AsyncConnection[Any]

#: How long a read waits for a standby's connection before it takes the primary's.
LEND_TIMEOUT_SECONDS = 0.5
#: How long a probe of one standby may take before the standby counts as down.
PROBE_TIMEOUT_SECONDS = 2.0
#: Read-your-writes marks kept per scope; beyond it they fold into one mark for all.
MAX_MARKS = 10_000

_PROBE = """
SELECT pg_is_in_recovery() AS in_recovery,
       (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint AS replay_lsn,
       CASE WHEN coalesce(pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn(), true) THEN 0
            ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000
       END AS lag_ms,
       EXISTS (SELECT FROM pg_stat_wal_receiver WHERE pid IS NOT NULL) AS streaming
"""
_REPLAYED = "SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint"
_WRITTEN = "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint"
_FLUSHED = "SELECT (pg_current_wal_flush_lsn() - '0/0'::pg_lsn)::bigint"


@dataclass
class ReadIntent:
    """The scope a read-only method works in; ``pinned`` keeps it on the primary."""

    tenant_id: str
    user_id: str | None
    pinned: bool = False
    #: The standby a failed query ran on: the method is run again on the primary.
    failed_on: str | None = None


_intent: ContextVar[ReadIntent | None] = ContextVar("mnemo_read_intent", default=None)


def current_intent() -> ReadIntent | None:
    """The read-only scope the running code is in, if any."""
    return _intent.get()


@contextmanager
def reading(tenant_id: str, user_id: str | None) -> Iterator[ReadIntent]:
    """Mark the block as read-only work of one scope (inside ``on_primary`` it stays there)."""
    current = _intent.get()
    if current is not None and current.pinned:
        yield current
        return
    intent = ReadIntent(tenant_id, user_id)
    token = _intent.set(intent)
    try:
        yield intent
    finally:
        _intent.reset(token)


@contextmanager
def on_primary() -> Iterator[None]:
    """Run the block on the primary, read-only methods called inside it included."""
    token = _intent.set(ReadIntent("", None, pinned=True))
    try:
        yield
    finally:
        _intent.reset(token)


@dataclass
class Standby:
    """One read replica and what the last probe found."""

    name: str
    pool: Pool
    usable: bool = False
    replay_lsn: int = 0
    lag_ms: float | None = None
    reason: str = "not probed yet"
    probed_at: float = field(default=0.0)

    def report(self) -> dict[str, Any]:
        return {"name": self.name, "usable": self.usable, "reason": self.reason,
                "lag_ms": self.lag_ms, "replay_lsn": self.replay_lsn}  # fmt: skip


class ReplicaSet:
    """The standbys, their health, and the read-your-writes marks of the scopes."""

    def __init__(
        self, standbys: Sequence[Standby], primary: Pool, *, max_lag_ms: float,
        check_seconds: float,
    ) -> None:  # fmt: skip
        self.standbys = list(standbys)
        self._primary = primary
        self._max_lag_ms = max_lag_ms
        self._check_seconds = check_seconds
        self._marks: dict[tuple[str, str | None], int] = {}
        self._floor = 0
        self._next = 0
        self._wake = asyncio.Event()
        self._samples: deque[tuple[float, int]] = deque()
        self._task: asyncio.Task[None] | None = None
        #: Lent connections by where they came from: ``standby``; ``primary`` (no standby
        #: usable), ``behind`` (none had replayed the scope's mark); ``retried`` methods.
        self.counts: Counter[str] = Counter()

    @classmethod
    async def open(
        cls, urls: Sequence[str], primary: Pool, *, max_size: int, role: str | None,
        max_lag_ms: float, check_seconds: float,
    ) -> ReplicaSet:  # fmt: skip
        """Pools to every standby (opened without waiting: a standby that is down does
        not stop the engine), probed once before the first read, then every
        ``check_seconds`` in the background."""
        standbys = [
            Standby(describe_dsn(url), await open_pool(
                url, min_size=1, max_size=max_size, role=role, wait=False, name="mnemo-replica"
            ))
            for url in urls
        ]  # fmt: skip
        replicas = cls(standbys, primary, max_lag_ms=max_lag_ms, check_seconds=check_seconds)
        await replicas.probe()
        # A task of its own context: no caller's read intent leaks into the probes.
        replicas._task = asyncio.create_task(
            replicas._probe_forever(), name="mnemo-replica-probe", context=contextvars.Context()
        )
        return replicas

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        for standby in self.standbys:
            await standby.pool.close()

    def report(self) -> dict[str, Any]:
        """Each standby's state and the lent connections counted so far."""
        return {"standbys": [s.report() for s in self.standbys], "counts": dict(self.counts)}

    # -- read-your-writes marks ---------------------------------------------------------

    async def mark_writes(self, tenant_id: str, user_id: str | None) -> None:
        """Reads of this user (or, without one, of every scope) must now see everything
        the primary has written so far."""
        position = await self._written()
        if user_id is None:
            self._floor = max(self._floor, position)
            return
        for key in ((tenant_id, user_id), (tenant_id, None)):  # (tenant, None): reads by id
            self._marks[key] = max(position, self._marks.pop(key, 0))
        if len(self._marks) > MAX_MARKS:
            self._fold_marks()

    def mark_of(self, tenant_id: str, user_id: str | None) -> int:
        """The WAL position a standby must have replayed to serve reads of this scope."""
        return max(self._floor, self._marks.get((tenant_id, user_id), 0))

    def _fold_marks(self) -> None:
        replayed = min((s.replay_lsn for s in self.standbys), default=0)
        self._marks = {k: v for k, v in self._marks.items() if v > replayed}
        if len(self._marks) > MAX_MARKS:  # keep the promise for all, at the primary's cost
            self._floor = max(self._floor, *self._marks.values())
            self._marks.clear()

    async def _written(self) -> int:
        async with self._primary.connection() as conn:
            row = await (await conn.execute(_WRITTEN)).fetchone()
        return int(row[0]) if row else 0

    # -- lending --------------------------------------------------------------------------

    @asynccontextmanager
    async def connection(self, intent: ReadIntent) -> AsyncIterator[Connection]:
        """A standby's connection for this read when one can serve it, else the primary's."""
        mark = self.mark_of(intent.tenant_id, intent.user_id)
        lent = await self._lend(mark)
        if lent is None:
            async with self._primary.connection() as conn:
                yield conn
            return
        standby, conn = lent
        self.counts["standby"] += 1
        try:
            yield conn
        except (psycopg.OperationalError, psycopg.InterfaceError,
                pg_errors.ReadOnlySqlTransaction) as exc:  # fmt: skip
            intent.failed_on = standby.name
            self._suspect(standby, exc)
            raise
        finally:
            await standby.pool.putconn(conn)

    async def _lend(self, mark: int) -> tuple[Standby, Connection] | None:
        candidates = [s for s in self.standbys if s.usable]
        if not candidates:
            self.counts["primary"] += 1
            return None
        caught_up = [s for s in candidates if s.replay_lsn >= mark] or candidates
        standby = caught_up[self._next % len(caught_up)]
        self._next += 1
        try:
            conn = await standby.pool.getconn(timeout=LEND_TIMEOUT_SECONDS)
        except PoolTimeout as exc:
            self._suspect(standby, exc)
            self.counts["primary"] += 1
            return None
        if standby.replay_lsn < mark and not await self._replayed(standby, conn, mark):
            await standby.pool.putconn(conn)
            self.counts["behind"] += 1
            return None
        return standby, conn

    async def _replayed(self, standby: Standby, conn: Connection, mark: int) -> bool:
        """Whether the standby has replayed up to ``mark`` now (asked on ``conn``)."""
        try:
            row = await (await conn.execute(_REPLAYED)).fetchone()
        except psycopg.Error as exc:
            self._suspect(standby, exc)
            return False
        standby.replay_lsn = max(standby.replay_lsn, int(row[0]) if row and row[0] else 0)
        return standby.replay_lsn >= mark

    def _suspect(self, standby: Standby, exc: BaseException) -> None:
        """Stop lending from a standby that failed until a probe finds it well again."""
        if standby.usable:
            logger.warning("read replica %s set aside: %s", standby.name, exc)
        standby.usable, standby.reason = False, f"failed: {exc}"
        self._wake.set()

    # -- probing --------------------------------------------------------------------------

    async def probe(self) -> None:
        """Ask every standby for its state now (and the primary how far its WAL goes)."""
        await self._sample_primary()
        await asyncio.gather(*(self._probe(s) for s in self.standbys))

    async def _sample_primary(self) -> None:
        """Remember the primary's flushed WAL position with the time it was seen: a standby
        that has not replayed the position of ``max_lag_ms`` ago lags more than that,
        whatever it reports itself (WAL stuck on the way counts too)."""
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
                async with self._primary.connection(timeout=PROBE_TIMEOUT_SECONDS) as conn:
                    row = await (await conn.execute(_FLUSHED)).fetchone()
        except (TimeoutError, PoolTimeout, psycopg.Error):
            return  # the primary's own trouble: reads meet it on their own
        now = time.monotonic()
        self._samples.append((now, int(row[0]) if row else 0))
        horizon = now - self._max_lag_ms / 1000
        while len(self._samples) > 1 and self._samples[1][0] <= horizon:
            self._samples.popleft()  # keep the newest sample at least max_lag_ms old

    def _due(self) -> int:
        """The primary's WAL position of at least ``max_lag_ms`` ago (0 if unknown)."""
        horizon = time.monotonic() - self._max_lag_ms / 1000
        return self._samples[0][1] if self._samples and self._samples[0][0] <= horizon else 0

    async def _probe_forever(self) -> None:
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._check_seconds)
            self._wake.clear()
            await self.probe()

    async def _probe(self, standby: Standby) -> None:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
                async with standby.pool.connection(timeout=PROBE_TIMEOUT_SECONDS) as conn:
                    row = await (await conn.execute(_PROBE)).fetchone()
        except (TimeoutError, PoolTimeout, psycopg.Error) as exc:
            usable, reason, row = False, f"unreachable: {str(exc) or type(exc).__name__}", None
        else:
            usable, reason = self._judge(row)
        if row is not None:
            standby.replay_lsn = max(standby.replay_lsn, int(row[1] or 0))
            standby.lag_ms = None if row[2] is None else float(row[2])
        if usable != standby.usable:
            log = logger.info if usable else logger.warning
            log("read replica %s %s", standby.name, "in use" if usable else f"not used: {reason}")
        standby.usable, standby.reason, standby.probed_at = usable, reason, time.monotonic()

    def _judge(self, row: Any) -> tuple[bool, str]:
        in_recovery, replay, lag_ms, streaming = row
        if not in_recovery:
            return False, "not a standby (pg_is_in_recovery() is false)"
        if not streaming:
            return False, "its WAL receiver is not running (replication stopped)"
        if lag_ms is None or float(lag_ms) > self._max_lag_ms:
            lag = "unknown" if lag_ms is None else f"{float(lag_ms):.0f} ms"
            return False, f"replay lag {lag} over {self._max_lag_ms:g} ms"
        if int(replay or 0) < self._due():
            return False, f"has not replayed what the primary had {self._max_lag_ms:g} ms ago"
        return True, "streaming"
