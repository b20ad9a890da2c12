"""``mnemo reembed --embedder SPEC``: move a store to another embedding model."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from mnemo.cli._common import add_store_options, config_from
from mnemo.engine import AsyncMemory


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "reembed",
        help="re-embed every stored row with another embedder (the store stays usable)",
    )
    add_store_options(parser)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not args.embedder:
        print("mnemo reembed: --embedder (or MNEMO_EMBEDDER) names the new model", file=sys.stderr)
        return 2
    return asyncio.run(_reembed(args))


async def _reembed(args: argparse.Namespace) -> int:
    def progress(table: str, done: int, remaining: int) -> None:
        print(f"\r{table}: {done} re-embedded, {remaining} to go   ", end="", flush=True)

    async with AsyncMemory.for_reembedding(config_from(args)) as memory:
        total = await memory.reembed(batch_size=args.batch_size, progress=progress)
        print(f"\nre-embedded {total} rows; the store now uses {memory.embedder.model_id}")
    return 0
