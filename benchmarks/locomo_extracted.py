"""LoCoMo evidence recall@10: extracted memories (through their provenance) with raw turns.

    python benchmarks/locomo_extracted.py [--data-dir DIR] [--conversations N]

Each conversation is one user in a throw-away embedded PostgreSQL, stored twice:

- raw turns, exactly as ``locomo_retrieval.py`` stores them (``add_many``, contextual,
  ``"speaker: text"``, ``metadata={"dia_id": ...}``, kind ``note``);
- the same turns as conversation messages with ``add(turns, infer=True)``, one call
  per session (speaker as the message ``name``, the session's date as ``created_at``),
  extracted by the in-process worker with the offline extractor and reconciled.

Every question of categories 1-4 is then searched with default settings, and judged
on 10 distinct turns (``dia_id``s) per run:

- **raw turns**: ``kinds=["note"]``, the first 10 hits;
- **extracted + raw, one search**: every kind in one search (20 hits); a raw hit gives
  its ``dia_id``, an extracted hit the ``dia_id``s of its source turns
  (``source_message_ids``); the first 10 distinct count;
- **extracted + raw, RRF of two**: the raw run's list and the extracted memories' own
  search (mapped to their source turns) fused by reciprocal rank (k = 60);
- **extracted only**: the extracted memories' search alone, through provenance.

Also printed: how many memories extraction produced, and reconciliation's decisions.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from locomo_data import load_conversations

from mnemo import AsyncMemory, MnemoConfig, SearchHit
from mnemo.evaluation import Conversation, RecallReport, evaluate
from mnemo.evaluation.protocol import Ranked, store_turns
from mnemo.providers.embedders.e5 import E5Embedder

DEPTH = 10


async def ingest_for_extraction(memory: AsyncMemory, conv: Conversation) -> dict[str, str]:
    """Store each session's turns with ``infer=True``; message id -> dia_id."""
    sessions: dict[int, list[dict[str, object]]] = defaultdict(list)
    for t in conv.turns:
        sessions[t.session].append(
            {"role": "user", "name": t.speaker, "content": t.text, "created_at": t.created_at,
             "metadata": {"dia_id": t.dia_id}}
        )  # fmt: skip
    dia_of: dict[str, str] = {}
    for number, turns in sorted(sessions.items()):
        result = await memory.add(
            turns, user_id=conv.conv_id, session_id=f"session-{number}", infer=True
        )
        dia_of.update(zip(result.ids, (str(t["metadata"]["dia_id"]) for t in turns), strict=True))  # type: ignore[index]
    return dia_of


def first_distinct(ids: Sequence[str], k: int) -> list[str]:
    return list(dict.fromkeys(ids))[:k]


EXTRACTED = ["fact", "preference", "commitment", "instruction", "entity", "event"]


def fuse(rankings: Sequence[Sequence[str]], k: float = 60.0) -> list[str]:
    """Reciprocal rank fusion of ``dia_id`` rankings (ties: the earlier ranking wins)."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, dia in enumerate(ranking, start=1):
            scores[dia] = scores.get(dia, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda dia: -scores[dia])[:DEPTH]


async def rankings(
    memory: AsyncMemory, conv: Conversation, dia_of: dict[str, str]
) -> dict[str, Ranked]:
    """Per run, each question's ranked ``dia_id``s."""
    runs: dict[str, Ranked] = defaultdict(list)
    user = conv.conv_id
    for q in conv.questions:
        notes = await memory.search(q.question, user_id=user, limit=DEPTH, kinds=["note"])
        raw = [h.metadata["dia_id"] for h in notes]
        both = await memory.search(q.question, user_id=user, limit=2 * DEPTH)
        extracted = await memory.search(q.question, user_id=user, limit=2 * DEPTH, kinds=EXTRACTED)
        from_extracted = first_distinct(_dias(extracted, dia_of), DEPTH)
        runs["raw turns"].append((q, raw))
        runs["extracted + raw, one search"].append((q, first_distinct(_dias(both, dia_of), DEPTH)))
        runs["extracted + raw, RRF of two"].append((q, fuse([raw, from_extracted])))
        runs["extracted only (provenance)"].append((q, from_extracted))
    return runs


def _dias(hits: Sequence[SearchHit], dia_of: dict[str, str]) -> list[str]:
    """Each hit's turns: a raw turn's own ``dia_id``, an extracted memory's sources'."""
    ranked: list[str] = []
    for h in hits:
        if h.kind == "note":
            ranked.append(h.metadata["dia_id"])
        else:
            ranked.extend(dia_of[s] for s in h.source_message_ids if s in dia_of)
    return ranked


async def extraction_figures(memory: AsyncMemory) -> tuple[Counter[str], Counter[str]]:
    kinds = await memory.db.fetch(
        "SELECT kind, count(*) AS n FROM memories WHERE kind <> 'note' AND status = 'active' "
        "GROUP BY kind"
    )
    events = await memory.db.fetch(
        "SELECT event, count(*) AS n FROM memory_events WHERE actor LIKE 'reconciler:%' "
        "GROUP BY event"
    )
    return (
        Counter({r["kind"]: int(r["n"]) for r in kinds}),
        Counter({r["event"]: int(r["n"]) for r in events}),
    )


async def run(data: Path | None, limit: int | None) -> int:
    conversations = load_conversations(data)[:limit]
    if not conversations:
        print("LoCoMo data not found (set MNEMO_LOCOMO_DIR); skipping.")
        return 0
    with tempfile.TemporaryDirectory(prefix="mnemo-locomo-x-") as tmp:
        config = MnemoConfig(data_dir=Path(tmp), embedder=E5Embedder())
        async with AsyncMemory(config) as memory:
            await measure(memory, conversations)
    return 0


async def measure(memory: AsyncMemory, conversations: list[Conversation]) -> None:
    turns = sum(len(c.turns) for c in conversations)
    start = time.perf_counter()
    dia_of: dict[str, str] = {}
    for conv in conversations:
        await store_turns(memory, conv, conv.conv_id)
        dia_of |= await ingest_for_extraction(memory, conv)
    stored = time.perf_counter()
    await memory.flush()  # waits for the in-process worker to extract every turn
    done = time.perf_counter()
    print(f"stored {turns} turns twice in {stored - start:.0f} s; extraction finished "
          f"{done - stored:.0f} s later", flush=True)  # fmt: skip
    kinds, events = await extraction_figures(memory)
    print(f"extracted memories (current): {sum(kinds.values())} {dict(kinds)}")
    print(f"reconciliation decisions: {dict(events)}")
    runs: dict[str, Ranked] = defaultdict(list)
    for conv in conversations:
        for name, ranked in (await rankings(memory, conv, dia_of)).items():
            runs[name] += ranked
    print_reports({name: evaluate(ranked) for name, ranked in runs.items()})


def print_reports(reports: dict[str, RecallReport]) -> None:
    sample = next(iter(reports.values()))
    cats = list(sample.by_category)
    print(f"\n{sample.questions} questions (categories 1-4)")
    print(f"{'run':<32} {'R@5':>6} {'R@10':>6}  " + "  ".join(f"{c + ' @10':>16}" for c in cats))
    for name, report in reports.items():
        per_cat = "  ".join(f"{report.by_category[c][10]:>16.3f}" for c in cats)
        print(f"{name:<32} {report.overall[5]:>6.3f} {report.overall[10]:>6.3f}  {per_cat}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--conversations", type=int, default=None, help="only the first N")
    args = parser.parse_args()
    return asyncio.run(run(args.data_dir, args.conversations))


if __name__ == "__main__":
    raise SystemExit(main())
