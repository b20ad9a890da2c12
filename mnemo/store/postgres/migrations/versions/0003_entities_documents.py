"""Entities (aliases, mentions, relations) and reference documents with their chunks.

Revision ID: 0003
Revises: 0002

``chunks`` and ``entities`` are embedded tables (content, content_hash, embedding,
embedding_model, tsv, doc_len), so search and ``mnemo reembed`` treat them like
memories. Documents whose ``user_id`` is ``''`` are shared by the whole tenant.
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE entities (
            tenant_id text NOT NULL,
            user_id text NOT NULL,
            id uuid NOT NULL,
            name text NOT NULL,
            canonical_name text NOT NULL,
            type text NOT NULL,
            description text NOT NULL DEFAULT '',
            importance real NOT NULL DEFAULT 0.5,
            mention_count integer NOT NULL DEFAULT 0,
            first_seen_at timestamptz NOT NULL DEFAULT now(),
            last_seen_at timestamptz NOT NULL DEFAULT now(),
            content text NOT NULL,
            content_hash bytea NOT NULL,
            embedding vector,
            embedding_model text,
            tsv tsvector NOT NULL,
            doc_len integer NOT NULL,
            metadata jsonb NOT NULL DEFAULT '{}',
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, user_id, id),
            CONSTRAINT entities_canonical_key UNIQUE (tenant_id, user_id, canonical_name),
            CONSTRAINT entities_type_check
                CHECK (type IN ('person', 'organisation', 'place', 'concept')),
            CONSTRAINT entities_importance_check CHECK (importance >= 0 AND importance <= 1),
            CONSTRAINT entities_mention_count_check CHECK (mention_count >= 0)
        )
        """
    )
    op.execute("ALTER TABLE entities ALTER COLUMN embedding SET STORAGE MAIN")
    op.execute(
        """
        CREATE INDEX entities_scope_seen_idx ON entities (tenant_id, user_id, last_seen_at)
        """
    )
    op.execute(
        """
        CREATE TABLE entity_aliases (
            tenant_id text NOT NULL,
            user_id text NOT NULL,
            alias_key text NOT NULL,
            alias text NOT NULL,
            entity_id uuid NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, user_id, alias_key),
            CONSTRAINT entity_aliases_entity_fkey FOREIGN KEY (tenant_id, user_id, entity_id)
                REFERENCES entities (tenant_id, user_id, id) DEFERRABLE INITIALLY DEFERRED
        )
        """
    )
    op.execute(
        """
        CREATE INDEX entity_aliases_entity_idx ON entity_aliases (tenant_id, user_id, entity_id)
        """
    )
    op.execute(
        """
        CREATE TABLE entity_mentions (
            tenant_id text NOT NULL,
            user_id text NOT NULL,
            entity_id uuid NOT NULL,
            agent_id text NOT NULL DEFAULT '',
            session_id text NOT NULL DEFAULT '',
            mention_count integer NOT NULL,
            first_seen_at timestamptz NOT NULL,
            last_seen_at timestamptz NOT NULL,
            PRIMARY KEY (tenant_id, user_id, entity_id, agent_id, session_id),
            CONSTRAINT entity_mentions_entity_fkey FOREIGN KEY (tenant_id, user_id, entity_id)
                REFERENCES entities (tenant_id, user_id, id) DEFERRABLE INITIALLY DEFERRED
        )
        """
    )
    op.execute(
        """
        CREATE INDEX entity_mentions_scope_idx
            ON entity_mentions (tenant_id, user_id, session_id, agent_id)
        """
    )
    op.execute(
        """
        CREATE TABLE entity_relations (
            tenant_id text NOT NULL,
            user_id text NOT NULL,
            id uuid NOT NULL,
            subject_id uuid NOT NULL,
            predicate text NOT NULL,
            object_id uuid NOT NULL,
            confidence real NOT NULL DEFAULT 0.5,
            mention_count integer NOT NULL DEFAULT 1,
            evidence text[] NOT NULL DEFAULT '{}',
            source_message_ids uuid[] NOT NULL DEFAULT '{}',
            first_seen_at timestamptz NOT NULL DEFAULT now(),
            last_seen_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, user_id, id),
            CONSTRAINT entity_relations_triple_key
                UNIQUE (tenant_id, user_id, subject_id, predicate, object_id),
            CONSTRAINT entity_relations_subject_fkey FOREIGN KEY (tenant_id, user_id, subject_id)
                REFERENCES entities (tenant_id, user_id, id) DEFERRABLE INITIALLY DEFERRED,
            CONSTRAINT entity_relations_object_fkey FOREIGN KEY (tenant_id, user_id, object_id)
                REFERENCES entities (tenant_id, user_id, id) DEFERRABLE INITIALLY DEFERRED,
            CONSTRAINT entity_relations_confidence_check CHECK (confidence >= 0 AND confidence <= 1)
        )
        """
    )
    op.execute(
        """
        CREATE INDEX entity_relations_object_idx ON entity_relations (tenant_id, user_id, object_id)
        """
    )
    op.execute(
        """
        CREATE TABLE documents (
            tenant_id text NOT NULL,
            user_id text NOT NULL,
            id uuid NOT NULL,
            agent_id text,
            session_id text,
            name text NOT NULL,
            uri text,
            format text NOT NULL,
            title text,
            content_hash bytea NOT NULL,
            char_count integer NOT NULL,
            chunk_count integer NOT NULL,
            metadata jsonb NOT NULL DEFAULT '{}',
            version integer NOT NULL DEFAULT 1,
            loaded_at timestamptz NOT NULL DEFAULT now(),
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, user_id, id),
            CONSTRAINT documents_name_key UNIQUE (tenant_id, user_id, name),
            CONSTRAINT documents_format_check CHECK (format IN
                ('text', 'markdown', 'html', 'json', 'yaml', 'openapi', 'pdf'))
        )
        """
    )
    op.execute(
        """
        CREATE TABLE chunks (
            tenant_id text NOT NULL,
            user_id text NOT NULL,
            id uuid NOT NULL,
            document_id uuid NOT NULL,
            document_version integer NOT NULL,
            agent_id text,
            session_id text,
            chunk_index integer NOT NULL,
            heading_path text[] NOT NULL DEFAULT '{}',
            char_start integer NOT NULL,
            char_end integer NOT NULL,
            tokens integer NOT NULL,
            content text NOT NULL,
            content_hash bytea NOT NULL,
            embedding vector,
            embedding_model text,
            tsv tsvector NOT NULL,
            doc_len integer NOT NULL,
            metadata jsonb NOT NULL DEFAULT '{}',
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, user_id, id),
            CONSTRAINT chunks_position_key UNIQUE (tenant_id, user_id, document_id, chunk_index),
            CONSTRAINT chunks_document_fkey FOREIGN KEY (tenant_id, user_id, document_id)
                REFERENCES documents (tenant_id, user_id, id) ON DELETE CASCADE
        )
        """
    )
    op.execute("ALTER TABLE chunks ALTER COLUMN embedding SET STORAGE MAIN")
    # Lexical candidates of shared (tenant-wide) corpora; user corpora are scanned exactly.
    op.execute("CREATE INDEX chunks_shared_tsv_idx ON chunks USING gin (tsv) WHERE user_id = ''")
    op.execute("SELECT mnemo_enable_tenant_rls('entities')")
    op.execute("SELECT mnemo_enable_tenant_rls('entity_aliases')")
    op.execute("SELECT mnemo_enable_tenant_rls('entity_mentions')")
    op.execute("SELECT mnemo_enable_tenant_rls('entity_relations')")
    op.execute("SELECT mnemo_enable_tenant_rls('documents')")
    op.execute("SELECT mnemo_enable_tenant_rls('chunks')")


def downgrade() -> None:
    op.execute(
        "DROP TABLE chunks, documents, entity_relations, entity_mentions, entity_aliases, entities"
    )
