-- One user's data as a whole: statistics and a portable export. Tables are
-- discovered (every table with tenant_id and user_id), so new kinds of data
-- are counted and exported without a change here.

-- name: user_tables
SELECT c.table_name
FROM information_schema.columns c
JOIN information_schema.tables t USING (table_schema, table_name)
WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
  AND c.column_name IN ('tenant_id', 'user_id')
GROUP BY c.table_name
HAVING count(*) = 2
ORDER BY c.table_name

-- name: memory_summary
SELECT count(*) FILTER (WHERE status = 'active') AS active,
       count(*) FILTER (WHERE status <> 'active') AS superseded,
       (SELECT coalesce(sum(a.access_count), 0) FROM memory_access a
        WHERE a.tenant_id = %(tenant)s AND a.user_id = %(user)s)::bigint AS accesses,
       avg(confidence) FILTER (WHERE status = 'active') AS mean_confidence,
       min(created_at) AS first_created_at,
       max(created_at) AS last_created_at,
       (SELECT max(a.last_accessed_at) FROM memory_access a
        WHERE a.tenant_id = %(tenant)s AND a.user_id = %(user)s) AS last_accessed_at
FROM memories
WHERE tenant_id = %(tenant)s AND user_id = %(user)s

-- name: memory_kinds
SELECT kind, count(*) AS count
FROM memories
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND status = 'active'
GROUP BY kind
ORDER BY kind

-- name: count_rows
SELECT count(*) AS count FROM {table} WHERE tenant_id = %(tenant)s AND user_id = %(user)s

-- name: export_rows
-- Derived columns (vectors, search vectors, hashes) are left out: an import
-- recomputes them with the importing store's model.
SELECT mnemo_snapshot(to_jsonb(t)) - 'tenant_id' AS row
FROM {table} t
WHERE tenant_id = %(tenant)s AND user_id = %(user)s
