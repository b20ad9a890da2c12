"""Where the LoCoMo development data lives, for the benchmark scripts.

The format, the loader and the evidence-recall protocol are :mod:`mnemo.evaluation`'s
(``mnemo bench recall`` runs the same code); this module only finds the files:
``$MNEMO_LOCOMO_DIR``, else ``../shared/bench-data/locomo`` beside the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

from mnemo.evaluation import Conversation
from mnemo.evaluation import load_conversations as load_path

__all__ = ["ENV_VAR", "data_dir", "load_conversations"]

#: Environment variable naming the directory that holds ``<id>.json`` conversation files.
ENV_VAR = "MNEMO_LOCOMO_DIR"


def data_dir() -> Path | None:
    """The LoCoMo data directory, or ``None`` when it does not exist."""
    env = os.environ.get(ENV_VAR)
    repo = Path(__file__).resolve().parent.parent
    path = Path(env) if env else repo.parent / "shared" / "bench-data" / "locomo"
    return path if path.is_dir() else None


def load_conversations(directory: Path | None = None) -> list[Conversation]:
    """Every conversation in ``directory`` (default :func:`data_dir`); ``[]`` when the
    data is absent, so scripts can skip cleanly."""
    directory = directory if directory is not None else data_dir()
    if directory is None or not directory.is_dir():
        return []
    return load_path(directory)
