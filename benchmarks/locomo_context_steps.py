"""The ranking steps after fusion (``SearchConfig.context``) on LoCoMo, from cached candidates.

    python benchmarks/locomo_context_steps.py [--store DIR] [--data-dir LOCOMO]

Stores the development conversations once in an embedded PostgreSQL under ``--store``
(kept, so later runs skip the embedding), caches every question's candidate rows
(``SearchStore.candidates``, what the search's SQL returns) in ``DIR/candidates.pkl``, then
re-ranks them with ``rank_candidates`` under each variant: recall@5/@10 overall, per
category and per conversation, the paired bootstrap 95% interval of ΔR@10 against the
steps turned off, and a leave-one-conversation-out pick of the two knobs. Each variant
costs seconds. Figures: ``docs/research/locomo-retrieval.md`` (round 2).
"""

from __future__ import annotations

import argparse
import asyncio
import pickle
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from locomo_data import load_conversations

from mnemo import AsyncMemory, MnemoConfig
from mnemo.core.context_boosts import ContextBoosts
from mnemo.core.scoring import rank_candidates
from mnemo.evaluation.metrics import recall_at_k
from mnemo.evaluation.protocol import store_turns
from mnemo.store.postgres.filters import scope_fragment

CATEGORIES = ("multi-hop", "temporal", "open-domain", "single-hop")
OFF = ContextBoosts(date_boost=0.0, second_neighbour_weight=0.0)


async def cache(store: Path, data: Path | None) -> dict[str, Any]:
    path = store / "candidates.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())  # type: ignore[no-any-return]
    config = MnemoConfig(data_dir=store / "pg")
    config = replace(config, lifecycle=replace(config.lifecycle, in_process_worker=False))
    out: dict[str, Any] = {}
    async with AsyncMemory(config) as memory:
        for conv in load_conversations(data):
            user = "dev:" + conv.conv_id
            if not await memory.list(user_id=user, limit=1):
                await store_turns(memory, conv, user)
            ids = {m.id: m.metadata["dia_id"] for m in await memory.list(user_id=user, limit=1000)}
            scope = memory.scope(user)
            where = scope_fragment(scope, kinds=None, filters=None, as_of=None)
            found = []
            for q in conv.questions:
                vector = await memory._embeddings.embed_query(scope, q.question)
                rows = await memory._searches.candidates(
                    memory._search._table, where, query_vector=vector, query_text=q.question,
                    model=memory._embeddings.model_id, depth=config.search.candidates_per_leg,
                    k1=config.search.bm25_k1, b=config.search.bm25_b,
                )  # fmt: skip
                found.append((q, rows))
            out[conv.conv_id] = (ids, found)
            print(f"cached {conv.conv_id}: {len(found)} questions", flush=True)
    path.write_bytes(pickle.dumps(out))
    return out


def measure(data: dict[str, Any], boosts: ContextBoosts) -> dict[str, np.ndarray]:
    """Per question: conversation, category, R@5, R@10."""
    search = MnemoConfig().search
    now = datetime.now(UTC)
    rows = []
    for conv_id, (ids, found) in data.items():
        for q, candidates in found:
            ranked = rank_candidates(
                candidates, search.weights, search.fusion, now=now,
                half_life_days=search.recency_half_life_days, limit=10,
                lift=boosts.lift(q.question, now),
            )  # fmt: skip
            dias = [ids[s.candidate.id] for s in ranked]
            rows.append((conv_id, q.category, *(recall_at_k(dias, q.evidence, k) for k in (5, 10))))
    columns = list(zip(*rows, strict=True))
    names = ("conv", "cat", "r5", "r10")
    return {name: np.array(col) for name, col in zip(names, columns, strict=True)}


def paired(base: np.ndarray, other: np.ndarray) -> str:
    diff = other - base
    means = diff[np.random.default_rng(0).integers(0, len(diff), (10_000, len(diff)))].mean(1)
    low, high = np.percentile(means, [2.5, 97.5])
    return f"{diff.mean():+.3f} [{low:+.3f}, {high:+.3f}]"


def row(name: str, r: dict[str, np.ndarray], base: dict[str, np.ndarray]) -> str:
    cats = " ".join(
        f"{r['r5'][r['cat'] == c].mean():.3f}/{r['r10'][r['cat'] == c].mean():.3f}"
        for c in CATEGORIES
    )
    convs = "/".join(f"{r['r10'][r['conv'] == c].mean():.3f}" for c in dict.fromkeys(r["conv"]))
    return (
        f"{name:<34} R@5 {r['r5'].mean():.3f} R@10 {r['r10'].mean():.3f} | {cats} | {convs}"
        f" | ΔR@10 {paired(base['r10'], r['r10'])}"
    )


def leave_one_out(grid: dict[Any, dict[str, np.ndarray]], base: dict[str, np.ndarray]) -> str:
    held, held_base, picks = [], [], []
    for conv in dict.fromkeys(base["conv"]):
        train = base["conv"] != conv
        best = max(grid, key=lambda k: grid[k]["r10"][train].mean())
        picks.append(best)
        held.append(grid[best]["r10"][~train])
        held_base.append(base["r10"][~train])
    ours, theirs = np.concatenate(held), np.concatenate(held_base)
    delta = paired(theirs, ours)
    return f"picked {picks}; held out {ours.mean():.3f} vs {theirs.mean():.3f}, Δ {delta}"


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, default=Path("/tmp/mnemo-locomo-context"))
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    args.store.mkdir(parents=True, exist_ok=True)
    data = await cache(args.store, args.data_dir)
    if not data:
        print("LoCoMo data not found (set MNEMO_LOCOMO_DIR); skipping.")
        return 0
    base = measure(data, OFF)
    print(row("steps off", base, base))
    variants = {
        "defaults": ContextBoosts(),
        "date boost only": replace(ContextBoosts(), second_neighbour_weight=0.0),
        "second neighbour only": replace(ContextBoosts(), date_boost=0.0),
        "defaults + session 0.15": replace(ContextBoosts(), session_weight=0.15),
    }
    for name, boosts in variants.items():
        print(row(name, measure(data, boosts), base))
    grid = {
        (d, g): measure(data, ContextBoosts(date_boost=d, second_neighbour_weight=g))
        for d in (0.5, 1.0, 2.0, 3.0)
        for g in (0.1, 0.2, 0.3, 0.4)
    }
    print("leave one conversation out (date boost, second neighbour):", leave_one_out(grid, base))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
