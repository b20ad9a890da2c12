"""Texts as PostgreSQL's full-text search splits them (``sql/lexemes.sql``)."""

from __future__ import annotations

from collections.abc import Sequence

from mnemo.store.postgres.database import Database
from mnemo.store.postgres.queries import query

__all__ = ["lexemes"]


async def lexemes(db: Database, texts: Sequence[str], ts_config: str) -> list[list[str]]:
    """Each text's lexemes under the text search configuration ``ts_config``, one per
    occurrence (so term frequencies can be counted), in the order of ``texts``."""
    if not texts:
        return []
    params = {"texts": list(texts), "ts_config": ts_config}
    rows = await db.fetch(query("lexemes", "lexemes"), params)
    return [list(row["tokens"]) for row in rows]
