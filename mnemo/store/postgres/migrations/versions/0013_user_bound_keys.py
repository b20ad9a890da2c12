"""API keys bound to one user (for the MCP endpoint).

Revision ID: 0013
Revises: 0009

``mnemo keys create --user alice`` makes a key that acts for ``alice`` only: on
``/mcp`` every tool call is that user's, whatever the request says. The column is
not called ``user_id`` so that a key is not user data: erasing a user
(``delete_user``, which discovers tables by their ``user_id`` column) does not
touch keys, and Citus keeps ``api_keys`` a reference table.
"""

from alembic import op

revision = "0013"
down_revision = "0009"
branch_labels = None
depends_on = None

GRANT = r"""
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'mnemo_service') THEN
        GRANT EXECUTE ON FUNCTION mnemo_api_key_lookup(text) TO mnemo_service;
    END IF;
END
$$;
"""

UPGRADE = r"""
ALTER TABLE api_keys ADD COLUMN bound_user_id text
    CHECK (length(bound_user_id) BETWEEN 1 AND 255);
DROP FUNCTION mnemo_api_key_lookup(text);
CREATE FUNCTION mnemo_api_key_lookup(key_prefix text)
    RETURNS TABLE (id uuid, tenant_id text, key_hash bytea, revoked_at timestamptz,
                   bound_user_id text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path FROM CURRENT
    AS $$ SELECT k.id, k.tenant_id, k.key_hash, k.revoked_at, k.bound_user_id FROM api_keys k
          WHERE k.prefix = key_prefix $$;
{grant}"""

DOWNGRADE = r"""
DROP FUNCTION mnemo_api_key_lookup(text);
CREATE FUNCTION mnemo_api_key_lookup(key_prefix text)
    RETURNS TABLE (id uuid, tenant_id text, key_hash bytea, revoked_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path FROM CURRENT
    AS $$ SELECT k.id, k.tenant_id, k.key_hash, k.revoked_at FROM api_keys k
          WHERE k.prefix = key_prefix $$;
{grant}ALTER TABLE api_keys DROP COLUMN bound_user_id;
"""


def upgrade() -> None:
    op.execute(UPGRADE.replace("{grant}", GRANT))


def downgrade() -> None:
    op.execute(DOWNGRADE.replace("{grant}", GRANT))
