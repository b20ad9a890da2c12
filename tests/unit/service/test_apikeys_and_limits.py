"""Pure parts of the service: the key format and hash, limiters, settings, the error map."""

from __future__ import annotations

import pytest

from mnemo.core.apikeys import generate_key, hash_key, key_matches, key_prefix, require_tenant_id
from mnemo.errors import (
    ConfigurationError,
    DimensionMismatch,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    StoreUnavailable,
    Unauthenticated,
)
from mnemo.service.errors import status_of
from mnemo.service.ratelimit import LocalLimiter
from mnemo.service.settings import ServiceSettings


def test_keys_are_random_and_parse_to_their_prefix() -> None:
    first, second = generate_key(), generate_key()
    assert first.key != second.key and first.prefix != second.prefix
    assert key_prefix(first.key) == first.prefix and len(first.key) == 3 + 12 + 1 + 43


@pytest.mark.parametrize(
    "bad", ["", "mk_", "mk_abc_def", "sk_" + "a" * 12 + "_" + "b" * 43, "x" * 500]
)
def test_malformed_keys_are_unauthenticated(bad: str) -> None:
    with pytest.raises(Unauthenticated):
        key_prefix(bad)


def test_the_hash_depends_on_key_and_pepper() -> None:
    key = generate_key().key
    stored = hash_key(key, "pepper-1")
    assert key_matches(key, stored, "pepper-1")
    assert not key_matches(key, stored, "pepper-2")
    assert not key_matches(generate_key().key, stored, "pepper-1")
    assert hash_key(key, None) == hash_key(key, None) != stored


@pytest.mark.parametrize("bad", ["", "-x", "a b", "a/b", "x" * 65, 7])
def test_tenant_ids_are_checked(bad: object) -> None:
    with pytest.raises(InvalidInput):
        require_tenant_id(bad)


async def test_the_local_bucket_allows_a_burst_then_limits() -> None:
    limiter = LocalLimiter(rate=1.0, burst=3)
    for _ in range(3):
        await limiter.check("k")
    with pytest.raises(RateLimited) as raised:
        await limiter.check("k")
    assert raised.value.retry_after == 1
    await limiter.check("another key")


def test_errors_map_to_status_codes() -> None:
    assert status_of(DimensionMismatch()) == 422
    assert status_of(PayloadTooLarge()) == 413
    assert status_of(NotFound()) == 404
    assert status_of(Unauthenticated()) == 401
    assert status_of(RateLimited()) == 429
    assert status_of(StoreUnavailable()) == 503
    assert status_of(ConfigurationError()) == 500


def test_unauthenticated_mode_only_on_the_embedded_default_and_loopback() -> None:
    assert ServiceSettings(auth="auto").auth_mode() == "none"
    assert ServiceSettings(auth="auto", database_url="postgresql://h/db").auth_mode() == "keys"
    assert ServiceSettings(auth="none", host="::1").auth_mode() == "none"
    for bad in (
        ServiceSettings(auth="none", database_url="postgresql://h/db"),
        ServiceSettings(auth="none", host="0.0.0.0"),
    ):
        with pytest.raises(ConfigurationError):
            bad.auth_mode()
