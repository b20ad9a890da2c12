"""Revision 0013 (keys bound to one user) goes down and up again, keeping the keys."""

from __future__ import annotations

import uuid

import psycopg

from mnemo.store.postgres.migrate import _run_alembic, current_revision, migrate


def test_0013_down_and_up_keeps_keys_and_the_lookup(database_url: str) -> None:
    migrate(database_url)
    key_id = uuid.uuid4()
    with psycopg.connect(database_url) as conn:
        conn.execute("INSERT INTO tenants (tenant_id) VALUES ('acme')")
        conn.execute(
            "INSERT INTO api_keys (tenant_id, id, prefix, key_hash, bound_user_id)"
            " VALUES ('acme', %s, 'abcdefghijkl', '\\x00', 'alice')",
            (key_id,),
        )
    _run_alembic(database_url, "downgrade", "0009")
    with psycopg.connect(database_url) as conn:
        assert current_revision(conn) == "0009"
        row = conn.execute("SELECT * FROM mnemo_api_key_lookup('abcdefghijkl')").fetchone()
        assert row is not None and len(row) == 4
    _run_alembic(database_url, "upgrade", "head")
    with psycopg.connect(database_url) as conn:
        looked_up = conn.execute(
            "SELECT id, bound_user_id FROM mnemo_api_key_lookup('abcdefghijkl')"
        ).fetchone()
    assert looked_up == (key_id, None)  # the binding went with the column
