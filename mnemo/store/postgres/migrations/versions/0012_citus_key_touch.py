"""Citus under the service's role: ``mnemo_api_key_touch``, and turns inserted with RETURNING.

Revision ID: 0012
Revises: 0013

On Citus, ``api_keys`` and ``tenants`` are reference tables, and a change to
``api_keys`` locks the tenant row it refers to on every node, which needs a write
privilege on ``tenants`` the service's role does not have (nor should). The
SECURITY DEFINER function changes only ``last_used_at`` of the key the service
already authenticated, as the tables' owner; on one PostgreSQL it is the same
single statement as before.

Citus writes an ``INSERT ... SELECT`` that has no RETURNING with COPY, which
row-level security refuses for the service's role; ``mnemo_append_turns`` now
inserts the turns in a data-modifying WITH that returns, which Citus sends as
INSERTs. On one PostgreSQL the function does the same work.
"""

from alembic import op

from mnemo.store.postgres.migrations.append_turns import returning_append_turns

revision = "0012"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(returning_append_turns().replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    op.execute(
        "CREATE FUNCTION mnemo_api_key_touch(p_tenant text, p_id uuid) RETURNS void"
        " LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path FROM CURRENT"
        " AS $$ UPDATE api_keys SET last_used_at = now()"
        " WHERE tenant_id = p_tenant AND id = p_id $$"
    )
    op.execute(
        """
        DO $$
        BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'mnemo_service') THEN
                GRANT EXECUTE ON FUNCTION mnemo_api_key_touch(text, uuid) TO mnemo_service;
            END IF;
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION mnemo_api_key_touch(text, uuid)")
