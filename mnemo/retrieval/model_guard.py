"""One embedding model per store: recorded on first use, checked on every open.

Vectors from two models cannot be compared, so opening a store with another
model is refused, unless the store is empty or is being re-embedded towards
that model (``mnemo reembed``), during which both old and new rows stay usable.
"""

from __future__ import annotations

from typing import Any

from mnemo.errors import EmbeddingModelMismatch
from mnemo.providers.embedders.base import Embedder
from mnemo.store.postgres.meta import EMBEDDING_KEY, REEMBED_KEY, MetaStore


def model_record(embedder: Embedder) -> dict[str, Any]:
    return {"model": embedder.model_id, "dimension": embedder.dimension}


async def check_embedding_model(
    meta: MetaStore, embedder: Embedder, *, allow_change: bool = False
) -> None:
    """Record the model of an empty store; refuse a different model on a filled one.

    ``allow_change`` starts a re-embedding towards ``embedder`` instead of refusing.
    """
    wanted = model_record(embedder)
    recorded = await meta.claim(EMBEDDING_KEY, wanted)
    if recorded == wanted:
        return
    target = await meta.get(REEMBED_KEY)
    if target == wanted:
        return
    if allow_change:
        await meta.put(REEMBED_KEY, wanted)
        return
    rows = await meta.embedded_rows_by_model()
    if not any(rows.values()):
        await meta.put(EMBEDDING_KEY, wanted)
        return
    raise EmbeddingModelMismatch(
        f"this store's vectors come from {recorded['model']} ({recorded['dimension']} dimensions) "
        f"but the configured embedder is {wanted['model']} ({wanted['dimension']} dimensions). "
        f"Configure {recorded['model']} again, or re-embed the store with "
        f"`mnemo reembed --embedder <spec>`; searches and writes keep working while it runs."
    )


async def finish_reembedding(meta: MetaStore, embedder: Embedder) -> None:
    """Make ``embedder`` the store's model once no row is left on another one."""
    await meta.put(EMBEDDING_KEY, model_record(embedder))
    await meta.delete(REEMBED_KEY)
