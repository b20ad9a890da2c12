"""Revision 0009 moves access statistics out of ``memories`` without losing them."""

from __future__ import annotations

import uuid

import psycopg

from mnemo.store.postgres.migrate import migrate_with_alembic


def test_access_statistics_move_to_memory_access_and_back(
    empty_database_url: str,
) -> None:
    migrate_with_alembic(empty_database_url, "0017")
    read, unread = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(empty_database_url) as conn:
        for memory_id, count in ((read, 7), (unread, 0)):
            conn.execute(
                "INSERT INTO memories (tenant_id, user_id, id, kind, content, content_hash,"
                " tsv, doc_len, access_count, last_accessed_at)"
                " VALUES ('t', 'u', %s, 'note', 'x', '\\x00', to_tsvector('x'), 1, %s,"
                " CASE WHEN %s > 0 THEN '2026-01-02T03:04:05Z'::timestamptz END)",
                (memory_id, count, count),
            )

    migrate_with_alembic(empty_database_url, "0009")
    with psycopg.connect(empty_database_url) as conn:
        rows = conn.execute(
            "SELECT memory_id, access_count, last_accessed_at::text FROM memory_access"
        ).fetchall()
        assert rows == [(read, 7, "2026-01-02 03:04:05+00")]
        columns = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'memories'"
        ).fetchall()
        assert ("access_count",) not in columns

    _downgrade(empty_database_url, "0017")
    with psycopg.connect(empty_database_url) as conn:
        back = conn.execute(
            "SELECT id, access_count FROM memories ORDER BY access_count"
        ).fetchall()
        assert back == [(unread, 0), (read, 7)]


def _downgrade(url: str, revision: str) -> None:
    from mnemo.store.postgres.migrate import _run_alembic

    _run_alembic(url, "downgrade", revision)
