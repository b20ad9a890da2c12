"""Conversation messages and the progressive summaries of sessions.

Revision ID: 0005
Revises: 0004

``messages`` is an embedded table (content, content_hash, embedding,
embedding_model, tsv, doc_len), so hybrid search and ``mnemo reembed`` treat it
like memories: ``body`` is a turn's text as given, ``content`` what search
indexes and embeds (the text plus its tool calls and results, never empty).
Turns are numbered per session from 1 and never rewritten; an optional
idempotency key per session makes a retried add harmless.
``summaries`` holds one progressive summary per session and the last turn it
covers.
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE messages (
            tenant_id text NOT NULL,
            user_id text NOT NULL,
            session_id text NOT NULL,
            id uuid NOT NULL,
            agent_id text,
            turn_number integer NOT NULL,
            role text NOT NULL,
            name text,
            body text NOT NULL,
            content text NOT NULL,
            tool_calls jsonb,
            tool_results jsonb,
            idempotency_key text,
            token_count integer NOT NULL,
            content_hash bytea NOT NULL,
            embedding vector,
            embedding_model text,
            tsv tsvector NOT NULL,
            doc_len integer NOT NULL,
            metadata jsonb NOT NULL DEFAULT '{}',
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, user_id, id),
            CONSTRAINT messages_turn_key UNIQUE (tenant_id, user_id, session_id, turn_number),
            CONSTRAINT messages_role_check CHECK (role IN ('user', 'assistant', 'tool', 'system')),
            CONSTRAINT messages_turn_number_check CHECK (turn_number >= 1),
            CONSTRAINT messages_token_count_check CHECK (token_count >= 0)
        )
        """
    )
    op.execute("ALTER TABLE messages ALTER COLUMN embedding SET STORAGE MAIN")
    op.execute(
        "CREATE UNIQUE INDEX messages_idempotency_idx ON messages"
        " (tenant_id, user_id, session_id, idempotency_key) WHERE idempotency_key IS NOT NULL"
    )
    op.execute(
        "CREATE INDEX messages_scope_created_idx ON messages (tenant_id, user_id, created_at, id)"
    )
    op.execute("CREATE INDEX messages_tenant_session_idx ON messages (tenant_id, session_id)")
    op.execute(
        """
        CREATE TABLE summaries (
            tenant_id text NOT NULL,
            user_id text NOT NULL,
            session_id text NOT NULL,
            agent_id text,
            content text NOT NULL,
            through_turn integer NOT NULL,
            turns_folded integer NOT NULL,
            token_count integer NOT NULL,
            method text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, user_id, session_id),
            CONSTRAINT summaries_through_turn_check CHECK (through_turn >= 0),
            CONSTRAINT summaries_turns_folded_check CHECK (turns_folded >= 0)
        )
        """
    )
    op.execute("SELECT mnemo_enable_tenant_rls('messages')")
    op.execute("SELECT mnemo_enable_tenant_rls('summaries')")


def downgrade() -> None:
    op.execute("DROP TABLE summaries, messages")
