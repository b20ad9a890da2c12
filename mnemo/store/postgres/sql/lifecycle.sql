-- Queries of the memory lifecycle: reconciliation writes, decay, consolidation and
-- clean-up. Every statement is bound to one tenant and one user. {columns} are the
-- memory record columns over the alias m, joined to its access statistics by {access}. Every change writes its memory_events row
-- (before / after without the vector and search columns, the reason, the actor).

-- name: nearest_memories
-- The user's current memories closest to a vector (exact cosine), skipping the
-- kinds reconciliation never touches (verbatim notes).
-- Statistics are joined to the nearest only (the scan of the scope stays one table's).
SELECT {columns}, m.similarity
FROM (
    SELECT m.*, 1 - (m.embedding <=> %(vector)s) AS similarity
    FROM memories m
    WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s AND m.status = 'active'
      AND m.embedding_model = %(model)s AND m.kind <> ALL(%(skip_kinds)s::text[])
    ORDER BY m.embedding <=> %(vector)s, m.id
    LIMIT %(limit)s
) m {access}
ORDER BY m.similarity DESC, m.id

-- name: insert_memory
-- One extracted memory, current or (when superseded_by is given) already history.
WITH input AS (
    SELECT to_tsvector(%(ts_config)s::regconfig, %(content)s) AS tsv
),
inserted AS (
    INSERT INTO memories (
        tenant_id, user_id, id, agent_id, session_id, kind, content, content_hash,
        embedding, embedding_model, tsv, doc_len, confidence, importance, metadata,
        source_message_ids, created_at, updated_at, valid_from, valid_to, superseded_by,
        status
    )
    SELECT %(tenant)s, %(user)s, %(id)s, %(agent)s, %(session)s, %(kind)s, %(content)s,
           sha256(convert_to(%(content)s, 'UTF8')), %(embedding)s, %(model)s, input.tsv,
           mnemo_tsv_length(input.tsv), %(confidence)s, %(importance)s, %(metadata)s,
           %(sources)s::uuid[], %(learned_at)s, now(), %(learned_at)s, %(valid_to)s,
           %(superseded_by)s::uuid,
           CASE WHEN %(superseded_by)s::uuid IS NULL THEN 'active' ELSE 'superseded' END
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

-- name: supersede_memories
-- Current memories replaced by %(by)s: valid until %(valid_to)s (never before they
-- began), kept as history.
WITH previous AS (
    SELECT * FROM memories
    WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND id = ANY(%(ids)s::uuid[])
      AND status = 'active'
    FOR UPDATE
),
changed AS (
    UPDATE memories m SET
        status = 'superseded',
        valid_to = greatest(%(valid_to)s::timestamptz, coalesce(p.valid_from, p.created_at)),
        superseded_by = %(by)s::uuid,
        updated_at = now()
    FROM previous p
    WHERE m.tenant_id = p.tenant_id AND m.user_id = p.user_id AND m.id = p.id
    RETURNING m.*
),
events AS (
    INSERT INTO memory_events (tenant_id, user_id, id, memory_id, event, before, after, reason, actor)
    SELECT c.tenant_id, c.user_id, gen_random_uuid(), c.id, 'supersede',
           mnemo_snapshot(to_jsonb(p)),
           mnemo_snapshot(to_jsonb(c)),
           %(reason)s, %(actor)s
    FROM changed c JOIN previous p USING (tenant_id, user_id, id)
    RETURNING 1  -- (on Citus: sent as INSERTs, not COPY)
)
SELECT c.id FROM changed c

-- name: refine_memory
-- A memory rewritten with more detail; its provenance grows, confidence and
-- importance never drop. event is 'update' (a refinement) or 'ignore' (a duplicate
-- confirming it: only provenance and confidence change).
WITH previous AS (
    SELECT * FROM memories
    WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND id = %(id)s AND status = 'active'
    FOR UPDATE
),
input AS (
    SELECT to_tsvector(%(ts_config)s::regconfig, coalesce(%(content)s, p.content)) AS tsv
    FROM previous p
),
updated AS (
    UPDATE memories m SET
        content = coalesce(%(content)s, m.content),
        content_hash = sha256(convert_to(coalesce(%(content)s, m.content), 'UTF8')),
        embedding = coalesce(%(embedding)s::vector, m.embedding),
        embedding_model = CASE WHEN %(embedding)s::vector IS NULL THEN m.embedding_model
                               ELSE %(model)s END,
        tsv = input.tsv,
        doc_len = mnemo_tsv_length(input.tsv),
        confidence = greatest(m.confidence, %(confidence)s),
        importance = greatest(m.importance, %(importance)s),
        source_message_ids = ARRAY(
            SELECT s FROM unnest(m.source_message_ids || %(sources)s::uuid[])
                WITH ORDINALITY AS u(s, n)
            GROUP BY s ORDER BY min(n)),
        updated_at = CASE WHEN %(content)s::text IS NULL THEN m.updated_at ELSE now() END
    FROM previous p, input
    WHERE m.tenant_id = p.tenant_id AND m.user_id = p.user_id AND m.id = p.id
    RETURNING m.*
),
events AS (
    INSERT INTO memory_events (tenant_id, user_id, id, memory_id, event, before, after, reason, actor)
    SELECT u.tenant_id, u.user_id, gen_random_uuid(), u.id, %(event)s,
           mnemo_snapshot(to_jsonb(p)),
           mnemo_snapshot(to_jsonb(u)),
           %(reason)s, %(actor)s
    FROM updated u JOIN previous p USING (tenant_id, user_id, id)
    RETURNING 1  -- (on Citus: sent as INSERTs, not COPY)
)
SELECT {columns} FROM updated m {access}

-- name: upkeep_rows
-- What decay, consolidation and clean-up look at: the user's current memories.
SELECT m.id, m.kind, m.content, m.embedding, m.embedding_model, m.created_at,
       a.last_accessed_at, coalesce(a.access_count, 0) AS access_count, m.pinned,
       m.importance, m.confidence, m.decay_score
FROM memories m
LEFT JOIN memory_access a
    ON a.tenant_id = m.tenant_id AND a.user_id = m.user_id AND a.memory_id = m.id
WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s AND m.status = 'active'
ORDER BY m.created_at, m.id

-- name: set_decay_scores
-- New decay scores; rows whose score crossed a tenth also get a 'decay' event. scores
-- maps each id (text) to its score; recorded lists the ids that get an event. (No
-- unnest of the ids in a CTE: Citus would ship it to the workers as an intermediate
-- result, which they misread; this way every part runs on the user's shard.)
WITH previous AS (
    SELECT m.id, m.decay_score,
           ((%(scores)s::jsonb ->> m.id::text)::float8)::real AS score
    FROM memories m
    WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s AND m.status = 'active'
      AND m.id = ANY(%(ids)s::uuid[])
    FOR UPDATE OF m
),
changed AS (
    UPDATE memories m SET decay_score = p.score
    FROM previous p
    WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s AND m.id = p.id
    RETURNING m.id
),
events AS (
    INSERT INTO memory_events (tenant_id, user_id, id, memory_id, event, before, after, reason, actor)
    SELECT %(tenant)s, %(user)s, gen_random_uuid(), p.id, 'decay',
           jsonb_build_object('decay_score', p.decay_score),
           jsonb_build_object('decay_score', p.score), %(reason)s, %(actor)s
    FROM previous p
    WHERE p.id = ANY(%(recorded)s::uuid[])
    RETURNING 1  -- (on Citus: sent as INSERTs, not COPY)
)
SELECT count(*) AS changed FROM changed

-- name: merge_memories
-- Near-duplicates folded into a survivor: provenance united, access counts added,
-- the latest read kept, confidence / importance / pinned kept at their best. Each merged memory keeps a
-- 'merge' event holding what it was; links to it now point at the survivor.
WITH merged_rows AS (
    SELECT * FROM memories
    WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND id = ANY(%(merged)s::uuid[])
      AND id <> %(survivor)s AND status = 'active'
    FOR UPDATE
),
previous AS (
    SELECT * FROM memories
    WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND id = %(survivor)s
      AND status = 'active' AND EXISTS (SELECT FROM merged_rows)
    FOR UPDATE
),
folded AS (
    SELECT (SELECT coalesce(array_agg(u.s ORDER BY o.created_at, o.id, u.n), '{}')
            FROM merged_rows o, unnest(o.source_message_ids) WITH ORDINALITY AS u(s, n))
               AS sources,
           (SELECT coalesce(sum(a.access_count), 0) FROM memory_access a
            WHERE a.tenant_id = %(tenant)s AND a.user_id = %(user)s
              AND a.memory_id IN (SELECT id FROM merged_rows)) AS accesses,
           (SELECT max(a.last_accessed_at) FROM memory_access a
            WHERE a.tenant_id = %(tenant)s AND a.user_id = %(user)s
              AND a.memory_id IN (SELECT id FROM merged_rows)) AS last_access,
           max(r.confidence) AS confidence,
           max(r.importance) AS importance, bool_or(r.pinned) AS pinned
    FROM merged_rows r
),
survivor_access AS (
    INSERT INTO memory_access AS x (tenant_id, user_id, memory_id, access_count, last_accessed_at)
    SELECT p.tenant_id, p.user_id, p.id, f.accesses, f.last_access
    FROM previous p, folded f
    WHERE f.accesses > 0 OR f.last_access IS NOT NULL
    ON CONFLICT (tenant_id, user_id, memory_id) DO UPDATE
    SET access_count = x.access_count + excluded.access_count,
        last_accessed_at = greatest(x.last_accessed_at, excluded.last_accessed_at)
),
survivor AS (
    UPDATE memories m SET
        source_message_ids = ARRAY(
            SELECT s FROM unnest(m.source_message_ids || f.sources) WITH ORDINALITY AS u(s, n)
            WHERE s IS NOT NULL GROUP BY s ORDER BY min(n)),
        confidence = greatest(m.confidence, f.confidence),
        importance = greatest(m.importance, f.importance),
        pinned = m.pinned OR coalesce(f.pinned, false),
        updated_at = now()
    FROM previous p, folded f
    WHERE m.tenant_id = p.tenant_id AND m.user_id = p.user_id AND m.id = p.id
    RETURNING m.*
),
survivor_event AS (
    INSERT INTO memory_events (tenant_id, user_id, id, memory_id, event, before, after, reason, actor)
    SELECT s.tenant_id, s.user_id, gen_random_uuid(), s.id, 'merge',
           mnemo_snapshot(to_jsonb(p)),
           mnemo_snapshot(to_jsonb(s))
               || jsonb_build_object('merged', (SELECT jsonb_agg(r.id) FROM merged_rows r)),
           %(reason)s, %(actor)s
    FROM survivor s JOIN previous p USING (tenant_id, user_id, id)
    RETURNING 1  -- (on Citus: sent as INSERTs, not COPY)
),
merged_events AS (
    INSERT INTO memory_events (tenant_id, user_id, id, memory_id, event, before, after, reason, actor)
    SELECT r.tenant_id, r.user_id, gen_random_uuid(), r.id, 'merge',
           mnemo_snapshot(to_jsonb(r)),
           jsonb_build_object('merged_into', %(survivor)s::text), %(reason)s, %(actor)s
    FROM merged_rows r WHERE EXISTS (SELECT FROM survivor)
    RETURNING 1  -- (on Citus: sent as INSERTs, not COPY)
),
relinked AS (
    UPDATE memories m SET superseded_by = %(survivor)s::uuid
    FROM merged_rows r
    WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s AND m.superseded_by = r.id
      AND EXISTS (SELECT FROM survivor)
    RETURNING m.id
),
deleted AS (
    DELETE FROM memories d USING merged_rows r
    WHERE d.tenant_id = r.tenant_id AND d.user_id = r.user_id AND d.id = r.id
      AND EXISTS (SELECT FROM survivor)
    RETURNING d.id
)
SELECT (SELECT count(*) FROM deleted) AS merged, (SELECT count(*) FROM relinked) AS relinked

-- name: remove_memories
-- Memories removed by policy; each keeps a 'delete' event holding what it was.
WITH deleted AS (
    DELETE FROM memories
    WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND id = ANY(%(ids)s::uuid[])
      AND status = 'active' AND NOT pinned
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

-- name: users_with_memories
-- Every (tenant, user) holding current memories: the nightly sweep's work list.
SELECT DISTINCT tenant_id, user_id FROM memories WHERE status = 'active'
ORDER BY tenant_id, user_id
