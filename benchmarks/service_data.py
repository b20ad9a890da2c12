"""The service benchmarks' data: 1,000 users × 1,000 memories, bulk-loaded with COPY.

Embedding a million memories with the default model would take about a day on
2 cores, so, as in ``search_latency.py``, a pool of distinct base sentences is
embedded once by the real model and each memory gets a base sentence (plus a
few words) and that sentence's vector plus small noise (see ``synthetic.py``).
Rows go in through ``COPY`` into a staging table and one ``INSERT ... SELECT``
per batch of users, which computes the search vectors (``to_tsvector``) in SQL.
Queries are still embedded by the real model when the service answers them.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg
import synthetic
from pgvector.psycopg import register_vector

from mnemo import AsyncMemory, MnemoConfig

DATASET_KEY = "service_benchmark_dataset"
TENANT = "bench"
USERS_PER_BATCH = 20

STAGE = """
CREATE TEMP TABLE stage (user_id text, id uuid, content text, embedding vector(384),
                         created_at timestamptz, n integer) ON COMMIT DELETE ROWS
"""
COPY_STAGE = "COPY stage (user_id, id, content, embedding, created_at, n) FROM STDIN BINARY"
MOVE = """
INSERT INTO memories (tenant_id, user_id, id, kind, content, content_hash, embedding,
                      embedding_model, tsv, doc_len, metadata, created_at, updated_at, valid_from)
SELECT %(tenant)s, s.user_id, s.id, 'note', s.content, sha256(convert_to(s.content, 'UTF8')),
       s.embedding, %(model)s, t.tsv, mnemo_tsv_length(t.tsv), jsonb_build_object('n', s.n),
       s.created_at, s.created_at, s.created_at
FROM stage s CROSS JOIN LATERAL (SELECT to_tsvector('english', s.content) AS tsv) t
"""


async def pool_vectors(
    data_dir: Path, size: int, config: MnemoConfig
) -> tuple[list[str], np.ndarray, str]:
    """The base sentences, their vectors (embedded once, then read from disk), the model id."""
    pool = synthetic.base_sentences(size)
    async with AsyncMemory(config) as memory:  # also migrates and records the model
        model = memory.embedder.model_id
        path = data_dir / f"pool-{size}.npy"
        if path.exists():
            return pool, np.load(path), model
        start = time.perf_counter()
        vectors = await memory.embedder.embed_many(pool, "passage")
        print(f"embedded {size} base sentences in {time.perf_counter() - start:.0f} s")
        np.save(path, vectors)
        return pool, vectors, model


def load(
    url: str, pool: list[str], vectors: np.ndarray, model: str, users: int, per_user: int
) -> None:
    """Fill ``memories`` of tenant ``bench`` unless this exact dataset is already there."""
    wanted = {"users": users, "per_user": per_user, "pool": len(pool)}
    with psycopg.connect(url, autocommit=True) as conn:
        register_vector(conn)
        row = conn.execute("SELECT value FROM mnemo_meta WHERE key = %s", (DATASET_KEY,)).fetchone()
        if row and row[0] == wanted:
            print(f"dataset already loaded: {wanted}")
            return
        conn.execute("DELETE FROM memories WHERE tenant_id = %s", (TENANT,))
        conn.execute(STAGE)
        start = time.perf_counter()
        rng = np.random.default_rng(11)
        for first in range(0, users, USERS_PER_BATCH):
            with conn.transaction():
                _copy_users(
                    conn,
                    range(first, min(first + USERS_PER_BATCH, users)),
                    pool,
                    vectors,
                    rng,
                    per_user,
                )
                conn.execute(MOVE, {"tenant": TENANT, "model": model})
            done = min(first + USERS_PER_BATCH, users) * per_user
            if (first // USERS_PER_BATCH) % 10 == 9:
                print(
                    f"  {done:>9,} memories ({done / (time.perf_counter() - start):,.0f}/s)",
                    flush=True,
                )
        conn.execute("VACUUM ANALYZE memories")
        conn.execute(
            "INSERT INTO mnemo_meta (key, value) VALUES (%s, %s::jsonb) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (DATASET_KEY, json.dumps(wanted)),
        )
        print(f"loaded {users * per_user:,} memories in {time.perf_counter() - start:.0f} s")


def _copy_users(
    conn: psycopg.Connection,
    users: range,
    pool: list[str],
    vectors: np.ndarray,
    rng: np.random.Generator,
    per_user: int,
) -> None:
    base_time = datetime(2025, 1, 1, tzinfo=UTC)
    with conn.cursor().copy(COPY_STAGE) as copy:
        copy.set_types(["text", "uuid", "text", "vector", "timestamptz", "int4"])
        for user in users:
            sentences = list(synthetic.memories(pool, per_user, seed=user))
            noisy = synthetic.noisy(vectors[[s.base for s in sentences]], rng)
            for i, sentence in enumerate(sentences):
                copy.write_row(
                    (
                        f"user-{user}",
                        uuid.uuid4(),
                        sentence.text,
                        noisy[i],
                        base_time + timedelta(minutes=37 * i),
                        i % 10,
                    )
                )
