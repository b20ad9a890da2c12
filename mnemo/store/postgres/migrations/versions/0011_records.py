"""Records: the Memorizz-style typed collections (personas, toolbox, memories, agents).

Revision ID: 0011
Revises: 0010

One table holds every collection (``memory_type``: ``personas``, ``toolbox``,
``conversation_memory``, ``agents``, ...). Scope columns come first; then the
columns the provider queries (``name``, ``memory_id``, ``agent_id``,
``conversation_id``, ``role``, ``happened_at``: the record's own timestamp);
everything else of the caller's document is ``data`` (jsonb). ``content`` is the
text mnemo embeds with its own model (``embedding``) and indexes (``tsv``) for
hybrid search; ``caller_embedding`` is the caller's own vector, of any dimension
(one dimension per collection, checked on write). HNSW indexes over
``caller_embedding`` are built per dimension when a collection grows, not here.
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE records (
            tenant_id text NOT NULL,
            user_id text NOT NULL,
            id uuid NOT NULL,
            memory_type text NOT NULL,
            name text,
            memory_id text,
            agent_id text,
            conversation_id text,
            role text,
            happened_at timestamptz NOT NULL DEFAULT now(),
            data jsonb NOT NULL DEFAULT '{}',
            content text NOT NULL,
            embedding vector,
            embedding_model text,
            tsv tsvector NOT NULL,
            doc_len integer NOT NULL,
            terms jsonb GENERATED ALWAYS AS (mnemo_terms(tsv)) STORED,
            caller_embedding vector,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, user_id, id),
            CONSTRAINT records_memory_type_check CHECK (memory_type ~ '^[a-z][a-z0-9_]{0,63}$'),
            CONSTRAINT records_data_check CHECK (jsonb_typeof(data) = 'object')
        )
        """
    )
    op.execute("CREATE INDEX records_name_idx ON records (tenant_id, user_id, memory_type, name)")
    op.execute(
        "CREATE INDEX records_memory_id_idx ON records"
        " (tenant_id, user_id, memory_type, memory_id, happened_at)"
    )
    op.execute("ALTER TABLE records SET (toast_tuple_target = 4080)")
    op.execute("SELECT mnemo_enable_tenant_rls('records')")


def downgrade() -> None:
    op.execute("DROP TABLE records")
