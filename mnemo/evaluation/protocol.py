"""The evidence-recall protocol: every turn stored verbatim, every question searched.

Each conversation's turns are stored with ``add_many(..., infer=False)`` under one
user per conversation, as ``"speaker: text"``, ``created_at`` from the turn's date and
``metadata={"dia_id": ...}``; each question is searched with the engine's settings
(``limit=10``) and scored by the evidence ids among the hits. Baselines are computed
in the same run over the same turns: Okapi BM25 over PostgreSQL's lexemes (the
engine's text search configuration), dense cosine with the engine's embedder over the
bare turns, and their reciprocal rank fusion (k = 60).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mnemo import AsyncMemory
from mnemo.evaluation.baselines import BM25, dense_rank, rrf
from mnemo.evaluation.dataset import Conversation, Question
from mnemo.evaluation.metrics import RecallReport, evaluate
from mnemo.store.postgres.lexemes import lexemes

__all__ = [
    "BASELINES",
    "DEPTH",
    "Ranked",
    "RecallRun",
    "measure_recall",
    "rank_with_baselines",
    "rank_with_mnemo",
    "store_turns",
]

#: Hits asked for per question (recall is reported at 5 and 10).
DEPTH = 10
#: Candidates each baseline ranks before fusion.
_POOL = 50
BASELINES = ("bm25", "dense", "rrf")
#: A question with the ids of the turns found for it, best first.
Ranked = list[tuple[Question, list[str]]]
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class RecallRun:
    """What :func:`measure_recall` measured: a report per ranker (``"mnemo"`` first)."""

    conversations: tuple[Conversation, ...]
    reports: dict[str, RecallReport]
    store_seconds: float
    search_seconds: float

    @property
    def turns(self) -> int:
        return sum(len(c.turns) for c in self.conversations)


async def store_turns(
    memory: AsyncMemory, conv: Conversation, user_id: str, *, contextual: bool = True
) -> None:
    """Store every turn of ``conv`` verbatim as one memory of ``user_id``."""
    items = [
        {"content": t.content, "created_at": t.created_at, "metadata": {"dia_id": t.dia_id}}
        for t in conv.turns
    ]
    await memory.add_many(items, user_id=user_id, infer=False, contextual=contextual)


async def rank_with_mnemo(
    memory: AsyncMemory, conv: Conversation, user_id: str, depth: int = DEPTH
) -> Ranked:
    """Each question of ``conv`` searched with ``memory``'s settings: the hits' ids."""
    results = []
    for q in conv.questions:
        hits = await memory.search(q.question, user_id=user_id, limit=depth)
        results.append((q, [str(h.metadata.get("dia_id")) for h in hits]))
    return results


async def rank_with_baselines(
    memory: AsyncMemory, conv: Conversation, depth: int = DEPTH
) -> dict[str, Ranked]:
    """Each question of ``conv`` ranked by BM25, dense cosine and their RRF fusion."""
    ids = [t.dia_id for t in conv.turns]
    ts_config = memory.config.search.text_search_config
    docs = await lexemes(memory.db, [t.content for t in conv.turns], ts_config)
    queries = await lexemes(memory.db, [q.question for q in conv.questions], ts_config)
    bm25 = BM25(docs, k1=1.2, b=0.75)
    embedder = memory.embedder
    doc_vectors = await embedder.embed_many([t.content for t in conv.turns], "passage")
    out: dict[str, Ranked] = {name: [] for name in BASELINES}
    for q, tokens in zip(conv.questions, queries, strict=True):
        lexical = bm25.rank(set(tokens), _POOL)
        dense = dense_rank(await embedder.embed(q.question, "query"), doc_vectors, _POOL)
        out["bm25"].append((q, [ids[i] for i in lexical[:depth]]))
        out["dense"].append((q, [ids[i] for i in dense[:depth]]))
        out["rrf"].append((q, [ids[i] for i in rrf([lexical, dense], k=60.0, n=depth)]))
    return out


async def measure_recall(
    memory: AsyncMemory,
    conversations: Sequence[Conversation],
    *,
    user_prefix: str = "",
    progress: Progress | None = None,
) -> RecallRun:
    """Run the protocol over ``conversations`` (user ids ``user_prefix + conv_id``)."""
    say = progress or (lambda _: None)
    started = time.perf_counter()
    for conv in conversations:
        await store_turns(memory, conv, user_prefix + conv.conv_id)
        say(f"stored {conv.conv_id}: {len(conv.turns)} turns")
    stored = time.perf_counter()
    ranked: dict[str, Ranked] = {"mnemo": [], **{name: [] for name in BASELINES}}
    for conv in conversations:
        ranked["mnemo"] += await rank_with_mnemo(memory, conv, user_prefix + conv.conv_id)
        for name, found in (await rank_with_baselines(memory, conv)).items():
            ranked[name] += found
        say(f"searched {conv.conv_id}: {len(conv.questions)} questions")
    return RecallRun(
        conversations=tuple(conversations),
        reports={name: evaluate(found) for name, found in ranked.items()},
        store_seconds=stored - started,
        search_seconds=time.perf_counter() - stored,
    )
