"""Search whose cost follows the question, not the user's history; access statistics apart.

Revision ID: 0009
Revises: 0011

- ``btree_gin`` lets one GIN index hold a row's user and its lexemes, so the lexical
  leg reads only the user's rows that contain a query word (with their document
  frequencies) instead of every row's ``terms``.
- ``mnemo_any_lexeme(text[])``: the OR of already-normalised lexemes as a tsquery.
- ``memory_access``: how often and when a memory was returned by a search. It used
  to live on ``memories`` itself, so every search rewrote the wide rows it returned
  (vector, text, lexemes): dead tuples and bloat on the read path.
- ``scope_indexes``: the registry of per-user vector indexes built for very large
  scopes (see ``store/postgres/scope_indexes.py``).
"""

from alembic import op

revision = "0009"
down_revision = "0011"
branch_labels = None
depends_on = None

SEARCHABLE = ("memories", "messages", "chunks", "entities", "records")


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.execute(
        """
CREATE FUNCTION mnemo_any_lexeme(lexemes text[]) RETURNS tsquery
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT coalesce(string_agg(
               '''' || replace(replace(l, '\\', '\\\\'), '''', '''''') || '''', ' | '),
               '')::tsquery
          FROM unnest(lexemes) AS l $$
        """
    )
    for table in SEARCHABLE:
        op.execute(
            f"CREATE INDEX {table}_user_tsv_idx ON {table}"
            " USING gin (user_id, tsv) WITH (fastupdate = off)"
        )
    op.execute(
        """
        CREATE TABLE memory_access (
            tenant_id text NOT NULL,
            user_id text NOT NULL,
            memory_id uuid NOT NULL,
            access_count integer NOT NULL DEFAULT 0,
            last_accessed_at timestamptz,
            PRIMARY KEY (tenant_id, user_id, memory_id),
            FOREIGN KEY (tenant_id, user_id, memory_id)
                REFERENCES memories (tenant_id, user_id, id) ON DELETE CASCADE
        )
        """
    )
    op.execute(
        """
        INSERT INTO memory_access (tenant_id, user_id, memory_id, access_count, last_accessed_at)
        SELECT tenant_id, user_id, id, access_count, last_accessed_at FROM memories
        WHERE access_count > 0 OR last_accessed_at IS NOT NULL
        """
    )
    op.execute("ALTER TABLE memories DROP COLUMN access_count, DROP COLUMN last_accessed_at")
    op.execute(
        """
        CREATE TABLE scope_indexes (
            tenant_id text NOT NULL,
            user_id text NOT NULL,
            table_name text NOT NULL,
            index_name text NOT NULL,
            model text NOT NULL,
            dimensions integer NOT NULL,
            row_count integer NOT NULL,
            avg_doc_len real NOT NULL,
            built_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, user_id, table_name)
        )
        """
    )
    for table in ("memory_access", "scope_indexes"):
        op.execute(f"SELECT mnemo_enable_tenant_rls('{table}')")


def downgrade() -> None:
    op.execute("DROP TABLE scope_indexes")
    op.execute(
        "ALTER TABLE memories ADD COLUMN access_count integer NOT NULL DEFAULT 0,"
        " ADD COLUMN last_accessed_at timestamptz"
    )
    op.execute(
        """
        UPDATE memories m SET access_count = a.access_count, last_accessed_at = a.last_accessed_at
        FROM memory_access a
        WHERE a.tenant_id = m.tenant_id AND a.user_id = m.user_id AND a.memory_id = m.id
        """
    )
    op.execute("DROP TABLE memory_access")
    for table in SEARCHABLE:
        op.execute(f"DROP INDEX {table}_user_tsv_idx")
    op.execute("DROP FUNCTION mnemo_any_lexeme(text[])")
