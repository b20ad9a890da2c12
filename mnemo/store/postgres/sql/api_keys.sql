-- Tenants and their API keys. The service looks keys up through the SECURITY
-- DEFINER function mnemo_api_key_lookup (the tenant is not known before the
-- lookup, and row-level security confines every other read to one tenant);
-- the admin commands (`mnemo keys ...`) connect as the owner.

-- name: ensure_tenant
INSERT INTO tenants (tenant_id, name) VALUES (%(tenant)s, %(name)s)
ON CONFLICT (tenant_id) DO NOTHING

-- name: insert_key
INSERT INTO api_keys (tenant_id, id, prefix, key_hash, name, bound_user_id)
VALUES (%(tenant)s, %(id)s, %(prefix)s, %(hash)s, %(name)s, %(user)s)
RETURNING tenant_id, id, prefix, name, created_at, last_used_at, revoked_at, bound_user_id

-- name: lookup_key
SELECT id, tenant_id, key_hash, revoked_at, bound_user_id FROM mnemo_api_key_lookup(%(prefix)s)

-- name: touch_key
-- As the owner (SECURITY DEFINER): on Citus the change locks the key's tenant row too.
SELECT mnemo_api_key_touch(%(tenant)s, %(id)s)

-- name: list_keys
SELECT tenant_id, id, prefix, name, created_at, last_used_at, revoked_at, bound_user_id
FROM api_keys
WHERE %(tenant)s::text IS NULL OR tenant_id = %(tenant)s
ORDER BY tenant_id, created_at, id

-- name: revoke_key
UPDATE api_keys SET revoked_at = now()
WHERE (prefix = %(ref)s OR id::text = %(ref)s) AND revoked_at IS NULL
RETURNING tenant_id, id, prefix, name, created_at, last_used_at, revoked_at, bound_user_id
