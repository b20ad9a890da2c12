"""Embeddings for search and storage.

Query vectors pass through two caches: the engine's cache (Redis, or an
in-process LRU) and PostgreSQL's ``embedding_cache`` (written off the hot path).
Passages are embedded directly: their vectors are stored with the rows they
belong to, so caching them again would only double the storage.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mnemo.core.records import Scope
from mnemo.providers.embedders.base import Embedder, InputType, Vectors
from mnemo.retrieval.background import BackgroundWriter
from mnemo.store.cache import Cache, CacheKey, cache_key, decode_vector, encode_vector
from mnemo.store.postgres.embedding_cache import CachedEmbedding, EmbeddingCacheStore, text_hash

#: How long a query vector stays in the engine's cache.
QUERY_VECTOR_TTL = 24 * 3600.0


class EmbeddingService:
    """Embeds queries and passages for one model, reusing what was embedded before."""

    def __init__(
        self,
        embedder: Embedder,
        store: EmbeddingCacheStore,
        writer: BackgroundWriter,
        cache: Cache,
    ) -> None:
        self.embedder = embedder
        self._store = store
        self._writer = writer
        self._cache = cache

    @property
    def model_id(self) -> str:
        return self.embedder.model_id

    @property
    def dimension(self) -> int:
        return self.embedder.dimension

    async def embed_query(self, scope: Scope, text: str) -> Vectors:
        """The query's vector: from the cache, else PostgreSQL's cache, else the model."""
        key = self._query_key(scope, text)
        cached = await self._cache.get(key)
        if cached is not None:
            return decode_vector(cached, self.dimension)
        vector = (await self._from_store_or_model(scope, [text], "query"))[text]
        await self._cache.set(key, encode_vector(vector), ttl=QUERY_VECTOR_TTL)
        return vector

    async def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """Vectors of texts to be stored, in order."""
        return await self.embedder.embed_many(texts, "passage")

    async def _from_store_or_model(
        self, scope: Scope, texts: list[str], input_type: InputType
    ) -> dict[str, Vectors]:
        hashes = {text: text_hash(text) for text in texts}
        stored = await self._store.get_many(
            scope.tenant_id, scope.user_id, self.model_id, input_type, list(hashes.values())
        )
        result = {t: stored[h].astype(np.float32) for t, h in hashes.items() if h in stored}
        to_embed = [t for t in texts if t not in result]
        if to_embed:
            vectors = await self.embedder.embed_many(to_embed, input_type)
            for text, vector in zip(to_embed, vectors, strict=True):
                result[text] = vector
                self._writer.cache_embedding(
                    scope.tenant_id,
                    self.model_id,
                    CachedEmbedding(scope.user_id, input_type, hashes[text], vector),
                )
        return result

    def _query_key(self, scope: Scope, text: str) -> CacheKey:
        return cache_key(
            scope.tenant_id, scope.user_id, "query-vectors", self.model_id, text_hash(text).hex()
        )
