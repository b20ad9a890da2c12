-- Catalog queries of `mnemo db distribute` (distribute.py). Each DDL call is its
-- own statement: Citus refuses several utility statements in one query string.

-- name: citus_installed
SELECT extversion FROM pg_extension WHERE extname = 'citus'

-- name: tables
-- mnemo's tables (the schema it was migrated into), with whether each has user_id.
SELECT c.relname AS name,
       EXISTS (SELECT FROM pg_attribute a
               WHERE a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped
                 AND a.attnum > 0) AS has_user_id
FROM pg_class c
WHERE c.relnamespace = current_schema()::regnamespace
  AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY c.relname

-- name: foreign_keys
-- Which table refers to which: a referenced table is distributed first.
SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent
FROM pg_constraint
WHERE contype = 'f' AND connamespace = current_schema()::regnamespace
  AND conrelid <> confrelid

-- name: citus_tables
-- How Citus holds each of mnemo's tables now (absent: a plain local table).
SELECT c.relname AS name,
       CASE p.partmethod WHEN 'h' THEN 'distributed'
                         WHEN 'n' THEN CASE WHEN p.repmodel = 't' THEN 'reference'
                                            ELSE 'local' END
                         ELSE p.partmethod::text END AS kind,
       CASE WHEN p.partmethod = 'h' THEN column_to_column_name(p.logicalrelid, p.partkey)
            END AS column_name,
       p.colocationid AS colocation_id
FROM pg_dist_partition p
JOIN pg_class c ON c.oid = p.logicalrelid
WHERE c.relnamespace = current_schema()::regnamespace

-- name: worker_count
SELECT count(*) AS workers FROM pg_dist_node
WHERE noderole = 'primary' AND isactive AND groupid <> 0

-- name: create_reference_table
SELECT create_reference_table(%(table)s::regclass)

-- name: create_anchor_table
SELECT create_distributed_table(%(table)s::regclass, 'user_id', shard_count => %(shards)s)

-- name: create_colocated_table
SELECT create_distributed_table(%(table)s::regclass, 'user_id', colocate_with => %(anchor)s)

-- name: truncate_local_data
SELECT truncate_local_data_after_distributing_table(%(table)s::regclass)

-- name: shard_count
SELECT count(*) AS shards FROM pg_dist_shard WHERE logicalrelid = %(table)s::regclass

-- name: service_role_login
SELECT rolcanlogin FROM pg_roles WHERE rolname = 'mnemo_service'
