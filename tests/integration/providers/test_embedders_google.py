"""The Gemini API embedder against a real local server speaking batchEmbedContents."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mnemo.errors import DimensionMismatch, EmbeddingError
from mnemo.providers.embedders import GoogleEmbedder, RetryPolicy, load_embedder
from tests.support.fake_providers import GOOGLE_KEY, FakeProviderServer, Fault

FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


def gemini_at(server: FakeProviderServer, **options: Any) -> GoogleEmbedder:
    options.setdefault("retry", FAST_RETRY)
    options.setdefault("api_key", GOOGLE_KEY)
    return GoogleEmbedder(base_url=server.url, **options)


async def test_wire_format_key_header_and_task_types(fake_server: FakeProviderServer) -> None:
    async with gemini_at(fake_server, model="text-embedding-004") as embedder:
        query = await embedder.embed("where does the user live?", "query")
        passages = await embedder.embed_many(["lives in Lisbon", "likes tea"], "passage")
    first, second = fake_server.requests
    assert first.path == "/v1beta/models/text-embedding-004:batchEmbedContents"
    assert first.headers["x-goog-api-key"] == GOOGLE_KEY
    assert GOOGLE_KEY not in first.path
    assert first.body == {
        "requests": [
            {
                "model": "models/text-embedding-004",
                "taskType": "RETRIEVAL_QUERY",
                "content": {"parts": [{"text": "where does the user live?"}]},
            }
        ]
    }
    assert [r["taskType"] for r in second.body["requests"]] == ["RETRIEVAL_DOCUMENT"] * 2
    assert query.shape == (768,)
    assert passages.shape == (2, 768)
    want = FakeProviderServer.vector("text-embedding-004", "RETRIEVAL_DOCUMENT", "likes tea")
    np.testing.assert_allclose(passages[1], want, rtol=1e-5)


async def test_output_dimensionality_is_sent_and_vectors_normalised(
    fake_server: FakeProviderServer,
) -> None:
    embedder = load_embedder(
        "gemini:gemini-embedding-001",
        api_key=GOOGLE_KEY,
        output_dimensionality=768,
        base_url=fake_server.url,
    )
    async with embedder:
        vectors = await embedder.embed_many(["a", "b"], "passage")
    assert embedder.model_id == "google/gemini-embedding-001@768"
    assert fake_server.requests[0].body["requests"][0]["outputDimensionality"] == 768
    assert vectors.shape == (2, 768)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


async def test_batches_respect_batch_size(fake_server: FakeProviderServer) -> None:
    async with gemini_at(fake_server, batch_size=2, model="text-embedding-004") as embedder:
        await embedder.embed_many([f"t{i}" for i in range(5)])
    assert [len(r.body["requests"]) for r in fake_server.requests] == [2, 2, 1]


async def test_invalid_key_is_a_clear_error_without_the_key(
    fake_server: FakeProviderServer,
) -> None:
    async with gemini_at(fake_server, api_key="AIza-wrong-secret") as embedder:
        with pytest.raises(EmbeddingError, match=r"HTTP 400.*API key not valid") as caught:
            await embedder.embed("hello")
    assert "AIza-wrong-secret" not in str(caught.value)
    assert len(fake_server.requests) == 1


async def test_503_then_ok_is_retried(fake_server: FakeProviderServer) -> None:
    fake_server.queue(Fault(503, "The model is overloaded"))
    async with gemini_at(fake_server) as embedder:
        vector = await embedder.embed("hello")
    assert vector.shape == (3072,)
    assert len(fake_server.requests) == 2


async def test_wrong_dimension_is_a_dimension_mismatch(fake_server: FakeProviderServer) -> None:
    fake_server.queue(Fault(dimension=10))
    async with gemini_at(fake_server) as embedder:
        with pytest.raises(DimensionMismatch, match="10-d vector, expected 3072"):
            await embedder.embed("hello")


async def test_reply_without_embeddings_is_an_embedding_error(
    fake_server: FakeProviderServer,
) -> None:
    fake_server.queue(Fault(raw=b'{"candidates": []}'))
    async with gemini_at(fake_server) as embedder:
        with pytest.raises(EmbeddingError, match="no 'embeddings' list"):
            await embedder.embed("hello")
