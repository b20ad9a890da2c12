"""Term frequencies for BM25 as jsonb, kept beside each searchable table's tsvector.

Revision ID: 0007
Revises: 0006

The lexical leg needs, for every row of a user's scope, how often each query
term occurs. Reading that from a tsvector means unnesting it row by row; a
jsonb object ``{lexeme: count}`` answers ``terms ? 'coffe'`` and
``terms ->> 'coffe'`` directly, which makes the search query about a quarter
faster. The column is generated from ``tsv``, so writers need not change.
``mnemo_snapshot(to_jsonb(row))`` is a row as history records it: without the
vectors and the derived search columns.

A row of these tables is about 2 kB (a 384-d vector alone is 1.5 kB), just over
PostgreSQL's default 2 kB threshold for moving values out of line: searches then
fetch ``terms`` and ``tsv`` from the TOAST table row by row. Raising
``toast_tuple_target`` keeps rows of up to 4 kB whole.
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("memories", "messages", "chunks", "entities")


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION mnemo_terms(tsvector) RETURNS jsonb
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
            AS $$ SELECT coalesce(jsonb_object_agg(lexeme, coalesce(array_length(positions, 1), 1)),
                                  '{}') FROM unnest($1) $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION mnemo_snapshot(jsonb) RETURNS jsonb
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
            AS $$ SELECT $1 - ARRAY['embedding', 'tsv', 'terms', 'content_hash', 'doc_len'] $$
        """
    )
    for table in TABLES:
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN terms jsonb"
            " GENERATED ALWAYS AS (mnemo_terms(tsv)) STORED"
        )
        op.execute(f"ALTER TABLE {table} SET (toast_tuple_target = 4080)")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} RESET (toast_tuple_target)")
        op.execute(f"ALTER TABLE {table} DROP COLUMN terms")
    op.execute("DROP FUNCTION mnemo_snapshot(jsonb)")
    op.execute("DROP FUNCTION mnemo_terms(tsvector)")
