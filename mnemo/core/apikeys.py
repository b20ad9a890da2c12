"""API keys: their format, how they are hashed for storage, the record of one key.

A key reads ``mk_<prefix>_<secret>``: 12 lowercase base32 characters that
identify the key (stored in clear, shown by ``mnemo keys list``, used for the
lookup) and 43 base64url characters of secret (256 random bits).

Only ``HMAC-SHA256(pepper, key)`` is stored. A slow password KDF (scrypt,
argon2) protects low-entropy secrets that people choose; a 256-bit random secret
cannot be guessed whatever the hash, and a KDF would add tens of milliseconds of
CPU to every request. The server-side pepper (``MNEMO_API_KEY_PEPPER``) means a
copy of the database alone cannot even confirm a leaked key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from mnemo.errors import InvalidInput, Unauthenticated

KEY_PATTERN = re.compile(r"^mk_([a-z2-7]{12})_([A-Za-z0-9_-]{43})$")
TENANT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: Used when no pepper is configured: hashes are then plain keyed SHA-256.
DEFAULT_PEPPER = "mnemo-api-key-v1"


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly generated key: the full text (shown once) and what is stored."""

    key: str
    prefix: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKey:
    """A stored key, without its secret."""

    id: str
    tenant_id: str
    prefix: str
    name: str | None
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    #: The one user the key acts for (on ``/mcp``), or ``None`` for a tenant-wide key.
    bound_user_id: str | None = None


def generate_key() -> NewKey:
    """A new random key."""
    prefix = base64.b32encode(secrets.token_bytes(10)).decode().lower()[:12]
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    return NewKey(key=f"mk_{prefix}_{secret}", prefix=prefix)


def key_prefix(key: str) -> str:
    """The lookup prefix of a presented key; ``Unauthenticated`` if it is malformed."""
    match = KEY_PATTERN.match(key)
    if match is None:
        raise Unauthenticated("the API key is malformed; keys look like mk_<prefix>_<secret>")
    return match.group(1)


def hash_key(key: str, pepper: str | None) -> bytes:
    """What is stored for ``key``: HMAC-SHA256 under the server's pepper."""
    secret = (pepper or DEFAULT_PEPPER).encode()
    return hmac.new(secret, key.encode(), hashlib.sha256).digest()


def key_matches(key: str, stored_hash: bytes, pepper: str | None) -> bool:
    """Whether ``key`` hashes to ``stored_hash`` (compared in constant time)."""
    return hmac.compare_digest(hash_key(key, pepper), stored_hash)


def require_tenant_id(value: object) -> str:
    """A tenant id: 1-64 letters, digits, ``.``, ``_`` or ``-``, starting alphanumeric."""
    if not isinstance(value, str) or not TENANT_PATTERN.match(value):
        raise InvalidInput(
            f"tenant id must be 1-64 letters, digits, '.', '_' or '-', got {value!r:.80}"
        )
    return value
