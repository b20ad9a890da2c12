"""Turning the service's answers back into mnemo's errors, for both clients."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx

from mnemo import errors
from mnemo.errors import MnemoError, StoreUnavailable

_BY_STATUS: dict[int, type[MnemoError]] = {
    400: errors.InvalidInput,
    401: errors.Unauthenticated,
    403: errors.Forbidden,
    404: errors.NotFound,
    405: errors.InvalidInput,
    409: errors.Conflict,
    413: errors.PayloadTooLarge,
    422: errors.InvalidInput,
    429: errors.RateLimited,
    502: errors.ProviderError,
    503: errors.StoreUnavailable,
}


def error_from(response: httpx.Response) -> MnemoError:
    """The ``MnemoError`` a failed response stands for: by its ``type``, else its status."""
    payload: Any = None
    with contextlib.suppress(ValueError):
        payload = response.json()
    body = payload.get("error") if isinstance(payload, dict) else None
    message = body.get("message") if isinstance(body, dict) else None
    name = body.get("type") if isinstance(body, dict) else None
    cls = getattr(errors, name, None) if isinstance(name, str) and name in errors.__all__ else None
    if not (isinstance(cls, type) and issubclass(cls, MnemoError)):
        cls = _BY_STATUS.get(response.status_code, MnemoError)
    error = cls(message or f"the mnemo service answered HTTP {response.status_code}")
    if isinstance(error, errors.RateLimited):
        retry = response.headers.get("Retry-After")
        error.retry_after = float(retry) if retry and retry.isdigit() else None
    return error


def unreachable(base_url: str, exc: httpx.HTTPError) -> StoreUnavailable:
    return StoreUnavailable(f"cannot reach the mnemo service at {base_url}: {exc}")


def headers_for(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}
