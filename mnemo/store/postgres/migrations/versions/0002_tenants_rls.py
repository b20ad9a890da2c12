"""Tenants, API keys, and row-level security as the second wall between tenants.

Revision ID: 0002
Revises: 0001

Every table with a ``tenant_id`` column gets the policy ``tenant_isolation``:
a row is visible and writable only when its ``tenant_id`` equals the
connection's ``mnemo.tenant_id`` setting. Owners and superusers bypass it, so
the REST service switches its connections to ``mnemo_service`` (``SET ROLE``),
a role without ``BYPASSRLS`` that owns nothing. Future tables call
``SELECT mnemo_enable_tenant_rls('new_table')`` in their migration (and in
schema.sql); see docs/contributing.md.
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FUNCTIONS = r"""
CREATE FUNCTION mnemo_ensure_service_role() RETURNS boolean
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mnemo_service') THEN
        BEGIN
            CREATE ROLE mnemo_service NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL;
            WHEN insufficient_privilege THEN
                RAISE WARNING 'mnemo: cannot create role mnemo_service (needs CREATEROLE); '
                    'the REST service will refuse to start until an administrator creates it';
                RETURN false;
        END;
    END IF;
    IF NOT pg_has_role(current_user, 'mnemo_service', 'MEMBER') THEN
        BEGIN
            EXECUTE format('GRANT mnemo_service TO %I', current_user);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'mnemo: cannot grant mnemo_service to %', current_user;
        END;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO mnemo_service', current_schema());
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE '
                   'ON TABLES TO mnemo_service', current_schema());
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT '
                   'ON SEQUENCES TO mnemo_service', current_schema());
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I '
                   'TO mnemo_service', current_schema());
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO mnemo_service',
                   current_schema());
    RETURN true;
END
$$;

CREATE FUNCTION mnemo_enable_tenant_rls(target regclass) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
    EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %s', target);
    EXECUTE format('CREATE POLICY tenant_isolation ON %s '
                   'USING (tenant_id = current_setting(''mnemo.tenant_id'', true)) '
                   'WITH CHECK (tenant_id = current_setting(''mnemo.tenant_id'', true))', target);
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'mnemo_service') THEN
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO mnemo_service', target);
    END IF;
END
$$;
"""

TABLES = r"""
CREATE TABLE tenants (
    tenant_id text PRIMARY KEY,
    name text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenants_id_check CHECK (tenant_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$')
);

CREATE TABLE api_keys (
    tenant_id text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    id uuid NOT NULL,
    prefix text NOT NULL,
    key_hash bytea NOT NULL,
    name text,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX api_keys_prefix_idx ON api_keys (prefix);

CREATE FUNCTION mnemo_api_key_lookup(key_prefix text)
    RETURNS TABLE (id uuid, tenant_id text, key_hash bytea, revoked_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path FROM CURRENT
    AS $$ SELECT k.id, k.tenant_id, k.key_hash, k.revoked_at FROM api_keys k
          WHERE k.prefix = key_prefix $$;

CREATE FUNCTION mnemo_embedded_rows_by_model() RETURNS TABLE (model text, rows bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path FROM CURRENT
    AS $$ SELECT embedding_model, count(*) FROM memories WHERE embedding IS NOT NULL
          GROUP BY embedding_model $$;
"""

SECURE = r"""
SELECT mnemo_ensure_service_role();
SELECT mnemo_enable_tenant_rls(format('%I', c.table_name)::regclass)
FROM information_schema.columns c
JOIN information_schema.tables t USING (table_schema, table_name)
WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id'
  AND t.table_type = 'BASE TABLE'
ORDER BY c.table_name;
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'mnemo_service') THEN
        REVOKE INSERT, UPDATE, DELETE ON tenants, api_keys FROM mnemo_service;
        GRANT UPDATE (last_used_at) ON api_keys TO mnemo_service;
        GRANT EXECUTE ON FUNCTION mnemo_api_key_lookup(text) TO mnemo_service;
        GRANT EXECUTE ON FUNCTION mnemo_embedded_rows_by_model() TO mnemo_service;
    END IF;
END
$$;
"""


def upgrade() -> None:
    op.execute(FUNCTIONS)
    op.execute(TABLES)
    op.execute(SECURE)


def downgrade() -> None:
    op.execute(
        """
        DO $$
        DECLARE target regclass;
        BEGIN
            FOR target IN
                SELECT format('%I', c.relname)::regclass FROM pg_policy p
                JOIN pg_class c ON c.oid = p.polrelid WHERE p.polname = 'tenant_isolation'
            LOOP
                EXECUTE format('DROP POLICY tenant_isolation ON %s', target);
                EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', target);
            END LOOP;
        END
        $$
        """
    )
    op.execute("DROP FUNCTION mnemo_api_key_lookup(text)")
    op.execute("DROP FUNCTION mnemo_embedded_rows_by_model()")
    op.execute("DROP TABLE api_keys, tenants")
    op.execute("DROP FUNCTION mnemo_enable_tenant_rls(regclass)")
    op.execute("DROP FUNCTION mnemo_ensure_service_role()")
