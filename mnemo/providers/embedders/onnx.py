"""Sentence-transformers-style ONNX models on onnxruntime: ``model.onnx`` + ``tokenizer.json``.

The pipeline is the usual one for such models: tokenize (truncate to
``max_length``), run the graph, mean-pool the last hidden state over real
tokens (a graph that already outputs a 2-d sentence embedding is used as is),
L2-normalise. ``onnxruntime`` and ``tokenizers`` are optional: they are
imported when the model loads, never at import.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mnemo.errors import ConfigurationError
from mnemo.providers.embedders._worker import ModelThread
from mnemo.providers.embedders.base import Embedder, InputType, Vectors

if TYPE_CHECKING:
    from tokenizers import Encoding, Tokenizer

INSTALL_HINT = "pip install 'mnemo[onnx]'  (onnxruntime and tokenizers)"
#: Graph inputs this embedder knows how to feed.
KNOWN_INPUTS = frozenset({"input_ids", "attention_mask", "token_type_ids"})


class OnnxEmbedder(Embedder):
    """An ONNX text encoder with a Hugging Face ``tokenizer.json``.

    Give ``model_dir`` (holding ``model.onnx`` or ``onnx/model.onnx``, and
    ``tokenizer.json``) or both ``model_path`` and ``tokenizer_path``. ``model_id``
    defaults to ``"onnx/<directory name>"``. ``dimension`` is read from the graph
    when not given (it is 0 until the model loads). ``model_sha256`` and
    ``tokenizer_sha256`` pin the exact files. ``num_threads`` is onnxruntime's
    intra-op thread count.
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        model_path: str | Path | None = None,
        tokenizer_path: str | Path | None = None,
        model_id: str | None = None,
        dimension: int | None = None,
        max_length: int = 256,
        query_prefix: str = "",
        passage_prefix: str = "",
        model_sha256: str | None = None,
        tokenizer_sha256: str | None = None,
        num_threads: int = 1,
        batch_size: int = 32,
    ) -> None:
        if min(max_length, num_threads, batch_size, dimension or 1) < 1:
            raise ConfigurationError(
                "max_length, num_threads, batch_size and dimension must be >= 1"
            )
        self._model_path, self._tokenizer_path = _resolve_paths(
            model_dir, model_path, tokenizer_path
        )
        self.model_id = model_id or f"onnx/{self._model_path.parent.name}"
        self.dimension = dimension or 0
        self.batch_size = batch_size
        self._max_length = max_length
        self._prefixes = {"query": query_prefix, "passage": passage_prefix}
        self._hashes = {self._model_path: model_sha256, self._tokenizer_path: tokenizer_sha256}
        self._num_threads = num_threads
        self._session: Any = None
        self._tokenizer: Tokenizer | None = None
        self._verified = False
        # count_tokens (event-loop thread) and the model thread may both load.
        self._load_lock = threading.RLock()
        self._thread = ModelThread("mnemo-onnx")

    async def open(self) -> None:
        """Load the tokenizer and the graph on the model thread; again is a no-op."""
        if self._session is None:
            await self._thread.run(self._loaded_session)

    async def aclose(self) -> None:
        """Stop the model thread and drop the session; a later call loads it again."""
        self._thread.close()
        self._session = None

    async def embed_batch(self, texts: Sequence[str], input_type: InputType) -> Vectors:
        """Embed on the model thread, with the prefix for ``input_type`` if one is set."""
        prefix = self._prefixes[input_type]
        return await self._thread.run(self._encode, [prefix + text for text in texts])

    def count_tokens(self, text: str) -> int:
        """Tokens the graph sees for ``text`` as a passage: specials included, truncated."""
        encoding = self._loaded_tokenizer().encode(self._prefixes["passage"] + text)
        return len(encoding.ids)

    def _encode(self, texts: list[str]) -> Vectors:
        session = self._loaded_session()
        encodings = self._loaded_tokenizer().encode_batch(texts)
        return _embed(session, encodings)

    def _loaded_session(self) -> Any:
        with self._load_lock:
            if self._session is None:
                self._verify_files()
                session = _open_session(self._model_path, self._num_threads)
                self.dimension = _checked_dimension(session, self.dimension, self.model_id)
                self._session = session
            return self._session

    def _loaded_tokenizer(self) -> Tokenizer:
        with self._load_lock:
            if self._tokenizer is None:
                self._verify_files()
                self._tokenizer = _open_tokenizer(self._tokenizer_path, self._max_length)
            return self._tokenizer

    def _verify_files(self) -> None:
        if self._verified:
            return
        for path, expected in self._hashes.items():
            if expected and _sha256(path) != expected:
                raise ConfigurationError(
                    f"{path} is not the file {self.model_id} expects (sha256 differs); reinstall it"
                )
        self._verified = True


def _resolve_paths(
    model_dir: str | Path | None, model_path: str | Path | None, tokenizer_path: str | Path | None
) -> tuple[Path, Path]:
    if model_dir is not None:
        root = Path(model_dir)
        candidates = (root / "model.onnx", root / "onnx" / "model.onnx")
        model_path = model_path or next((p for p in candidates if p.is_file()), candidates[0])
        tokenizer_path = tokenizer_path or root / "tokenizer.json"
    if model_path is None or tokenizer_path is None:
        raise ConfigurationError("OnnxEmbedder needs model_dir, or model_path and tokenizer_path")
    for path in (Path(model_path), Path(tokenizer_path)):
        if not path.is_file():
            raise ConfigurationError(f"OnnxEmbedder: no file at {path}")
    return Path(model_path), Path(tokenizer_path)


def _open_tokenizer(path: Path, max_length: int) -> Tokenizer:
    try:
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise ConfigurationError(f"the ONNX embedders need tokenizers: {INSTALL_HINT}") from exc
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_length=max_length)
    # Pad each batch to its longest text only: some tokenizer.json files ship a fixed
    # padding length (all-MiniLM-L6-v2's: 128), which would make every query cost 128 tokens.
    padding = tokenizer.padding or {}
    tokenizer.enable_padding(
        pad_id=padding.get("pad_id", 0),
        pad_type_id=padding.get("pad_type_id", 0),
        pad_token=padding.get("pad_token", "[PAD]"),
    )
    return tokenizer


def _open_session(path: Path, num_threads: int) -> Any:
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise ConfigurationError(f"the ONNX embedders need onnxruntime: {INSTALL_HINT}") from exc
    options = ort.SessionOptions()
    options.intra_op_num_threads = num_threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # Idle intra-op threads sleep instead of spinning: on a busy machine spinning
    # doubled query latency with 2 threads (the OMP_WAIT_POLICY=PASSIVE of onnxruntime).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    unknown = {i.name for i in session.get_inputs()} - KNOWN_INPUTS
    if unknown:
        raise ConfigurationError(f"{path}: cannot feed graph inputs {sorted(unknown)}")
    return session


def _checked_dimension(session: Any, expected: int, model_id: str) -> int:
    """The graph's static output width, which must equal ``expected`` when that is set."""
    width = session.get_outputs()[0].shape[-1]
    if not isinstance(width, int):
        return expected  # dynamic: the base class checks every batch's shape anyway
    if expected and width != expected:
        raise ConfigurationError(f"{model_id}: the graph outputs {width}-d vectors, not {expected}")
    return width


def _embed(session: Any, encodings: list[Encoding]) -> Vectors:
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    columns = {
        "input_ids": ids,
        "attention_mask": mask,
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
    }
    feeds = {i.name: columns[i.name] for i in session.get_inputs()}
    output = np.asarray(session.run(None, feeds)[0], dtype=np.float32)
    pooled = output if output.ndim == 2 else _mean_pool(output, mask)
    return _l2_normalised(pooled)


def _mean_pool(hidden: Vectors, mask: np.ndarray[Any, np.dtype[np.int64]]) -> Vectors:
    weights = mask[..., None].astype(np.float32)
    counts = np.maximum(weights.sum(axis=1), np.float32(1e-9))
    return np.asarray((hidden * weights).sum(axis=1) / counts, dtype=np.float32)


def _l2_normalised(vectors: Vectors) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, np.float32(1e-12)), dtype=np.float32)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
