"""``mnemo worker``: run the job worker (extraction, upkeep, clean-up), or inspect the queue."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace
from typing import Any

from mnemo.cli._common import add_store_options, config_from, print_json
from mnemo.config import MnemoConfig
from mnemo.engine import AsyncMemory
from mnemo.lifecycle.jobs import EXTRACTION_QUEUE, MAINTENANCE_QUEUE, QUEUES, WorkerOptions
from mnemo.worker import run_worker

_QUEUE_NAMES = {"extraction": EXTRACTION_QUEUE, "maintenance": MAINTENANCE_QUEUE}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "worker", help="run the job worker: extraction, decay, consolidation, clean-up"
    )
    add_store_options(parser)
    parser.add_argument("--concurrency", type=int, default=None, help="jobs at a time")
    parser.add_argument(
        "--queue", action="append", choices=sorted(_QUEUE_NAMES), help="only these queues"
    )
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    parser.add_argument("--heartbeat", type=float, default=None, help="seconds between beats")
    parser.add_argument(
        "--stalled-after", type=float, default=None,
        help="seconds of silence after which a worker's jobs are retried elsewhere",
    )  # fmt: skip
    parser.add_argument("--stats", action="store_true", help="print the queue's state and exit")
    parser.add_argument(
        "--retry-failed", action="store_true", help="queue dead-lettered turns again and exit"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    if args.stats or args.retry_failed:
        return asyncio.run(_inspect(args, config))
    lifecycle = config.lifecycle
    options = WorkerOptions(
        concurrency=args.concurrency or lifecycle.worker_concurrency,
        heartbeat_seconds=args.heartbeat or lifecycle.heartbeat_seconds,
        stalled_after_seconds=args.stalled_after or lifecycle.stalled_after_seconds,
        queues=tuple(_QUEUE_NAMES[q] for q in args.queue) if args.queue else QUEUES,
        burst=args.burst,
    )
    asyncio.run(run_worker(config, options))
    return 0


async def _inspect(args: argparse.Namespace, config: MnemoConfig) -> int:
    quiet = replace(config, lifecycle=replace(config.lifecycle, in_process_worker=False))
    async with AsyncMemory(quiet) as memory:
        if args.retry_failed:
            print(f"re-queued {await memory.retry_failed_extractions()} turn(s)")
        else:
            print_json(await memory.job_stats())
    return 0
