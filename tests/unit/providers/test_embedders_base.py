"""What ``Embedder`` writes once on top of ``embed_batch``: batching, shape checks, error typing."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from mnemo.errors import ConfigurationError, DimensionMismatch, EmbeddingError, InvalidInput
from mnemo.providers.embedders import Embedder, InputType, RetryPolicy, Vectors
from mnemo.providers.embedders._http import vectors_from_rows


class Recording(Embedder):
    """Embeds text i as [len(text), i-within-batch, 1]; can be told to misbehave."""

    model_id = "test/recording"
    dimension = 3
    batch_size = 2

    def __init__(self, failure: Exception | None = None, width: int = 3) -> None:
        self.batches: list[list[str]] = []
        self.failure = failure
        self.width = width
        self.opened = self.closed = False

    async def open(self) -> None:
        self.opened = True

    async def aclose(self) -> None:
        self.closed = True

    async def embed_batch(self, texts: Sequence[str], input_type: InputType) -> Vectors:
        self.batches.append(list(texts))
        if self.failure:
            raise self.failure
        rows = [[len(t), i, 1.0][: self.width] for i, t in enumerate(texts)]
        return np.array(rows, dtype=np.float32).reshape(len(texts), self.width)


async def test_embed_many_batches_and_keeps_order() -> None:
    embedder = Recording()
    vectors = await embedder.embed_many(["a", "bb", "ccc", "dddd", "eeeee"])
    assert embedder.batches == [["a", "bb"], ["ccc", "dddd"], ["eeeee"]]
    assert vectors[:, 0].tolist() == [1, 2, 3, 4, 5]
    assert vectors.dtype == np.float32


async def test_embed_returns_one_vector_and_empty_input_an_empty_matrix() -> None:
    embedder = Recording()
    assert (await embedder.embed("abc")).tolist() == [3, 0, 1]
    assert (await embedder.embed_many([])).shape == (0, 3)


@pytest.mark.parametrize("texts", [["fine", ""], ["   "], "a string"])
async def test_bad_texts_are_invalid_input(texts: Sequence[str]) -> None:
    with pytest.raises(InvalidInput):
        await Recording().embed_many(texts)


async def test_wrong_width_is_a_dimension_mismatch() -> None:
    with pytest.raises(DimensionMismatch, match=r"returned shape \(1, 2\), expected \(1, 3\)"):
        await Recording(width=2).embed("abc")


async def test_non_finite_values_are_an_embedding_error() -> None:
    class NaNs(Recording):
        async def embed_batch(self, texts: Sequence[str], input_type: InputType) -> Vectors:
            return np.full((len(texts), 3), np.nan, dtype=np.float32)

    with pytest.raises(EmbeddingError, match="non-finite"):
        await NaNs().embed("abc")


async def test_foreign_errors_are_wrapped_and_mnemo_errors_kept() -> None:
    with pytest.raises(EmbeddingError, match="test/recording failed to embed: boom") as caught:
        await Recording(RuntimeError("boom")).embed("abc")
    assert isinstance(caught.value.__cause__, RuntimeError)
    with pytest.raises(ConfigurationError, match="missing extra"):
        await Recording(ConfigurationError("missing extra")).embed("abc")


async def test_async_context_manager_opens_and_closes() -> None:
    async with Recording() as embedder:
        assert embedder.opened
        assert not embedder.closed
    assert embedder.closed


def test_default_token_count_is_a_rough_estimate() -> None:
    assert Recording().count_tokens("x" * 40) == 10
    assert Recording().count_tokens("x") == 1


def test_vectors_from_rows_checks_every_row() -> None:
    assert vectors_from_rows([[1, 2], [3, 4]], 2, "m").dtype == np.float32
    with pytest.raises(DimensionMismatch, match="m returned a 1-d vector, expected 2"):
        vectors_from_rows([[1, 2], [3]], 2, "m")
    with pytest.raises(EmbeddingError, match="not a list"):
        vectors_from_rows(["AAAA"], 2, "m")
    with pytest.raises(EmbeddingError, match="not lists of numbers"):
        vectors_from_rows([["a", "b"]], 2, "m")


def test_retry_delays_grow_and_stay_bounded() -> None:
    policy = RetryPolicy(attempts=6, base_delay=0.5, max_delay=4.0)
    delays = [policy.delay(retry, None) for retry in range(1, 6)]
    assert 0.375 <= delays[0] <= 0.5
    assert 3.0 <= delays[-1] <= 4.0
    assert policy.delay(1, retry_after=100) <= 4.0
    with pytest.raises(ConfigurationError):
        RetryPolicy(attempts=0)
