"""Requests per API key: a token bucket, shared through Redis when there is one.

With Redis configured, every API process draws from the same bucket (GCRA in one
Lua script, on Redis's clock), so the limit holds across replicas. Without
Redis, or while Redis is unreachable, each process keeps its own buckets: the
limit then applies per process. A limiter never fails a request because of Redis.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from typing import Any, Protocol

from mnemo.errors import RateLimited

logger = logging.getLogger(__name__)

BUCKETS = 100_000

_GCRA_LUA = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allowed_at = tat + interval - burst * interval
if allowed_at > now then return allowed_at - now end
redis.call('SET', KEYS[1], tat + interval, 'PX', math.ceil(tat + interval - now) + 1000)
return 0
"""


class RateLimiter(Protocol):
    async def check(self, key: str) -> None:
        """Take one request from ``key``'s bucket; ``RateLimited`` when it is empty."""
        ...


class NoLimit:
    """Rate limiting turned off."""

    async def check(self, key: str) -> None:
        return None


class LocalLimiter:
    """Token buckets in this process (least recently used ones are forgotten)."""

    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def check(self, key: str) -> None:
        now = time.monotonic()
        tokens, last = self._buckets.get(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            raise _limited((1.0 - tokens) / self._rate)
        self._buckets[key] = (tokens - 1.0, now)
        self._buckets.move_to_end(key)
        if len(self._buckets) > BUCKETS:
            self._buckets.popitem(last=False)


class RedisLimiter:
    """One bucket per key in Redis; falls back to ``LocalLimiter`` when Redis fails."""

    def __init__(self, url: str, rate: float, burst: int, *, prefix: str = "mnemo") -> None:
        from redis.asyncio import Redis
        from redis.exceptions import RedisError

        self._errors: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)
        self._client: Any = Redis.from_url(url, socket_timeout=0.1, socket_connect_timeout=0.1)
        self._script = self._client.register_script(_GCRA_LUA)
        self._interval_ms = 1000.0 / rate
        self._burst = burst
        self._prefix = prefix
        self._fallback = LocalLimiter(rate, burst)
        self._failing = False

    async def check(self, key: str) -> None:
        try:
            wait_ms = await self._script(
                keys=[f"{self._prefix}:ratelimit:{key}"], args=[self._interval_ms, self._burst]
            )
        except self._errors as exc:
            if not self._failing:
                logger.warning("rate limiting per process while Redis fails: %s", exc)
                self._failing = True
            await self._fallback.check(key)
            return
        self._failing = False
        if float(wait_ms) > 0:
            raise _limited(float(wait_ms) / 1000.0)

    async def aclose(self) -> None:
        await self._client.aclose()


def _limited(wait: float) -> RateLimited:
    seconds = max(1, math.ceil(wait))
    return RateLimited(
        f"too many requests for this API key; retry in {seconds} s", retry_after=seconds
    )
