-- Records: the Memorizz-style typed collections, one table for all of them.
-- A collection is (tenant, user, memory_type). {columns} is the record's column
-- list over the alias m; {where} a scope + filter fragment over m; {dim} a literal
-- dimension; {name} an index identifier.

-- name: lock_collection
-- Writers of one collection take turns, so its single vector dimension holds.
SELECT pg_advisory_xact_lock(%(lock_class)s, hashtext(%(lock)s))

-- name: collection_dimension
-- The dimension of the collection's caller vectors (none yet: no row), the row
-- being rewritten left out.
SELECT vector_dims(m.caller_embedding) AS dimension
FROM records m
WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s AND m.memory_type = %(memory_type)s
  AND m.caller_embedding IS NOT NULL AND m.id IS DISTINCT FROM %(id)s::uuid
LIMIT 1

-- name: get_by_id
SELECT {columns} FROM records m
WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s AND m.memory_type = %(memory_type)s
  AND m.id = %(id)s::uuid

-- name: get_by_name
-- The oldest record of that name (store() keeps names unique within a collection).
SELECT {columns} FROM records m
WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s AND m.memory_type = %(memory_type)s
  AND m.name = %(name)s
ORDER BY m.created_at, m.id
LIMIT 1

-- name: insert_record
-- Inserts nothing when the id is taken, or (by_name) when the collection already has
-- a record of that name: a concurrent writer got there first, the caller updates it.
INSERT INTO records (
    tenant_id, user_id, id, memory_type, name, memory_id, agent_id, conversation_id, role,
    happened_at, data, content, embedding, embedding_model, tsv, doc_len, caller_embedding
)
SELECT %(tenant)s, %(user)s, %(id)s::uuid, %(memory_type)s, %(name)s, %(memory_id)s,
       %(agent_id)s, %(conversation_id)s, %(role)s, coalesce(%(happened_at)s, now()),
       %(data)s::jsonb, %(content)s, %(embedding)b::vector, %(model)s, t.tsv,
       mnemo_tsv_length(t.tsv), %(caller_embedding)s::vector
FROM (SELECT to_tsvector(%(ts_config)s::regconfig, %(content)s) AS tsv) t
WHERE NOT (%(by_name)s AND EXISTS (
    SELECT FROM records m
    WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s
      AND m.memory_type = %(memory_type)s AND m.name = %(name)s
))
ON CONFLICT (tenant_id, user_id, id) DO NOTHING

-- name: update_record
-- Every column rewritten from the merged document; created_at kept.
UPDATE records m SET
    name = %(name)s, memory_id = %(memory_id)s, agent_id = %(agent_id)s,
    conversation_id = %(conversation_id)s, role = %(role)s,
    happened_at = coalesce(%(happened_at)s, m.created_at), data = %(data)s::jsonb,
    content = %(content)s, embedding = %(embedding)b::vector, embedding_model = %(model)s,
    tsv = t.tsv, doc_len = mnemo_tsv_length(t.tsv),
    caller_embedding = %(caller_embedding)s::vector, updated_at = now()
FROM (SELECT to_tsvector(%(ts_config)s::regconfig, %(content)s) AS tsv) t
WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s AND m.memory_type = %(memory_type)s
  AND m.id = %(id)s::uuid

-- name: list_records
SELECT {columns} FROM records m
WHERE {where}
ORDER BY m.created_at, m.id
LIMIT %(limit)s

-- name: conversation_history
-- A conversation's turns in the order they happened (their own timestamps).
SELECT {columns} FROM records m
WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s AND m.memory_type = %(memory_type)s
  AND m.memory_id = %(memory_id)s
ORDER BY m.happened_at, m.created_at, m.id
LIMIT %(limit)s

-- name: nearest_records
-- The records nearest to the caller's vector, by cosine distance. The cast to
-- {dim} lets an HNSW index of that dimension serve the query once it exists.
SELECT {columns},
       m.caller_embedding::vector({dim}) <=> %(query_vector)s::vector({dim}) AS distance
FROM records m
WHERE {where} AND vector_dims(m.caller_embedding) = {dim}
ORDER BY m.caller_embedding::vector({dim}) <=> %(query_vector)s::vector({dim}), m.id
LIMIT %(limit)s

-- name: delete_by_id
DELETE FROM records
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND memory_type = %(memory_type)s
  AND id = %(id)s::uuid

-- name: delete_by_name
DELETE FROM records
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND memory_type = %(memory_type)s
  AND name = %(name)s

-- name: delete_collection
DELETE FROM records
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND memory_type = %(memory_type)s

-- name: delete_by_memory_ids
-- Every record of these memory ids in every collection but the agents' own.
DELETE FROM records
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND memory_type <> %(agents)s
  AND memory_id = ANY(%(memory_ids)s::text[])

-- name: dimension_count
-- How many of the tenant's records carry a caller vector of this dimension.
SELECT count(*) AS n FROM records
WHERE tenant_id = %(tenant)s AND caller_embedding IS NOT NULL
  AND vector_dims(caller_embedding) = %(dimension)s

-- name: create_hnsw
CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON records
USING hnsw ((caller_embedding::vector({dim})) vector_cosine_ops)
WHERE vector_dims(caller_embedding) = {dim}
