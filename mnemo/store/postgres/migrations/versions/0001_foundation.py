"""Foundation: memories, their history, the embedding cache.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.execute(
        """
        CREATE TABLE mnemo_meta (
            key text PRIMARY KEY,
            value jsonb NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        CREATE FUNCTION mnemo_tsv_length(tsvector) RETURNS integer
            LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
            AS $$ SELECT coalesce(sum(coalesce(array_length(positions, 1), 1)), 0)::integer
                  FROM unnest($1) $$
        """
    )
    op.execute(
        """
        CREATE TABLE memories (
            tenant_id text NOT NULL,
            user_id text NOT NULL,
            id uuid NOT NULL,
            agent_id text,
            session_id text,
            kind text NOT NULL,
            content text NOT NULL,
            content_hash bytea NOT NULL,
            embedding vector,
            embedding_model text,
            tsv tsvector NOT NULL,
            doc_len integer NOT NULL,
            confidence real NOT NULL DEFAULT 1,
            importance real NOT NULL DEFAULT 0.5,
            access_count integer NOT NULL DEFAULT 0,
            last_accessed_at timestamptz,
            pinned boolean NOT NULL DEFAULT false,
            status text NOT NULL DEFAULT 'active',
            valid_from timestamptz,
            valid_to timestamptz,
            superseded_by uuid,
            source_message_ids uuid[] NOT NULL DEFAULT '{}',
            metadata jsonb NOT NULL DEFAULT '{}',
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, user_id, id),
            CONSTRAINT memories_kind_check CHECK (kind IN
                ('note', 'fact', 'preference', 'commitment', 'instruction', 'entity', 'event')),
            CONSTRAINT memories_status_check CHECK (status IN ('active', 'superseded')),
            CONSTRAINT memories_confidence_check CHECK (confidence >= 0 AND confidence <= 1),
            CONSTRAINT memories_importance_check CHECK (importance >= 0 AND importance <= 1)
        )
        """
    )
    op.execute("ALTER TABLE memories ALTER COLUMN embedding SET STORAGE MAIN")
    op.execute(
        "CREATE INDEX memories_scope_created_idx ON memories (tenant_id, user_id, created_at, id)"
    )
    op.execute("CREATE INDEX memories_id_idx ON memories (id)")
    op.execute(
        """
        CREATE TABLE memory_events (
            tenant_id text NOT NULL,
            user_id text NOT NULL,
            id uuid NOT NULL,
            memory_id uuid NOT NULL,
            event text NOT NULL,
            before jsonb,
            after jsonb,
            reason text,
            actor text,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            PRIMARY KEY (tenant_id, user_id, id),
            CONSTRAINT memory_events_event_check CHECK (event IN
                ('add', 'update', 'supersede', 'merge', 'decay', 'delete', 'restore'))
        )
        """
    )
    op.execute("CREATE INDEX memory_events_memory_idx ON memory_events (memory_id, created_at)")
    op.execute(
        """
        CREATE TABLE embedding_cache (
            tenant_id text NOT NULL,
            user_id text NOT NULL,
            model text NOT NULL,
            input_type text NOT NULL,
            text_hash bytea NOT NULL,
            embedding vector NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, user_id, model, input_type, text_hash)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE embedding_cache, memory_events, memories, mnemo_meta")
    op.execute("DROP FUNCTION mnemo_tsv_length(tsvector)")
