-- Re-embedding: every table holding (content, content_hash, embedding, embedding_model)
-- takes part. {table} is filled with an identifier.

-- name: embedded_tables
SELECT c.table_name
FROM information_schema.columns c
JOIN information_schema.tables t USING (table_schema, table_name)
WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
  AND c.column_name IN ('content', 'content_hash', 'embedding', 'embedding_model')
GROUP BY c.table_name
HAVING count(*) = 4
ORDER BY c.table_name

-- name: stale_rows
SELECT tenant_id, user_id, id, content, content_hash
FROM {table}
WHERE embedding_model IS DISTINCT FROM %(model)s
ORDER BY tenant_id, user_id, id
LIMIT %(limit)s

-- name: count_stale_rows
SELECT count(*) FROM {table} WHERE embedding_model IS DISTINCT FROM %(model)s

-- name: set_embeddings
UPDATE {table} AS m
SET embedding = t.embedding, embedding_model = %(model)s
FROM unnest(%(tenants)s::text[], %(users)s::text[], %(ids)s::uuid[], %(hashes)s::bytea[],
            %(embeddings)b::vector[]) AS t(tenant_id, user_id, id, content_hash, embedding)
WHERE m.tenant_id = t.tenant_id AND m.user_id = t.user_id AND m.id = t.id
  AND m.content_hash = t.content_hash

-- name: drop_other_cached
DELETE FROM embedding_cache WHERE model <> %(model)s
