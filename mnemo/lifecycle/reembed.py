"""Re-embed a store with a new model while it stays in use."""

from __future__ import annotations

from collections.abc import Callable

from mnemo.providers.embedders.base import Embedder
from mnemo.retrieval.model_guard import finish_reembedding
from mnemo.store.postgres.meta import MetaStore
from mnemo.store.postgres.reembed import ReembedStore

Progress = Callable[[str, int, int], None]


async def reembed_store(
    store: ReembedStore,
    meta: MetaStore,
    embedder: Embedder,
    *,
    batch_size: int = 64,
    progress: Progress | None = None,
) -> int:
    """Give every embedded row a vector from ``embedder``; return how many were rewritten.

    Runs table by table in batches, so readers and writers carry on meanwhile.
    When nothing is left on the old model, ``embedder`` becomes the store's model.
    """
    total = 0
    for table in await store.tables():
        remaining = await store.count_stale(table, embedder.model_id)
        while rows := await store.stale_rows(table, embedder.model_id, batch_size):
            vectors = await embedder.embed_many([r.content for r in rows], "passage")
            done = await store.set_embeddings(table, embedder.model_id, rows, list(vectors))
            total += done
            remaining = max(0, remaining - done)
            if progress is not None:
                progress(table, total, remaining)
    await store.drop_other_cached(embedder.model_id)
    await finish_reembedding(meta, embedder)
    return total
