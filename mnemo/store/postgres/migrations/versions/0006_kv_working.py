"""Key-value store (settings included), its change history, and working memory.

Revision ID: 0006
Revises: 0005

``kv_entries`` holds the current value of each key per (tenant, user, agent,
session, namespace); settings are its namespace ``settings``. A value is jsonb,
or zlib-compressed JSON in ``value_z`` when large. ``kv_history`` keeps every
change of versioned keys (old and new value, actor, reason, time) for history and
rollback. ``working_items`` holds a task's scratch items (by key) and the steps of
its reasoning chain (by position). ``agent_id`` / ``session_id`` are ``''`` when a
row is not narrowed to one, so they can be part of the keys.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE kv_entries (
            tenant_id text NOT NULL,
            user_id text NOT NULL,
            namespace text NOT NULL,
            agent_id text NOT NULL DEFAULT '',
            session_id text NOT NULL DEFAULT '',
            key text NOT NULL,
            value jsonb,
            value_z bytea,
            size_bytes integer NOT NULL,
            version bigint NOT NULL,
            expires_at timestamptz,
            updated_by text,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, user_id, namespace, agent_id, session_id, key),
            CONSTRAINT kv_entries_one_value_check CHECK ((value IS NULL) <> (value_z IS NULL)),
            CONSTRAINT kv_entries_version_check CHECK (version >= 1),
            CONSTRAINT kv_entries_size_check CHECK (size_bytes >= 0)
        )
        """
    )
    op.execute(
        "CREATE INDEX kv_entries_expiry_idx ON kv_entries (tenant_id, expires_at)"
        " WHERE expires_at IS NOT NULL"
    )
    op.execute(
        """
        CREATE TABLE kv_history (
            tenant_id text NOT NULL,
            user_id text NOT NULL,
            namespace text NOT NULL,
            agent_id text NOT NULL DEFAULT '',
            session_id text NOT NULL DEFAULT '',
            key text NOT NULL,
            version bigint NOT NULL,
            change text NOT NULL,
            old_value jsonb,
            old_z bytea,
            new_value jsonb,
            new_z bytea,
            actor text,
            reason text,
            created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            PRIMARY KEY (tenant_id, user_id, namespace, agent_id, session_id, key, version),
            CONSTRAINT kv_history_change_check CHECK (change IN ('set', 'delete', 'rollback'))
        )
        """
    )
    op.execute(
        """
        CREATE TABLE working_items (
            tenant_id text NOT NULL,
            user_id text NOT NULL,
            id uuid NOT NULL,
            namespace text NOT NULL,
            agent_id text NOT NULL DEFAULT '',
            session_id text NOT NULL DEFAULT '',
            kind text NOT NULL,
            key text,
            position bigint,
            step text,
            value jsonb NOT NULL DEFAULT 'null',
            metadata jsonb NOT NULL DEFAULT '{}',
            importance double precision NOT NULL DEFAULT 0.5,
            size_bytes integer NOT NULL,
            access_count integer NOT NULL DEFAULT 0,
            last_accessed_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, user_id, id),
            CONSTRAINT working_items_kind_check CHECK (
                (kind = 'item' AND key IS NOT NULL AND position IS NULL AND step IS NULL)
                OR (kind = 'step' AND key IS NULL AND position IS NOT NULL
                    AND step IS NOT NULL)),
            CONSTRAINT working_items_importance_check CHECK (importance >= 0 AND importance <= 1)
        )
        """
    )
    op.execute(
        "CREATE UNIQUE INDEX working_items_key_idx ON working_items"
        " (tenant_id, user_id, namespace, agent_id, session_id, key)"
    )
    op.execute(
        "CREATE UNIQUE INDEX working_items_position_idx ON working_items"
        " (tenant_id, user_id, namespace, agent_id, session_id, position)"
    )
    op.execute(
        "CREATE INDEX working_items_expiry_idx ON working_items (tenant_id, expires_at)"
        " WHERE expires_at IS NOT NULL"
    )
    op.execute("SELECT mnemo_enable_tenant_rls('kv_entries')")
    op.execute("SELECT mnemo_enable_tenant_rls('kv_history')")
    op.execute("SELECT mnemo_enable_tenant_rls('working_items')")


def downgrade() -> None:
    op.execute("DROP TABLE working_items, kv_history, kv_entries")
