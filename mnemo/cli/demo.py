"""``mnemo demo``: store a few memories in the embedded store and search them."""

from __future__ import annotations

import argparse
import time
from typing import Any

from mnemo.cli._common import add_store_options, config_from
from mnemo.memory import Memory

FACTS = [
    "I prefer dark roast coffee, black, no sugar.",
    "My sister Ana lives in Lisbon and works as an architect.",
    "I'm training for the Berlin marathon in September.",
    "Please never schedule meetings before 10am.",
    "I'm allergic to peanuts.",
    "We adopted a cat called Miso last spring.",
]
QUESTIONS = [
    "What coffee should I order for them?",
    "When is the race?",
    "Any food allergies?",
    "Where does the user's sister live?",
]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("demo", help="store and search a few memories, offline")
    add_store_options(parser)
    parser.add_argument("--user", default="demo-user", help="user id to use (erased at the end)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    with Memory(config_from(args)) as memory:
        print(f"mnemo ready in {time.perf_counter() - started:.1f} s ({memory.engine.embedder})")
        memory.delete_user(args.user)
        memory.add_many([{"content": fact} for fact in FACTS], user_id=args.user, contextual=False)
        print(f"stored {len(FACTS)} memories for {args.user!r}\n")
        for question in QUESTIONS:
            t0 = time.perf_counter()
            hits = memory.search(question, user_id=args.user, limit=2)
            elapsed = (time.perf_counter() - t0) * 1000
            print(f"Q: {question}  ({elapsed:.1f} ms)")
            for hit in hits:
                print(f"   {hit.score:.3f}  {hit.content}")
        counts = memory.delete_user(args.user)
        print(f"\nerased {args.user!r}: {counts}")
    return 0
