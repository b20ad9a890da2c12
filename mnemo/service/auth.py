"""Who is calling: an API key checked against its stored hash, bound to one tenant.

Checked keys are trusted for ``cache_seconds`` (so a revocation takes effect
within that delay) to keep a database round trip off most requests; unknown
prefixes are remembered for the same time, so guessing keys costs the guesser,
not PostgreSQL. ``last_used_at`` is written at most once a minute per key.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from mnemo.core.apikeys import (
    ApiKey,
    NewKey,
    generate_key,
    hash_key,
    key_matches,
    key_prefix,
    require_tenant_id,
)
from mnemo.core.validation import require_scope_id
from mnemo.errors import Unauthenticated
from mnemo.store.postgres.api_keys import ApiKeyStore, KeyLookup

TOUCH_INTERVAL = 60.0
CACHE_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of one request: the tenant its key belongs to, the key's id, and the
    user the key is bound to (``None`` for a tenant-wide key)."""

    tenant_id: str
    key_id: str | None
    bound_user_id: str | None = None


class Authenticator:
    """Turns a presented key into a ``Principal``, or raises ``Unauthenticated``."""

    def __init__(self, store: ApiKeyStore, *, pepper: str | None, cache_seconds: float) -> None:
        self._store = store
        self._pepper = pepper
        self._ttl = cache_seconds
        self._cache: OrderedDict[str, tuple[float, KeyLookup | None]] = OrderedDict()
        self._touched: dict[str, float] = {}

    async def authenticate(self, key: str | None) -> Principal:
        """The principal of ``key``; ``Unauthenticated`` when missing, unknown or revoked."""
        if not key:
            raise Unauthenticated()
        found = await self._lookup(key_prefix(key))
        if found is None or found.revoked or not key_matches(key, found.key_hash, self._pepper):
            raise Unauthenticated("the API key is not valid (unknown, revoked or mistyped)")
        await self._touch(found)
        return Principal(
            tenant_id=found.tenant_id, key_id=found.id, bound_user_id=found.bound_user_id
        )

    async def _lookup(self, prefix: str) -> KeyLookup | None:
        now = time.monotonic()
        cached = self._cache.get(prefix)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        found = await self._store.lookup(prefix)
        self._cache[prefix] = (now, found)
        self._cache.move_to_end(prefix)
        while len(self._cache) > CACHE_ENTRIES:
            self._cache.popitem(last=False)
        return found

    async def _touch(self, found: KeyLookup) -> None:
        now = time.monotonic()
        if now - self._touched.get(found.id, -TOUCH_INTERVAL) >= TOUCH_INTERVAL:
            self._touched[found.id] = now
            await self._store.touch(found.tenant_id, found.id)


def presented_key(authorization: str | None, x_api_key: str | None) -> str | None:
    """The key from ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``."""
    if x_api_key:
        return x_api_key.strip()
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        raise Unauthenticated("the Authorization header must read 'Bearer <key>'")
    return None


async def issue_key(
    store: ApiKeyStore,
    tenant_id: str,
    *,
    name: str | None,
    pepper: str | None,
    user_id: str | None = None,
) -> tuple[NewKey, ApiKey]:
    """Create a key for ``tenant_id`` (and the tenant, if new), bound to ``user_id`` if
    given; the key text is shown once."""
    tenant_id = require_tenant_id(tenant_id)
    user_id = require_scope_id(user_id, "user", required=False)
    new = generate_key()
    record = await store.create(
        tenant_id, prefix=new.prefix, key_hash=hash_key(new.key, pepper), name=name,
        bound_user_id=user_id,
    )  # fmt: skip
    return new, record
