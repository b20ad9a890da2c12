-- Conversation messages. Every query is bound to one tenant and one user, most
-- to one session. {columns} is the record's column list over the alias m;
-- {where} a scope fragment from filters.py; {order} ASC or DESC.

-- name: keyed_messages
SELECT {columns} FROM messages m
WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s AND m.session_id = %(session)s
  AND m.idempotency_key = ANY(%(keys)s::text[])

-- name: append_turns
-- Lock, idempotency, numbering, insert and (with a job) the extraction ledger and the
-- job, in one statement: see mnemo_append_turns in schema.sql (revision 0010).
SELECT * FROM mnemo_append_turns(
    %(tenant)s, %(user)s, %(session)s, %(ts_config)s::regconfig, %(model)s,
    %(ids)s::uuid[], %(agent_ids)s::text[], %(turns)s::integer[], %(roles)s::text[],
    %(names)s::text[], %(bodies)s::text[], %(contents)s::text[],
    %(tool_calls)s::jsonb[], %(tool_results)s::jsonb[], %(keys)s::text[],
    %(token_counts)s::integer[], %(embeddings)b::vector[], %(metadatas)s::jsonb[],
    %(created_ats)s::timestamptz[], %(sources)s::jsonb[],
    ROW(%(job_queue)s::varchar, %(job_task)s::varchar, %(job_priority)s::integer,
        %(job_lock)s::text, %(job_queueing_lock)s::text, %(job_args)s::jsonb,
        %(job_scheduled_at)s::timestamptz)::procrastinate_job_to_defer_v1)

-- name: tool_calls_by_id
-- The session's tool calls with these ids (the calls that results of a new batch answer).
SELECT c.value AS call
FROM messages m, jsonb_array_elements(m.tool_calls) AS c(value)
WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s AND m.session_id = %(session)s
  AND m.tool_calls IS NOT NULL AND c.value->>'id' = ANY(%(ids)s::text[])

-- name: last_message
SELECT {columns} FROM messages m
WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s AND m.session_id = %(session)s
ORDER BY m.turn_number DESC
LIMIT 1

-- name: list_messages
SELECT {columns} FROM messages m
WHERE {where}
ORDER BY {order_by}
LIMIT %(limit)s

-- name: recent_by_turns
SELECT {columns} FROM messages m
WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s AND m.session_id = %(session)s
  AND m.turn_number > %(after_turn)s
ORDER BY m.turn_number DESC
LIMIT %(limit)s

-- name: recent_by_tokens
-- The newest turns whose tokens add up to at most %(budget)s; the newest turn
-- always (the caller truncates it when it alone is too long).
SELECT {columns} FROM (
    SELECT m.*, sum(m.token_count) OVER (ORDER BY m.turn_number DESC) AS running,
           row_number() OVER (ORDER BY m.turn_number DESC) AS position
    FROM (
        SELECT * FROM messages
        WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND session_id = %(session)s
        ORDER BY turn_number DESC
        LIMIT %(cap)s
    ) m
) m
WHERE m.running <= %(budget)s OR m.position = 1
ORDER BY m.turn_number DESC

-- name: recent_since
SELECT {columns} FROM messages m
WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s AND m.session_id = %(session)s
  AND m.created_at >= %(since)s
ORDER BY m.turn_number DESC
LIMIT %(cap)s

-- name: turn_range
SELECT {columns} FROM messages m
WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s AND m.session_id = %(session)s
  AND m.turn_number > %(after_turn)s AND m.turn_number <= %(through_turn)s
ORDER BY m.turn_number
LIMIT %(limit)s

-- name: stats
-- Counts and sizes of the turns in {where}.
SELECT count(*) AS messages, count(DISTINCT m.session_id) AS sessions,
       coalesce(sum(m.token_count), 0) AS tokens,
       coalesce(sum(char_length(m.body)), 0) AS content_chars,
       coalesce(sum(jsonb_array_length(coalesce(m.tool_calls, '[]'))), 0) AS tool_calls,
       coalesce(sum(jsonb_array_length(coalesce(m.tool_results, '[]'))), 0) AS tool_results,
       min(m.turn_number) AS first_turn, max(m.turn_number) AS last_turn,
       min(m.created_at) AS oldest, max(m.created_at) AS newest
FROM messages m
WHERE {where}

-- name: role_counts
SELECT m.role, count(*) AS n FROM messages m WHERE {where} GROUP BY m.role

-- name: session_owners
SELECT DISTINCT m.user_id FROM messages m
WHERE m.tenant_id = %(tenant)s AND m.session_id = %(session)s
LIMIT 2

-- name: delete_message
DELETE FROM messages
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND id = %(id)s
RETURNING session_id

-- name: delete_session
DELETE FROM messages
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND session_id = %(session)s

-- name: unembedded_messages
-- A user's turns stored without a vector (added for extraction, embedded by its
-- job), oldest first, each with the text of the turn before it in its session.
SELECT m.id, m.content, prev.content AS previous
FROM messages m
LEFT JOIN LATERAL (
    SELECT p.content FROM messages p
    WHERE p.tenant_id = m.tenant_id AND p.user_id = m.user_id
      AND p.session_id = m.session_id AND p.turn_number < m.turn_number
    ORDER BY p.turn_number DESC
    LIMIT 1
) prev ON true
WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s AND m.embedding IS NULL
ORDER BY m.created_at, m.session_id, m.turn_number
LIMIT %(limit)s

-- name: set_message_embeddings
-- Vectors for turns that have none yet (a turn embedded meanwhile keeps its own).
UPDATE messages m SET embedding = v.embedding, embedding_model = %(model)s
FROM unnest(%(ids)s::uuid[], %(embeddings)b::vector[]) AS v(id, embedding)
WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s AND m.id = v.id
  AND m.embedding IS NULL
