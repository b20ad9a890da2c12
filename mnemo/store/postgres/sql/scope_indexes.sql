-- Per-user vector indexes for very large scopes (scope_indexes.py). {table} is
-- memories or messages; {name} the index; {predicate} its literal WHERE.

-- name: lookup
SELECT index_name, model, dimensions, row_count, avg_doc_len
FROM scope_indexes
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND table_name = %(table)s

-- name: create_index
CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table}
USING hnsw ((embedding::vector({dim})) vector_cosine_ops)
WHERE {predicate}

-- name: index_valid
SELECT i.indisvalid AS valid
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relname = %(name)s AND c.relnamespace = current_schema()::regnamespace

-- name: drop_index
DROP INDEX CONCURRENTLY IF EXISTS {name}

-- name: register
-- The scope's size and mean length as of the build: BM25's N and avgdl for searches
-- through the index (they drift slowly; a rebuild refreshes them).
INSERT INTO scope_indexes AS s
    (tenant_id, user_id, table_name, index_name, model, dimensions, row_count, avg_doc_len)
SELECT %(tenant)s, %(user)s, %(table)s, %(name)s, %(model)s, %(dim)s,
       count(*), coalesce(avg(m.doc_len), 1)
FROM {table} m
WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s
ON CONFLICT (tenant_id, user_id, table_name) DO UPDATE
SET index_name = excluded.index_name, model = excluded.model,
    dimensions = excluded.dimensions, row_count = excluded.row_count,
    avg_doc_len = excluded.avg_doc_len, built_at = now()

-- name: unregister
DELETE FROM scope_indexes
WHERE tenant_id = %(tenant)s AND user_id = %(user)s
RETURNING table_name, index_name

-- name: large_scopes
-- Scopes of {table} holding at least %(min_rows)s rows and no registered index.
-- (An anti-join, not NOT EXISTS in HAVING: Citus refuses a HAVING sub-query that refers
-- to the outer query; joined on the user, it runs on every shard.)
SELECT m.tenant_id, m.user_id, count(*) AS rows
FROM {table} m
LEFT JOIN scope_indexes s
    ON s.tenant_id = m.tenant_id AND s.user_id = m.user_id AND s.table_name = %(table)s
WHERE s.user_id IS NULL
GROUP BY m.tenant_id, m.user_id
HAVING count(*) >= %(min_rows)s

-- name: orphan_indexes
-- Scope indexes whose registry row is gone (the user was deleted).
-- (The registry is read first, on its own: Citus joins no distributed table with a
-- local catalog directly.)
WITH registered AS MATERIALIZED (SELECT index_name FROM scope_indexes)
SELECT c.relname AS name
FROM pg_class c
WHERE c.relkind = 'i' AND c.relnamespace = current_schema()::regnamespace
  AND c.relname LIKE 'mnemo\_scope\_%%'
  AND NOT EXISTS (SELECT FROM registered r WHERE r.index_name = c.relname)
