"""LoCoMo evidence recall through mnemo, beside BM25, dense and plain-fusion baselines.

    python benchmarks/locomo_retrieval.py [--ablations] [--data-dir DIR]

The evidence-recall protocol of :mod:`mnemo.evaluation.protocol` (the code
``mnemo bench recall`` runs) over the development conversations, in a throw-away
embedded PostgreSQL: every turn stored verbatim (``"speaker: text"``, its session's
date, ``metadata={"dia_id": ...}``), one ``user_id`` per conversation, every question
of categories 1-4 searched with the default settings; recall@5 and @10 overall and
per category, beside BM25, dense-only and RRF baselines over the same turns.
``--ablations`` also runs mnemo with one idea of the default recipe turned off at a
time.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from locomo_data import load_conversations

from mnemo import AsyncMemory, MnemoConfig, SearchConfig
from mnemo.core.scoring import FusionParams
from mnemo.evaluation import Conversation, RecallReport, evaluate
from mnemo.evaluation.protocol import Ranked, measure_recall, rank_with_mnemo, store_turns
from mnemo.evaluation.report import run_as_table
from mnemo.providers.embedders.e5 import E5Embedder


def variants(base: SearchConfig) -> dict[str, SearchConfig]:
    """The default recipe with one idea turned off at a time (query-time ideas only)."""
    fusion = base.fusion
    return {
        "no neighbour borrowing": replace(base, fusion=replace(fusion, neighbour_weight=0.0)),
        "RRF k=60 instead of z-score": replace(
            base,
            fusion=replace(
                fusion, method="rrf", rrf_k=60.0, leg_weights={"vector": 1.0, "lexical": 1.0}
            ),
        ),
        "BM25 b=0.75": replace(base, bm25_b=0.75),
        "no date-window boost": replace(base, context=replace(base.context, date_boost=0.0)),
        "no second-neighbour borrowing": replace(
            base, context=replace(base.context, second_neighbour_weight=0.0)
        ),
        "relevance only (no composite)": replace(
            base, weights=replace(base.weights, recency=0, access=0, confidence=0, importance=0)
        ),
        "50 candidates per leg (default 100)": replace(base, candidates_per_leg=50),
        "lexical leg only": replace(
            base, fusion=FusionParams(leg_weights={"lexical": 1.0}, neighbour_weight=0.0)
        ),
        "vector leg only": replace(
            base, fusion=FusionParams(leg_weights={"vector": 1.0}, neighbour_weight=0.0)
        ),
    }


async def run(data: Path | None, ablations: bool) -> int:
    conversations = load_conversations(data)
    if not conversations:
        print("LoCoMo data not found (set MNEMO_LOCOMO_DIR); skipping.")
        return 0
    with tempfile.TemporaryDirectory(prefix="mnemo-locomo-") as tmp:
        config = MnemoConfig(data_dir=Path(tmp), embedder=E5Embedder())
        async with AsyncMemory(config) as memory:
            result = await measure_recall(memory, conversations, progress=print)
            reports = dict(result.reports)
            if ablations:
                reports |= await measure_ablations(memory, config, conversations)
    print(f"stored in {result.store_seconds:.1f} s, searched in {result.search_seconds:.1f} s\n")
    print(run_as_table(replace(result, reports=reports)))
    return 0


async def measure_ablations(
    memory: AsyncMemory, config: MnemoConfig, conversations: list[Conversation]
) -> dict[str, RecallReport]:
    results: dict[str, Ranked] = {}
    for name, search in variants(config.search).items():
        variant = replace(config, database_url=memory.database_url, search=search)
        async with AsyncMemory(variant) as other:
            for conv in conversations:
                found = await rank_with_mnemo(other, conv, conv.conv_id)
                results.setdefault(f"ablation: {name}", []).extend(found)
    for conv in conversations:
        await store_turns(memory, conv, f"plain-{conv.conv_id}", contextual=False)
        results.setdefault("ablation: no contextual embedding", []).extend(
            await rank_with_mnemo(memory, conv, f"plain-{conv.conv_id}")
        )
    return {name: evaluate(ranked) for name, ranked in results.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--ablations", action="store_true", help="also turn each idea off")
    args = parser.parse_args()
    return asyncio.run(run(args.data_dir, args.ablations))


if __name__ == "__main__":
    raise SystemExit(main())
