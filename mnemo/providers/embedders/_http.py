"""JSON over HTTP for the remote embedders: bounded retries, every failure an ``EmbeddingError``.

This is the one boundary where httpx errors and HTTP statuses are translated.
Messages carry the status, the URL (never a query string) and the server's own
error message, with the API key redacted.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np

from mnemo.errors import ConfigurationError, DimensionMismatch, EmbeddingError
from mnemo.providers.embedders.base import Vectors

#: Statuses worth another try: timeouts, rate limits, and server-side failures.
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
_HINTS = {
    401: "check the API key",
    403: "the API key may not have access to this model",
    404: "check the model name and base_url",
}


@dataclass(frozen=True)
class RetryPolicy:
    """How a remote embedder retries: at most ``attempts`` tries in all, exponential backoff.

    Retries follow timeouts, connection errors and the statuses in
    ``RETRYABLE_STATUSES``. The n-th wait is ``base_delay * 2**(n-1)`` (or the
    server's ``Retry-After``), capped at ``max_delay``, with jitter.
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.base_delay < 0 or self.max_delay < 0:
            raise ConfigurationError("retry attempts must be >= 1 and delays >= 0")

    def delay(self, retry: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        wanted = retry_after if retry_after is not None else self.base_delay * 2 ** (retry - 1)
        return min(self.max_delay, wanted) * random.uniform(0.75, 1.0)


class _Retryable(Exception):
    """One failed try that may succeed if repeated."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class JsonApi:
    """POSTs JSON to one service and returns the decoded reply, or raises ``EmbeddingError``.

    ``label`` names the model in messages; ``secret`` (the API key) is redacted
    from them. The httpx client is created on first use and closed by
    ``aclose()``; a caller's own ``client`` is used as is and never closed.
    """

    def __init__(
        self,
        *,
        label: str,
        headers: Mapping[str, str],
        timeout: float,
        retry: RetryPolicy,
        secret: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._label = label
        self._headers = dict(headers)
        self._timeout = timeout
        self._retry = retry
        self._secret = secret
        self._client = client
        self._owns_client = client is None

    async def post(self, url: str, payload: Mapping[str, Any]) -> Any:
        """POST ``payload`` to ``url``, retrying per the policy; the JSON reply."""
        for attempt in range(1, self._retry.attempts + 1):
            try:
                return await self._post_once(url, payload)
            except _Retryable as failure:
                if attempt == self._retry.attempts:
                    raise self._error(
                        f"{failure.reason} (gave up after {attempt} attempts)"
                    ) from failure.__cause__
                await asyncio.sleep(self._retry.delay(attempt, failure.retry_after))
        raise AssertionError("unreachable: RetryPolicy.attempts >= 1")

    async def aclose(self) -> None:
        """Close the client this object created; a later ``post`` opens a new one."""
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _post_once(self, url: str, payload: Mapping[str, Any]) -> Any:
        try:
            response = await self._http().post(url, json=payload, headers=self._headers)
        except httpx.TimeoutException as exc:
            raise _Retryable(f"no reply from {url} within {self._timeout:g} s") from exc
        except httpx.TransportError as exc:
            raise _Retryable(f"could not reach {url}: {exc!r}") from exc
        if response.status_code in RETRYABLE_STATUSES:
            raise _Retryable(_status_text(response, url), _retry_after(response))
        if not response.is_success:
            raise self._error(_status_text(response, url))
        return self._decode(response, url)

    def _decode(self, response: httpx.Response, url: str) -> Any:
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise self._error(
                f"HTTP {response.status_code} from {url} is not JSON: {response.text[:120]!r}"
            ) from exc

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self._timeout))
        return self._client

    def _error(self, detail: str) -> EmbeddingError:
        if self._secret:
            detail = detail.replace(self._secret, "***")
        return EmbeddingError(f"{self._label}: {detail}")


def vectors_from_rows(rows: Sequence[Any], dimension: int, label: str) -> Vectors:
    """Stack JSON number lists into a float32 (len(rows), dimension) array.

    Raises ``DimensionMismatch`` when a row has another length and
    ``EmbeddingError`` when a row is not a list of numbers.
    """
    for position, row in enumerate(rows):
        if not isinstance(row, list):
            raise EmbeddingError(f"{label}: embedding {position} is not a list of numbers")
        if len(row) != dimension:
            raise DimensionMismatch(f"{label} returned a {len(row)}-d vector, expected {dimension}")
    try:
        return np.asarray(rows, dtype=np.float32).reshape(len(rows), dimension)
    except (TypeError, ValueError) as exc:
        raise EmbeddingError(f"{label}: embeddings are not lists of numbers") from exc


def _status_text(response: httpx.Response, url: str) -> str:
    text = f"HTTP {response.status_code} {response.reason_phrase} from {url}"
    message = _server_message(response)
    if message:
        text += f": {message}"
    hint = _HINTS.get(response.status_code)
    return f"{text} ({hint})" if hint else text


def _server_message(response: httpx.Response) -> str:
    """The error text OpenAI-, Gemini- and Ollama-style servers put in their bodies."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text.strip()[:200]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        error = error.get("message")
    return str(error)[:500] if error else json.dumps(body)[:200]


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers["retry-after"]))
    except (KeyError, ValueError):
        return None  # absent, or an HTTP date: fall back to our own backoff
