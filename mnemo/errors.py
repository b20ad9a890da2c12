"""The errors mnemo raises, as one tree.

    MnemoError
    ├── InvalidInput            bad arguments; nothing was changed   (HTTP 422)
    │   ├── DimensionMismatch   a vector of the wrong length
    │   ├── InvalidFilter       a malformed metadata filter
    │   └── PayloadTooLarge     a request body over the service's limit (HTTP 413)
    ├── NotFound                no such id in this scope             (HTTP 404)
    ├── Conflict                the store's state forbids the call   (HTTP 409)
    │   └── EmbeddingModelMismatch
    ├── Forbidden               the caller may not do this           (HTTP 403)
    │   └── Unauthenticated     no valid API key was presented       (HTTP 401)
    ├── RateLimited             too many requests for one API key    (HTTP 429)
    ├── StoreUnavailable        PostgreSQL cannot be reached/used    (HTTP 503)
    │   ├── ExtensionMissing    pgvector is not installed on the server
    │   └── CitusMissing        distributing needs the citus extension in the database
    ├── ProviderError           an embedder or LLM failed            (HTTP 502)
    │   ├── EmbeddingError
    │   └── LLMError
    ├── ConfigurationError      mnemo was configured inconsistently
    │   ├── InvalidDatabaseURL  a database URL libpq cannot parse
    │   └── UnsupportedSchema   a database shape mnemo cannot distribute
    └── WaitTimeout             background work did not finish in time (HTTP 504)

Each class's docstring is its default message. Driver errors (psycopg, httpx,
redis) are translated at one boundary each with ``raise ... from exc``.
"""

from __future__ import annotations


class MnemoError(Exception):
    """mnemo failed."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message or (self.__doc__ or "").strip()
        super().__init__(self.message)


class InvalidInput(MnemoError, ValueError):
    """The input is not valid."""


class DimensionMismatch(InvalidInput):
    """The vector does not have the store's dimension."""


class InvalidFilter(InvalidInput):
    """The filter is malformed."""


class PayloadTooLarge(InvalidInput):
    """The request body is larger than the service accepts."""


class NotFound(MnemoError, LookupError):
    """Nothing with that id exists in this scope."""


class Conflict(MnemoError):
    """The store's current state does not allow this operation."""


class EmbeddingModelMismatch(Conflict):
    """The store was embedded with a different model than the one configured."""


class Forbidden(MnemoError):
    """The caller is not allowed to do this."""


class Unauthenticated(Forbidden):
    """A valid API key is required (header "Authorization: Bearer <key>" or "X-API-Key")."""


class RateLimited(MnemoError):
    """Too many requests for this API key; retry after a pause."""

    def __init__(self, message: str | None = None, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreUnavailable(MnemoError):
    """PostgreSQL is not reachable or not usable."""


class ExtensionMissing(StoreUnavailable):
    """The pgvector extension is not available on this PostgreSQL server."""


class CitusMissing(StoreUnavailable):
    """Distributing needs the citus extension, created in this database on every node."""


class ProviderError(MnemoError):
    """A provider (embedder or LLM) failed."""


class EmbeddingError(ProviderError):
    """The embedder failed."""


class LLMError(ProviderError):
    """The LLM call failed."""


class ConfigurationError(MnemoError):
    """mnemo is configured inconsistently."""


class InvalidDatabaseURL(ConfigurationError):
    """A database URL is malformed (libpq cannot parse it)."""


class UnsupportedSchema(ConfigurationError):
    """The database has a shape mnemo cannot distribute."""


class WaitTimeout(MnemoError, TimeoutError):
    """Background work did not finish in time; it carries on, and nothing was lost."""


__all__ = [
    "ConfigurationError",
    "Conflict",
    "DimensionMismatch",
    "EmbeddingError",
    "EmbeddingModelMismatch",
    "ExtensionMissing",
    "Forbidden",
    "InvalidDatabaseURL",
    "InvalidFilter",
    "InvalidInput",
    "LLMError",
    "MnemoError",
    "NotFound",
    "PayloadTooLarge",
    "ProviderError",
    "RateLimited",
    "StoreUnavailable",
    "Unauthenticated",
    "WaitTimeout",
]
