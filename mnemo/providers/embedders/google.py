"""Gemini API embeddings over plain httpx: ``models/{model}:batchEmbedContents``.

The key travels in the ``x-goog-api-key`` header, never in the URL, so it cannot
leak through an error message or a log line that prints the URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
import numpy as np

from mnemo.errors import ConfigurationError, EmbeddingError
from mnemo.providers.embedders._http import JsonApi, RetryPolicy, vectors_from_rows
from mnemo.providers.embedders.base import Embedder, InputType, Vectors

GOOGLE_BASE_URL = "https://generativelanguage.googleapis.com"
#: Native dimension of each Gemini API embedding model.
GOOGLE_MODELS = {"gemini-embedding-001": 3072, "text-embedding-004": 768}
#: Gemini's asymmetric retrieval task per mnemo input type.
TASK_TYPES = {"query": "RETRIEVAL_QUERY", "passage": "RETRIEVAL_DOCUMENT"}
#: Most requests one batchEmbedContents call accepts.
MAX_BATCH = 100


class GoogleEmbedder(Embedder):
    """Gemini embedding models (``gemini-embedding-001`` by default, 3072-d).

    ``output_dimensionality`` shortens the vectors (Matryoshka truncation; 768
    and 1536 are the sizes Google recommends); the ``model_id`` then ends in
    ``@<n>``. Vectors are L2-normalised here, since Google returns shortened
    ones unnormalised. A model missing from ``GOOGLE_MODELS`` needs ``output_dimensionality``.
    """

    def __init__(
        self,
        model: str = "gemini-embedding-001",
        *,
        api_key: str | None = None,
        output_dimensionality: int | None = None,
        base_url: str = GOOGLE_BASE_URL,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        batch_size: int = MAX_BATCH,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        if not api_key:
            raise ConfigurationError("GoogleEmbedder needs an api_key (e.g. from GOOGLE_API_KEY)")
        if not 1 <= batch_size <= MAX_BATCH:
            raise ConfigurationError(f"batch_size must be between 1 and {MAX_BATCH}")
        self.dimension = _google_dimension(model, output_dimensionality)
        shortened = output_dimensionality not in (None, GOOGLE_MODELS.get(model))
        self.model_id = f"google/{model}" + (f"@{output_dimensionality}" if shortened else "")
        self.batch_size = batch_size
        self._model = model.removeprefix("models/")
        self._output_dimensionality = output_dimensionality
        self._url = f"{base_url.rstrip('/')}/v1beta/models/{self._model}:batchEmbedContents"
        self._api = JsonApi(
            label=self.model_id,
            headers={"x-goog-api-key": api_key},
            timeout=timeout,
            retry=retry or RetryPolicy(),
            secret=api_key,
            client=http_client,
        )

    async def aclose(self) -> None:
        """Close the HTTP client; a later call opens a new one."""
        await self._api.aclose()

    async def embed_batch(self, texts: Sequence[str], input_type: InputType) -> Vectors:
        """One batchEmbedContents call; ``input_type`` picks the retrieval task type."""
        body = await self._api.post(self._url, {"requests": self._requests(texts, input_type)})
        rows = _values(body, len(texts), self.model_id)
        return _normalised(vectors_from_rows(rows, self.dimension, self.model_id))

    def _requests(self, texts: Sequence[str], input_type: InputType) -> list[dict[str, Any]]:
        request: dict[str, Any] = {
            "model": f"models/{self._model}",
            "taskType": TASK_TYPES[input_type],
        }
        if self._output_dimensionality is not None:
            request["outputDimensionality"] = self._output_dimensionality
        return [{**request, "content": {"parts": [{"text": text}]}} for text in texts]


def _google_dimension(model: str, output_dimensionality: int | None) -> int:
    native = GOOGLE_MODELS.get(model.removeprefix("models/"))
    if output_dimensionality is None:
        if native is None:
            raise ConfigurationError(
                f"unknown Gemini embedding model {model!r}: known ones are "
                f"{sorted(GOOGLE_MODELS)}; for another model pass output_dimensionality=..."
            )
        return native
    if output_dimensionality < 1:
        raise ConfigurationError("output_dimensionality must be at least 1")
    if native is not None and output_dimensionality > native:
        raise ConfigurationError(f"{model} takes output_dimensionality between 1 and {native}")
    return output_dimensionality


def _values(body: Any, count: int, label: str) -> list[Any]:
    """``body["embeddings"][i]["values"]``, which Google returns in request order."""
    embeddings = body.get("embeddings") if isinstance(body, dict) else None
    if not isinstance(embeddings, list) or not all(isinstance(e, dict) for e in embeddings):
        raise EmbeddingError(f"{label}: the reply has no 'embeddings' list")
    if len(embeddings) != count:
        raise EmbeddingError(f"{label}: sent {count} texts, got {len(embeddings)} embeddings back")
    return [embedding.get("values") for embedding in embeddings]


def _normalised(vectors: Vectors) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, np.float32(1e-12)), dtype=np.float32)
