"""A chat-completions client for any server speaking OpenAI's wire format.

OpenAI, Ollama (``http://localhost:11434/v1``), llama.cpp's ``llama-server``, vLLM,
LM Studio and Gemini's OpenAI-compatible endpoint
(``https://generativelanguage.googleapis.com/v1beta/openai``) all accept
``POST {base_url}/chat/completions``. They differ in how much of
``response_format`` they understand, so the client starts with a JSON schema,
falls back to ``{"type": "json_object"}`` and then to no ``response_format`` when
the server refuses it, and remembers what worked. A refusal is a 400 or 422 whose
message is about the response format — or a 500 saying so, which is how
``llama-cpp-python``'s server (0.3.x) rejects ``json_schema``: that one is not retried.

Plain ``httpx``; no vendor SDK. Credentials are constructor arguments: reading the
environment is the entry points' job. The API key is sent as a bearer token and
never appears in an error message.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import httpx

from mnemo.errors import ConfigurationError, LLMError
from mnemo.providers.llms.base import LLM, ChatMessage, Completion, JSONRepairError, Usage
from mnemo.providers.llms.base import repair_json as _repair_json

__all__ = ["OpenAICompatibleLLM", "gemini", "llamacpp", "lmstudio", "ollama", "openai", "vllm"]

ResponseFormat = Literal["json_schema", "json_object", "none"]
#: The order ``response_format`` modes are tried in, most precise first.
FORMAT_FALLBACK: tuple[ResponseFormat, ...] = ("json_schema", "json_object", "none")
_FORMAT_WORDS = ("response_format", "response format", "json_schema", "json_object", "structured")
_RETRYABLE_STATUS = frozenset({408, 409, 429})
#: Statuses a server refuses a ``response_format`` with (500: llama-cpp-python's server).
_FORMAT_REFUSAL_STATUS = frozenset({400, 422, 500})


class OpenAICompatibleLLM(LLM):
    """An LLM behind ``POST {base_url}/chat/completions``.

    ``response_format`` pins a mode (``"json_schema"``, ``"json_object"``, ``"none"``)
    or, with ``"auto"``, discovers the best one the server accepts. Requests that
    time out, cannot connect, or get 408/409/429/5xx are retried up to
    ``max_retries`` times with exponential backoff and jitter, as OpenAI's own SDK
    does (a ``Retry-After`` header wins, capped at ``max_backoff_seconds``).
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str = "https://api.openai.com/v1",
        api_key: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 8.0,
        response_format: ResponseFormat | Literal["auto"] = "auto",
        strict_schema: bool = True,
        max_tokens_param: str = "max_tokens",
        headers: Mapping[str, str] | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if not model:
            raise ConfigurationError("an OpenAI-compatible LLM needs a model name")
        if response_format != "auto" and response_format not in FORMAT_FALLBACK:
            raise ConfigurationError(f"unknown response_format mode {response_format!r}")
        self.model = model
        self.model_id = f"openai-compatible/{model}"
        self.base_url = base_url.rstrip("/")
        # Shown in errors; never with credentials that may sit in the URL.
        self._shown_url = str(httpx.URL(self.base_url).copy_with(username=None, password=None))
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.strict_schema = strict_schema
        self.max_tokens_param = max_tokens_param
        self._pinned_format = response_format != "auto"
        self._format: ResponseFormat = (
            "json_schema" if response_format == "auto" else response_format
        )
        self._api_key = api_key
        self._headers = {
            **(headers or {}),
            **({"Authorization": f"Bearer {api_key}"} if api_key else {}),
        }
        self._client = client
        self._owns_client = client is None

    @property
    def response_format_mode(self) -> ResponseFormat:
        """The ``response_format`` mode requests with a schema currently use."""
        return self._format

    async def open(self) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout)

    async def aclose(self) -> None:
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        schema: dict[str, Any] | None = None,
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> Completion:
        """POST the chat; with ``schema``, ask for JSON in the best mode the server takes."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "temperature": temperature,
            "stream": False,
        }
        if max_tokens is not None:
            body[self.max_tokens_param] = max_tokens
        started = time.perf_counter()
        response = await self._post_negotiating_format(body, schema)
        return self._completion(response, schema, time.perf_counter() - started)

    async def _post_negotiating_format(
        self, body: dict[str, Any], schema: dict[str, Any] | None
    ) -> httpx.Response:
        while True:
            mode = self._format if schema is not None else "none"
            request = {**body, **self._response_format(mode, schema)}
            response = await self._post(request)
            if response.is_success:
                return response
            if not self._pinned_format and _rejects_format(response, request):
                self._format = FORMAT_FALLBACK[FORMAT_FALLBACK.index(mode) + 1]
                continue
            raise LLMError(self._describe_failure(response))

    def _response_format(
        self, mode: ResponseFormat, schema: dict[str, Any] | None
    ) -> dict[str, Any]:
        if mode == "json_object":
            return {"response_format": {"type": "json_object"}}
        if mode == "json_schema" and schema is not None:
            spec = {"name": _schema_name(schema), "schema": schema, "strict": self.strict_schema}
            return {"response_format": {"type": "json_schema", "json_schema": spec}}
        return {}

    async def _post(self, body: dict[str, Any]) -> httpx.Response:
        """POST with retries on transient failures; return the final non-transient response."""
        await self.open()
        assert self._client is not None
        url = f"{self.base_url}/chat/completions"
        problem = ""
        for attempt in range(self.max_retries + 1):
            retry_after: float | None = None
            try:
                response = await self._client.post(
                    url, json=body, headers=self._headers, timeout=self.timeout
                )
            except httpx.TimeoutException:
                problem = f"no reply within {self.timeout:g} s"
            except httpx.TransportError as exc:
                problem = f"could not reach the server ({type(exc).__name__})"
            else:
                if not _is_transient(response.status_code) or _rejects_format(response, body):
                    return response  # a refused format is not transient: negotiate instead
                problem = self._describe_failure(response)
                retry_after = _retry_after_seconds(response)
            if attempt < self.max_retries:
                await asyncio.sleep(self._backoff(attempt, retry_after))
        raise LLMError(
            f"{self.model_id} at {self._shown_url} failed after "
            f"{self.max_retries + 1} attempt(s): {problem}"
        )

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_backoff_seconds)
        delay = min(self.backoff_seconds * 2.0**attempt, self.max_backoff_seconds)
        return delay * (0.5 + random.random() / 2)  # jitter spreads synchronized retries

    def _completion(
        self, response: httpx.Response, schema: dict[str, Any] | None, latency: float
    ) -> Completion:
        try:
            data = response.json()
            choice = data["choices"][0]
            message = choice["message"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise LLMError(
                f"{self.model_id} returned a reply that is not a chat completion: "
                f"{_preview(response.text)}"
            ) from exc
        text = _message_text(message)
        if not text and message.get("refusal"):
            raise LLMError(f"{self.model_id} refused: {_preview(str(message['refusal']))}")
        return Completion(
            text=text,
            model=str(data.get("model") or self.model),
            usage=_usage(data.get("usage")),
            latency_seconds=latency,
            parsed=_parse_or_none(text) if schema is not None else None,
            finish_reason=choice.get("finish_reason"),
        )

    def _describe_failure(self, response: httpx.Response) -> str:
        message = _server_message(response)
        if self._api_key:
            message = message.replace(self._api_key, "***")
        return f"{self.model_id} at {self._shown_url} answered {response.status_code}: {message}"


def _is_transient(status: int) -> bool:
    return status in _RETRYABLE_STATUS or status >= 500


def _rejects_format(response: httpx.Response, body: dict[str, Any]) -> bool:
    """Whether the answer to ``body`` is the server refusing its ``response_format``."""
    if "response_format" not in body or response.status_code not in _FORMAT_REFUSAL_STATUS:
        return False
    message = _server_message(response).lower()
    return any(word in message for word in _FORMAT_WORDS)


def _server_message(response: httpx.Response) -> str:
    """The error message a server put in its body (OpenAI's shape or plain text)."""
    try:
        data = response.json()
    except ValueError:
        return _preview(response.text) or response.reason_phrase
    if isinstance(data, list) and data:  # Gemini sometimes wraps the error in a list
        data = data[0]
    error = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(error, dict):
        error = error.get("message") or error.get("detail") or error
    return _preview(str(error))


def _retry_after_seconds(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers["retry-after"]))
    except (KeyError, ValueError):
        return None


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):  # some servers return content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


def _usage(raw: Any) -> Usage:
    if not isinstance(raw, dict):
        return Usage()
    return Usage(int(raw.get("prompt_tokens") or 0), int(raw.get("completion_tokens") or 0))


def _parse_or_none(text: str) -> Any:
    try:
        return _repair_json(text)
    except JSONRepairError:
        return None


def _schema_name(schema: dict[str, Any]) -> str:
    """A name OpenAI accepts for the schema (``^[a-zA-Z0-9_-]{1,64}$``)."""
    title = str(schema.get("title") or "reply")
    cleaned = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in title)
    return cleaned[:64] or "reply"


def _preview(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


# --- presets for well-known servers (entry points of the ``mnemo.llms`` group) -------


def openai(model: str = "gpt-4o-mini", **options: Any) -> OpenAICompatibleLLM:
    """OpenAI's API; pass ``api_key``."""
    options.setdefault("base_url", "https://api.openai.com/v1")
    options.setdefault("max_tokens_param", "max_completion_tokens")
    return OpenAICompatibleLLM(model, **options)


def gemini(model: str = "gemini-2.5-flash", **options: Any) -> OpenAICompatibleLLM:
    """Google Gemini through its OpenAI-compatible endpoint; pass ``api_key``."""
    options.setdefault("base_url", "https://generativelanguage.googleapis.com/v1beta/openai")
    return OpenAICompatibleLLM(model, **options)


def ollama(model: str = "llama3.1", **options: Any) -> OpenAICompatibleLLM:
    """A local Ollama server; no key needed."""
    options.setdefault("base_url", "http://localhost:11434/v1")
    options.setdefault("timeout", 300.0)  # local models on CPU are slow
    return OpenAICompatibleLLM(model, **options)


def llamacpp(model: str = "local", **options: Any) -> OpenAICompatibleLLM:
    """llama.cpp's ``llama-server``, by default on port 8080; it serves the model it
    was started with, whatever ``model`` says."""
    options.setdefault("base_url", "http://localhost:8080/v1")
    options.setdefault("timeout", 300.0)  # local models on CPU are slow
    return OpenAICompatibleLLM(model, **options)


def vllm(model: str, **options: Any) -> OpenAICompatibleLLM:
    """A vLLM server (``vllm serve``), by default on port 8000."""
    options.setdefault("base_url", "http://localhost:8000/v1")
    return OpenAICompatibleLLM(model, **options)


def lmstudio(model: str, **options: Any) -> OpenAICompatibleLLM:
    """LM Studio's local server, by default on port 1234."""
    options.setdefault("base_url", "http://localhost:1234/v1")
    options.setdefault("timeout", 300.0)
    return OpenAICompatibleLLM(model, **options)
