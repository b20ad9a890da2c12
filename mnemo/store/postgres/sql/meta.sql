-- Facts about the store itself, such as the embedding model its vectors come from.

-- name: get_meta
SELECT value FROM mnemo_meta WHERE key = %(key)s

-- name: put_meta
INSERT INTO mnemo_meta (key, value) VALUES (%(key)s, %(value)s)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at

-- name: claim_meta
INSERT INTO mnemo_meta (key, value) VALUES (%(key)s, %(value)s)
ON CONFLICT (key) DO NOTHING

-- name: count_embedded_rows
-- Through a SECURITY DEFINER function: it counts every tenant's rows even on a
-- connection that row-level security confines to one tenant.
SELECT model, rows FROM mnemo_embedded_rows_by_model()

-- name: delete_meta
DELETE FROM mnemo_meta WHERE key = %(key)s
