"""The Redis cache: the one boundary where Redis failures become misses.

Failure handling
----------------
Every Redis call goes through ``RedisCache._attempt``. A Redis, socket or timeout
error is counted, logged once per outage (its first failure; the recovery is
logged once too), and becomes a miss or a no-op. Calls are bounded by short
socket timeouts plus an overall timeout per call; redis-py's retries are off (a
retry only multiplies what a dead server costs). A circuit breaker opens after
``failure_threshold`` consecutive failures; while it is open, calls return at once
without I/O. ``cooldown`` seconds later the next call starts one background
recovery (PING, then apply what is owed) and itself returns at once; the circuit
closes when recovery succeeds and re-opens for another cooldown otherwise.

Invalidation that survives a missed delete
------------------------------------------
Each namespace has a *token* in Redis (8 random bytes under ``…#gen``); entries are
stored as ``token + value``; a read (one Lua call) returns a value only if it
carries the namespace's current token; ``invalidate`` replaces the token. Tokens
are random rather than counters so that a namespace whose token vanished
(FLUSHALL, restart, expiry, erasure) can never come back to an old token and
revive old entries. A read that finds no token creates one, and ``get_or_load``
stores its value only if the token it saw before loading is still current (one
Lua call): a fill that raced a writer's commit is dropped, and one that raced an
erasure leaves no personal data behind.

An invalidation, delete or erasure that cannot be applied (error, timeout, open
circuit) goes into a ledger in this process, and the circuit opens at once: from
then on this process reads nothing from Redis. The circuit closes only after
recovery has applied the whole ledger (new tokens, deletes and erasures re-run;
an item owed again while being applied is applied again). So after Redis comes
back this process never serves an entry one of its missed invalidations should
have killed. Every owed operation is idempotent, so a timed-out command that did
reach Redis is harmless. A ledger longer than ``max_pending`` collapses into
"invalidate everything": every token under the key prefix is deleted.

The ledger lives in this process. Another process that can still reach Redis
(a partition isolating only this one), or that recovers first, can serve an entry
this process owes an invalidation for until this process recovers — about
``cooldown`` after Redis is reachable again — or, if this process dies first,
until the entry expires: ``max_ttl`` bounds every entry and token. Closing that
window needs an invalidation record that outlives the process (e.g. the writer
also enqueuing it in PostgreSQL), which belongs to the engine. A Redis restart
without persistence, or FLUSHALL, loses entries and tokens together: always safe.

Rejected alternatives: plain DEL with a flush on reconnect needs an index to find a
namespace's keys and still caches stale values in the fill race; checking every
read against a version in PostgreSQL is fully correct but pays the PostgreSQL round
trip the cache exists to save.

Keys are ``{prefix}:{tenant:user}:…:name`` and ``{prefix}:{tenant:user}:…#gen``;
the ``{tenant:user}`` hash tag keeps one user's keys in one Redis Cluster slot.
Multi-key scripts span users in ``get_many``/``set_many``, so this class targets a
single Redis (or a proxy), not Redis Cluster. Give Redis an eviction policy
(``allkeys-lru``): under ``noeviction`` a full Redis refuses the read script
(it may create a token) and every call becomes a miss. Evicting a token is safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import math
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from mnemo.errors import ConfigurationError
from mnemo.store.cache.base import (
    CacheHealth,
    CacheKey,
    CacheNamespace,
    CacheStats,
    Loader,
    TtlPolicy,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")
Item = TypeVar("Item")
CircuitState = Literal["closed", "open", "recovering"]

#: What "Redis is unavailable" looks like; anything else is a bug and propagates.
_FAILURES: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)
_TOKEN_BYTES = 8
_TOKEN_SUFFIX = "#gen"
_CHUNK = 256
_PREFIX_PATTERN = re.compile(r"[A-Za-z0-9_.:-]+")

# KEYS: (token key, entry key) pairs. ARGV: a new token, token TTL (ms).
# Returns (value or false, token) pairs, creating missing tokens. Tokens are 8 bytes.
_READ_LUA = """
local out = {}
for i = 1, #KEYS, 2 do
  local token = redis.call('GET', KEYS[i])
  if not token then
    token = ARGV[1]
    redis.call('SET', KEYS[i], token, 'PX', ARGV[2])
  end
  local entry = redis.call('GET', KEYS[i + 1])
  if entry and string.sub(entry, 1, 8) == token then
    out[#out + 1] = string.sub(entry, 9)
  else
    out[#out + 1] = false
  end
  out[#out + 1] = token
end
return out
"""

# KEYS: token key, entry key. ARGV: token seen before loading, token .. value,
# TTL (ms), token TTL (ms). Stores only if the token is unchanged.
_FILL_LUA = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
"""

# KEYS: (token key, entry key) pairs. ARGV: a new token, token TTL (ms), TTL (ms),
# then one value per pair. Stores under the current token, creating it if missing.
_WRITE_LUA = """
for i = 1, #KEYS, 2 do
  local token = redis.call('GET', KEYS[i]) or ARGV[1]
  redis.call('SET', KEYS[i], token, 'PX', ARGV[2])
  redis.call('SET', KEYS[i + 1], token .. ARGV[3 + (i + 1) / 2], 'PX', ARGV[3])
end
return 1
"""


@dataclass(frozen=True, slots=True)
class RedisCacheOptions:
    """Tuning of the Redis cache; the defaults suit a Redis on the local network."""

    #: Prepended to every key; letters, digits and ``_.:-`` only.
    key_prefix: str = "mnemo"
    socket_timeout: float = 0.1
    connect_timeout: float = 0.1
    max_connections: int = 32
    #: Consecutive failures that open the circuit.
    failure_threshold: int = 3
    #: Seconds the circuit stays open before a recovery is tried.
    cooldown: float = 2.0
    default_ttl: float = 3600.0
    max_ttl: float = 86400.0
    #: Owed invalidations kept one by one before collapsing into "everything".
    max_pending: int = 100_000
    scan_count: int = 1000

    def __post_init__(self) -> None:
        if not _PREFIX_PATTERN.fullmatch(self.key_prefix):
            raise ConfigurationError("key_prefix may hold only letters, digits and _.:-")
        positive = (self.socket_timeout, self.connect_timeout, self.cooldown)
        counts = (self.max_connections, self.failure_threshold, self.max_pending, self.scan_count)
        if min(positive) <= 0 or min(counts) < 1:
            raise ConfigurationError("Redis cache timeouts and counts must be positive")
        if not 0 < self.default_ttl <= self.max_ttl:
            raise ConfigurationError("TTLs must satisfy 0 < default_ttl <= max_ttl")


class CircuitBreaker:
    """closed → (``threshold`` consecutive failures, or ``trip``) → open →
    (``cooldown``) → recovering → closed, or open again. Only ``close`` closes it."""

    def __init__(
        self, threshold: int, cooldown: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self.state: CircuitState = "closed"
        self._failures = 0
        self._opened_at = 0.0

    def success(self) -> None:
        if self.state == "closed":
            self._failures = 0

    def failure(self) -> None:
        if self.state == "closed":
            self._failures += 1
            if self._failures >= self.threshold:
                self.reopen()

    def trip(self) -> None:
        """Open now; a recovery already running will apply what caused this."""
        if self.state == "closed":
            self.reopen()

    def reopen(self) -> None:
        self.state, self._opened_at = "open", self._clock()

    def recovery_due(self) -> bool:
        return self.state == "open" and self._clock() - self._opened_at >= self.cooldown

    def begin_recovery(self) -> None:
        self.state = "recovering"

    def close(self) -> None:
        self.state, self._failures = "closed", 0


@dataclass(slots=True)
class _Counts:
    hits: int = 0
    misses: int = 0
    errors: int = 0
    short_circuits: int = 0


class _Ledger:
    """Invalidations owed to Redis, each with the sequence number of its latest request,
    so one applied from an old snapshot is kept if it was requested again meanwhile."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._seq = itertools.count(1)
        self.namespaces: dict[CacheNamespace, int] = {}
        self.keys: dict[CacheKey, int] = {}
        self.prefixes: dict[CacheNamespace, int] = {}
        #: Sequence number of an owed "invalidate everything", or 0.
        self.everything = 0

    def __len__(self) -> int:
        return len(self.namespaces) + len(self.keys) + len(self.prefixes) + bool(self.everything)

    def owe(self, owed: dict[Item, int], items: Iterable[Item]) -> None:
        for item in items:
            owed[item] = next(self._seq)
        if len(self.namespaces) + len(self.keys) > self._limit:
            self.namespaces.clear()
            self.keys.clear()
            self.everything = next(self._seq)

    @staticmethod
    def settled(owed: dict[Item, int], applied: Mapping[Item, int]) -> None:
        for item, seq in applied.items():
            if owed.get(item) == seq:
                del owed[item]


class RedisCache:
    """A ``Cache`` on Redis that never raises because of Redis (see the module docs).

    Use one instance from one event loop (redis.asyncio connections belong to a loop).
    """

    def __init__(self, url: str, options: RedisCacheOptions | None = None) -> None:
        """Configure the pool; nothing connects until the first call."""
        self._options = opts = options or RedisCacheOptions()
        self._ttl = TtlPolicy(opts.default_ttl, opts.max_ttl)
        self._token_ttl_ms = _ms(opts.max_ttl)
        self._timeout = opts.socket_timeout + opts.connect_timeout
        self._pool = BlockingConnectionPool.from_url(
            url,
            max_connections=opts.max_connections,
            timeout=opts.connect_timeout,
            socket_timeout=opts.socket_timeout,
            socket_connect_timeout=opts.connect_timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._client = Redis(connection_pool=self._pool)
        self._read_script = self._client.register_script(_READ_LUA)
        self._fill_script = self._client.register_script(_FILL_LUA)
        self._write_script = self._client.register_script(_WRITE_LUA)
        self._breaker = CircuitBreaker(opts.failure_threshold, opts.cooldown)
        self._ledger = _Ledger(opts.max_pending)
        self._recovery: asyncio.Task[None] | None = None
        self._outage_since: float | None = None
        self._outage_errors = 0
        self._counts = _Counts()
        self._closed = False

    async def get(self, key: CacheKey) -> bytes | None:
        return (await self.get_many([key])).get(key)

    async def get_many(self, keys: Iterable[CacheKey]) -> dict[CacheKey, bytes]:
        unique = list(dict.fromkeys(keys))
        if not unique:
            return {}
        rows = await self._attempt(functools.partial(self._read, unique), None, len(unique))
        pairs = zip(unique, rows, strict=True) if rows is not None else ()
        found = {key: value for key, (value, _) in pairs if value is not None}
        self._counts.hits += len(found)
        self._counts.misses += len(unique) - len(found)
        return found

    async def get_or_load(
        self, key: CacheKey, load: Loader, ttl: float | None = None
    ) -> bytes | None:
        seconds = self._ttl.resolve(ttl)
        rows = await self._attempt(functools.partial(self._read, [key]), None)
        cached, token = rows[0] if rows else (None, None)
        if cached is not None:
            self._counts.hits += 1
            return cached
        self._counts.misses += 1
        value = await load()
        if value is not None and token is not None:
            await self._attempt(functools.partial(self._fill, key, token, value, seconds), None)
        return value

    async def set(self, key: CacheKey, value: bytes, ttl: float | None = None) -> None:
        await self.set_many({key: value}, ttl)

    async def set_many(self, items: Mapping[CacheKey, bytes], ttl: float | None = None) -> None:
        seconds = self._ttl.resolve(ttl)
        if items:
            write = functools.partial(self._write, list(items.items()), seconds)
            await self._attempt(write, None, len(items))

    async def delete(self, *keys: CacheKey) -> None:
        unique = list(dict.fromkeys(keys))
        unlink = functools.partial(self._unlink, unique)
        if unique and not await self._attempt(unlink, False, owed=True):
            self._ledger.owe(self._ledger.keys, unique)

    async def invalidate(self, *namespaces: CacheNamespace) -> None:
        unique = list(dict.fromkeys(namespaces))
        bump = functools.partial(self._bump, unique)
        if unique and not await self._attempt(bump, False, owed=True):
            self._ledger.owe(self._ledger.namespaces, unique)

    async def delete_prefix(self, prefix: CacheNamespace) -> int:
        erase = functools.partial(self._erase, prefix)
        removed = await self._attempt(erase, None, owed=True, bounded=False)
        if removed is None:
            self._ledger.owe(self._ledger.prefixes, [prefix])
            return 0
        return removed

    async def health(self) -> CacheHealth:
        start = time.perf_counter()
        try:
            async with asyncio.timeout(self._timeout):
                await self._client.ping()
        except _FAILURES as exc:
            return CacheHealth("down", None, f"Redis unreachable ({_describe(exc)})")
        latency_ms = (time.perf_counter() - start) * 1000
        self._maybe_recover()
        state, pending = self._breaker.state, len(self._ledger)
        if state == "closed" and not pending:
            return CacheHealth("ok", latency_ms, "Redis reachable")
        detail = f"Redis reachable; circuit {state}, {pending} invalidations pending"
        return CacheHealth("degraded", latency_ms, detail)

    def stats(self) -> CacheStats:
        pending, circuit = len(self._ledger), self._breaker.state
        return CacheStats(**asdict(self._counts), pending_invalidations=pending, circuit=circuit)

    async def aclose(self) -> None:
        """Apply owed invalidations if Redis is reachable, then release everything."""
        if self._closed:
            return
        self._closed = True
        if self._recovery is not None:
            self._recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recovery
        if self._ledger:
            await self._settle_before_close()
        await self._client.aclose()
        await self._pool.disconnect()

    # The boundary.

    async def _attempt(
        self,
        op: Callable[[], Awaitable[T]],
        fallback: T,
        batch: int = 1,
        *,
        owed: bool = False,
        bounded: bool = True,
    ) -> T:
        """``await op()``, or ``fallback`` if Redis is unavailable or the circuit open.

        ``owed`` marks an invalidation: its failure opens the circuit at once (the
        caller records it in the ledger). ``batch`` scales the timeout for calls
        made of several round trips; unbounded calls rely on socket timeouts.
        """
        if self._breaker.state != "closed":
            self._counts.short_circuits += 1
            self._maybe_recover()
            return fallback
        try:
            timeout = self._timeout * math.ceil(batch / _CHUNK) if bounded else None
            async with asyncio.timeout(timeout):
                result = await op()
        except _FAILURES as exc:
            self._record_failure(exc)
            if owed:
                self._breaker.trip()
            else:
                self._breaker.failure()
            return fallback
        self._breaker.success()
        if self._breaker.state == "closed":
            self._end_outage()
        return result

    def _record_failure(self, exc: BaseException) -> None:
        self._counts.errors += 1
        self._outage_errors += 1
        if self._outage_since is None:
            self._outage_since = time.monotonic()
            logger.warning("Redis cache unavailable, using PostgreSQL only: %s", _describe(exc))

    def _end_outage(self) -> None:
        if self._outage_since is not None:
            seconds = time.monotonic() - self._outage_since
            logger.info(
                "Redis cache available again after %.1f s (%d failed calls)",
                seconds,
                self._outage_errors,
            )
            self._outage_since, self._outage_errors = None, 0

    def _maybe_recover(self) -> None:
        if self._breaker.recovery_due() and not self._closed:
            self._breaker.begin_recovery()
            self._recovery = asyncio.get_running_loop().create_task(self._recover())

    async def _recover(self) -> None:
        """PING, apply the ledger, then close the circuit; re-open it on failure."""
        try:
            async with asyncio.timeout(self._timeout):
                await self._client.ping()
            await self._settle()
        except _FAILURES as exc:
            self._record_failure(exc)
            self._breaker.reopen()
            return
        except BaseException:
            self._breaker.reopen()
            raise
        # No await since _settle found the ledger empty, so nothing was owed meanwhile.
        self._breaker.close()
        self._end_outage()

    async def _settle(self) -> None:
        """Apply owed operations until none is left (more may be owed meanwhile)."""
        ledger = self._ledger
        while ledger:
            if ledger.everything:
                seq = ledger.everything
                await self._scan_unlink(f"{self._options.key_prefix}:*{_TOKEN_SUFFIX}")
                ledger.everything = 0 if ledger.everything == seq else ledger.everything
            for prefix, seq in list(ledger.prefixes.items()):
                await self._erase(prefix)
                ledger.settled(ledger.prefixes, {prefix: seq})
            if namespaces := _head(ledger.namespaces):
                async with asyncio.timeout(self._timeout):
                    await self._bump(list(namespaces))
                ledger.settled(ledger.namespaces, namespaces)
            if keys := _head(ledger.keys):
                async with asyncio.timeout(self._timeout):
                    await self._unlink(list(keys))
                ledger.settled(ledger.keys, keys)

    async def _settle_before_close(self) -> None:
        try:
            async with asyncio.timeout(self._timeout * 10):
                await self._settle()
        except _FAILURES as exc:
            logger.warning(
                "Redis cache closed with %d invalidations not applied (%s); "
                "affected entries expire within max_ttl",
                len(self._ledger),
                _describe(exc),
            )

    # Redis operations; they raise, _attempt catches.

    async def _read(self, keys: Sequence[CacheKey]) -> list[tuple[bytes | None, bytes]]:
        rows: list[tuple[bytes | None, bytes]] = []
        for chunk in _chunks(keys):
            names = [name for key in chunk for name in self._pair(key)]
            reply = await self._read_script(keys=names, args=[_new_token(), self._token_ttl_ms])
            values, tokens = reply[0::2], reply[1::2]
            pairs = zip(values, tokens, strict=True)
            rows.extend((v if isinstance(v, bytes) else None, t) for v, t in pairs)
        return rows

    async def _fill(self, key: CacheKey, token: bytes, value: bytes, seconds: float) -> None:
        args: list[bytes | int] = [token, token + value, _ms(seconds), self._token_ttl_ms]
        await self._fill_script(keys=list(self._pair(key)), args=args)

    async def _write(self, items: Sequence[tuple[CacheKey, bytes]], seconds: float) -> None:
        for chunk in _chunks(items):
            names = [name for key, _ in chunk for name in self._pair(key)]
            head: list[Any] = [_new_token(), self._token_ttl_ms, _ms(seconds)]
            await self._write_script(keys=names, args=head + [v for _, v in chunk])

    async def _bump(self, namespaces: Sequence[CacheNamespace]) -> bool:
        token = _new_token()
        async with self._client.pipeline(transaction=False) as pipe:
            for namespace in namespaces:
                pipe.set(self._token_key(namespace), token, px=self._token_ttl_ms)
            await pipe.execute()
        return True

    async def _unlink(self, keys: Sequence[CacheKey]) -> bool:
        await self._client.unlink(*(self._entry_key(key) for key in keys))
        return True

    async def _erase(self, prefix: CacheNamespace) -> int:
        """Delete ``prefix``'s token first (voiding fills in flight), then every key under it."""
        await self._client.unlink(self._token_key(prefix))
        return await self._scan_unlink(f"{self._base(prefix)}:*")

    async def _scan_unlink(self, pattern: str) -> int:
        """UNLINK every key matching ``pattern``; the entries (not tokens) removed."""
        removed, batch = 0, []
        names = self._client.scan_iter(match=pattern, count=self._options.scan_count)
        async for name in names:
            batch.append(name)
            if len(batch) >= _CHUNK:
                removed += await self._unlink_names(batch)
                batch = []
        return removed + (await self._unlink_names(batch) if batch else 0)

    async def _unlink_names(self, names: list[bytes]) -> int:
        await self._client.unlink(*names)
        return sum(not name.endswith(_TOKEN_SUFFIX.encode()) for name in names)

    # Key layout.

    def _base(self, namespace: CacheNamespace) -> str:
        tenant, user, *rest = namespace.path.split(":", 2)
        tail = f":{rest[0]}" if rest else ""
        return f"{self._options.key_prefix}:{{{tenant}:{user}}}{tail}"

    def _token_key(self, namespace: CacheNamespace) -> str:
        return self._base(namespace) + _TOKEN_SUFFIX

    def _entry_key(self, key: CacheKey) -> str:
        return f"{self._base(key.namespace)}:{key.path.rsplit(':', 1)[1]}"

    def _pair(self, key: CacheKey) -> tuple[str, str]:
        return self._token_key(key.namespace), self._entry_key(key)


def _new_token() -> bytes:
    return os.urandom(_TOKEN_BYTES)


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _head(owed: dict[Item, int]) -> dict[Item, int]:
    return dict(itertools.islice(owed.items(), _CHUNK))


__all__ = ["CircuitBreaker", "RedisCache", "RedisCacheOptions"]
