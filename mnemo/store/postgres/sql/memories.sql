-- Queries on memories and their history. Every query is bound to one tenant;
-- most to one user. {where} is a scope + filter fragment built by filters.py
-- over the alias m; {columns} read access statistics through {access} (alias a).

-- name: insert_memories
WITH input AS (
    SELECT t.*, to_tsvector(%(ts_config)s::regconfig, t.content) AS tsv
    FROM unnest(
        %(ids)s::uuid[], %(agent_ids)s::text[], %(session_ids)s::text[], %(kinds)s::text[],
        %(contents)s::text[], %(embeddings)b::vector[], %(metadatas)s::jsonb[],
        %(created_ats)s::timestamptz[], %(confidences)s::real[], %(importances)s::real[],
        %(sources)s::jsonb[]
    ) AS t(id, agent_id, session_id, kind, content, embedding, metadata, created_at,
           confidence, importance, sources)
),
inserted AS (
    INSERT INTO memories (
        tenant_id, user_id, id, agent_id, session_id, kind, content, content_hash,
        embedding, embedding_model, tsv, doc_len, confidence, importance, metadata,
        source_message_ids, created_at, updated_at, valid_from
    )
    SELECT %(tenant)s, %(user)s, id, agent_id, session_id, kind, content,
           sha256(convert_to(content, 'UTF8')), embedding, %(model)s, tsv,
           mnemo_tsv_length(tsv), confidence, importance, metadata,
           ARRAY(SELECT jsonb_array_elements_text(sources)::uuid),
           coalesce(created_at, now()), now(), coalesce(created_at, now())
    FROM input
    RETURNING *
),
events AS (
    INSERT INTO memory_events (tenant_id, user_id, id, memory_id, event, after, reason, actor)
    SELECT tenant_id, user_id, gen_random_uuid(), id, 'add',
           mnemo_snapshot(to_jsonb(inserted)),
           %(reason)s, %(actor)s
    FROM inserted
    RETURNING 1  -- (on Citus: sent as INSERTs, not COPY)
)
SELECT {columns} FROM inserted m

-- name: get_memory
-- The owner placeholder is a user condition when the caller names the user (one
-- shard on Citus), else empty (every shard is asked).
SELECT {columns} FROM memories m {access}
WHERE m.tenant_id = %(tenant)s AND m.id = %(id)s {owner_m}

-- name: owner_of_memory
SELECT user_id FROM memories WHERE tenant_id = %(tenant)s AND id = %(id)s

-- name: list_memories
SELECT {columns} FROM memories m {access}
WHERE {where}
ORDER BY m.created_at DESC, m.id DESC
LIMIT %(limit)s OFFSET %(offset)s

-- name: count_memories
SELECT count(*) FROM memories m WHERE {where}

-- name: update_memory
WITH previous AS (
    SELECT * FROM memories
    WHERE tenant_id = %(tenant)s AND id = %(id)s {owner}
    FOR UPDATE
),
updated AS (
    UPDATE memories m SET
        content = coalesce(%(content)s, m.content),
        content_hash = sha256(convert_to(coalesce(%(content)s, m.content), 'UTF8')),
        embedding = coalesce(%(embedding)b::vector, m.embedding),
        embedding_model = CASE WHEN %(embedding)b::vector IS NULL THEN m.embedding_model
                               ELSE %(model)s END,
        tsv = CASE WHEN %(content)s::text IS NULL THEN m.tsv
                   ELSE to_tsvector(%(ts_config)s::regconfig, %(content)s) END,
        doc_len = CASE WHEN %(content)s::text IS NULL THEN m.doc_len
                       ELSE mnemo_tsv_length(to_tsvector(%(ts_config)s::regconfig, %(content)s)) END,
        kind = coalesce(%(kind)s, m.kind),
        metadata = coalesce(%(metadata)s::jsonb, m.metadata),
        confidence = coalesce(%(confidence)s, m.confidence),
        importance = coalesce(%(importance)s, m.importance),
        pinned = coalesce(%(pinned)s, m.pinned),
        updated_at = now()
    FROM previous p
    WHERE m.tenant_id = p.tenant_id AND m.user_id = p.user_id AND m.id = p.id {owner_m}
    RETURNING m.*
),
events AS (
    INSERT INTO memory_events (tenant_id, user_id, id, memory_id, event, before, after, reason, actor)
    SELECT u.tenant_id, u.user_id, gen_random_uuid(), u.id, 'update',
           mnemo_snapshot(to_jsonb(p)),
           mnemo_snapshot(to_jsonb(u)),
           %(reason)s, %(actor)s
    FROM updated u JOIN previous p USING (tenant_id, user_id, id)
    RETURNING 1  -- (on Citus: sent as INSERTs, not COPY)
)
-- (With the user named, the statistics' join names it too: Citus then runs the whole
-- statement on the user's shard; the CTE's rows alone do not tell it which.)
SELECT {columns} FROM updated m {access} {owner_a}

-- name: delete_memory
WITH deleted AS (
    DELETE FROM memories WHERE tenant_id = %(tenant)s AND id = %(id)s {owner}
    RETURNING *
),
events AS (
    INSERT INTO memory_events (tenant_id, user_id, id, memory_id, event, before, reason, actor)
    SELECT tenant_id, user_id, gen_random_uuid(), id, 'delete',
           mnemo_snapshot(to_jsonb(deleted)),
           %(reason)s, %(actor)s
    FROM deleted
    RETURNING 1  -- (on Citus: sent as INSERTs, not COPY)
)
SELECT id FROM deleted

-- name: history
SELECT id, memory_id, event, before, after, reason, actor, created_at
FROM memory_events
WHERE memory_id = %(id)s AND tenant_id = %(tenant)s {owner}
ORDER BY created_at, id

-- name: record_access
-- Searches that returned these memories: counts added, the latest time kept. Rows of
-- memory_access are narrow, so the read path never rewrites a memory; ids deleted
-- since the search are skipped (a join, not a correlated EXISTS: Citus refuses those
-- beside a set-returning function; the user comes from m, so each shard inserts its own).
INSERT INTO memory_access AS x (tenant_id, user_id, memory_id, access_count, last_accessed_at)
SELECT m.tenant_id, m.user_id, m.id, a.hits, a.at
FROM memories m
JOIN unnest(%(users)s::text[], %(ids)s::uuid[], %(hits)s::integer[], %(ats)s::timestamptz[])
    AS a(user_id, id, hits, at)
    ON m.user_id = a.user_id AND m.id = a.id
WHERE m.tenant_id = %(tenant)s
ON CONFLICT (tenant_id, user_id, memory_id) DO UPDATE
SET access_count = x.access_count + excluded.access_count,
    last_accessed_at = greatest(x.last_accessed_at, excluded.last_accessed_at)

-- name: user_scoped_tables
SELECT c.table_name
FROM information_schema.columns c
JOIN information_schema.tables t USING (table_schema, table_name)
WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
  AND c.column_name IN ('tenant_id', 'user_id')
GROUP BY c.table_name
HAVING count(*) = 2
ORDER BY c.table_name
