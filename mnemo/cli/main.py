"""The ``mnemo`` command: one sub-command per module under ``mnemo.cli``.

Each command module has ``register(subparsers)`` that adds its parser and sets
``handler`` (a function of the parsed arguments returning an exit code). The
environment (``MNEMO_*``, ``POSTGRES_*``, ...) is read here, at the entry point.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from mnemo.errors import MnemoError

COMMAND_MODULES = (
    "demo", "memories", "db", "reembed", "keys", "serve", "mcp", "docs", "worker", "bench",
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mnemo", description="Long-term memory for LLM applications."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what mnemo does")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"mnemo.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.handler(args))
    except MnemoError as exc:
        print(f"mnemo: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
