"""Timings the engine reports: metrics exporters and benchmarks subscribe to them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Observer(Protocol):
    """Receives one measurement: an operation name and its duration in seconds."""

    def __call__(self, name: str, seconds: float) -> None: ...


class Observers:
    """A set of observers that all receive every measurement."""

    def __init__(self) -> None:
        self._observers: list[Observer] = []

    def add(self, observer: Observer) -> None:
        self._observers.append(observer)

    def remove(self, observer: Observer) -> None:
        self._observers.remove(observer)

    def emit(self, name: str, seconds: float) -> None:
        for observer in self._observers:
            observer(name, seconds)

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        """Measure the block and emit its duration under ``name``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            if self._observers:
                self.emit(name, time.perf_counter() - start)
