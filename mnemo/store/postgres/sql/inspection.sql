-- Read views for browsing a tenant's store (the inspector): users, removed
-- memories, sessions, the extraction queue. Every query is bound to one tenant.
-- {columns} are the memory record columns over the alias m (of a removed memory:
-- its access statistics went with it).

-- name: user_ids
-- The tenant's users after %(after)s in order, at most %(limit)s: a loose index
-- scan (one index probe per user) of memories and of messages, merged.
WITH RECURSIVE from_memories(user_id, n) AS (
    (SELECT user_id, 1 FROM memories
     WHERE tenant_id = %(tenant)s AND user_id > %(after)s
     ORDER BY user_id LIMIT 1)
    UNION ALL
    SELECT (SELECT m.user_id FROM memories m
            WHERE m.tenant_id = %(tenant)s AND m.user_id > f.user_id
            ORDER BY m.user_id LIMIT 1), f.n + 1
    FROM from_memories f
    WHERE f.user_id IS NOT NULL AND f.n < %(limit)s
),
from_messages(user_id, n) AS (
    (SELECT user_id, 1 FROM messages
     WHERE tenant_id = %(tenant)s AND user_id > %(after)s
     ORDER BY user_id LIMIT 1)
    UNION ALL
    SELECT (SELECT m.user_id FROM messages m
            WHERE m.tenant_id = %(tenant)s AND m.user_id > f.user_id
            ORDER BY m.user_id LIMIT 1), f.n + 1
    FROM from_messages f
    WHERE f.user_id IS NOT NULL AND f.n < %(limit)s
)
SELECT user_id FROM from_memories WHERE user_id IS NOT NULL
UNION
SELECT user_id FROM from_messages WHERE user_id IS NOT NULL
ORDER BY user_id
LIMIT %(limit)s

-- name: user_ids_distributed
-- The same on Citus, which runs a recursive CTE only with a filter on one user: each
-- shard lists its first users after %(after)s (grouped by the distribution column,
-- so the limit is applied on the shards too), the coordinator merges the two lists.
SELECT user_id FROM (
    (SELECT user_id FROM memories
     WHERE tenant_id = %(tenant)s AND user_id > %(after)s
     GROUP BY user_id ORDER BY user_id LIMIT %(limit)s)
    UNION
    (SELECT user_id FROM messages
     WHERE tenant_id = %(tenant)s AND user_id > %(after)s
     GROUP BY user_id ORDER BY user_id LIMIT %(limit)s)
) u
ORDER BY user_id
LIMIT %(limit)s

-- name: user_overviews
-- Current memories per kind, superseded ones, turns and last activity of each user:
-- grouped by user (not a lateral join per user beside unnest, which Citus refuses), so
-- on Citus each shard groups its own users.
SELECT coalesce(mem.user_id, msg.user_id) AS user_id, coalesce(mem.kinds, '{}') AS kinds,
       coalesce(mem.superseded, 0) AS superseded, mem.last_changed,
       coalesce(msg.messages, 0) AS messages, msg.last_turn_at
FROM (
    SELECT k.user_id,
           coalesce(jsonb_object_agg(k.kind, k.n) FILTER (WHERE k.kind IS NOT NULL), '{}')
               AS kinds,
           sum(k.superseded)::bigint AS superseded, max(k.last_changed) AS last_changed
    FROM (
        SELECT m.user_id, CASE WHEN m.status = 'active' THEN m.kind END AS kind,
               count(*) FILTER (WHERE m.status = 'active') AS n,
               count(*) FILTER (WHERE m.status <> 'active') AS superseded,
               max(m.updated_at) AS last_changed
        FROM memories m
        WHERE m.tenant_id = %(tenant)s AND m.user_id = ANY(%(users)s::text[])
        GROUP BY 1, 2
    ) k
    GROUP BY k.user_id
) mem
FULL JOIN (
    SELECT m.user_id, count(*) AS messages, max(m.created_at) AS last_turn_at
    FROM messages m
    WHERE m.tenant_id = %(tenant)s AND m.user_id = ANY(%(users)s::text[])
    GROUP BY m.user_id
) msg ON msg.user_id = mem.user_id
ORDER BY 1

-- name: removed_memories
-- Memories deleted or merged away, newest removal first: the last record their
-- history holds (the removing event's "before"), narrowed by {where} over m.
-- (An anti-join beside the events, not a correlated NOT EXISTS over the sub-query's
-- rows, which Citus refuses.)
SELECT {columns}, e.created_at AS removed_at
FROM (
    SELECT DISTINCT ON (e.memory_id) e.memory_id, e.before, e.created_at
    FROM memory_events e
    LEFT JOIN memories kept
        ON kept.tenant_id = e.tenant_id AND kept.user_id = e.user_id AND kept.id = e.memory_id
    WHERE e.tenant_id = %(tenant)s AND e.user_id = %(user)s
      AND e.event IN ('delete', 'merge') AND e.before IS NOT NULL AND kept.id IS NULL
    ORDER BY e.memory_id, e.created_at DESC
) e
CROSS JOIN LATERAL jsonb_populate_record(NULL::memories, e.before) m
WHERE {where}
ORDER BY e.created_at DESC, e.memory_id
LIMIT %(limit)s OFFSET %(offset)s

-- name: removed_memory
-- One memory no longer stored, as the last record its history holds.
SELECT {columns}, e.created_at AS removed_at
FROM memory_events e
CROSS JOIN LATERAL jsonb_populate_record(NULL::memories, e.before) m
WHERE e.memory_id = %(id)s AND e.tenant_id = %(tenant)s
  AND e.event IN ('delete', 'merge') AND e.before IS NOT NULL
  AND NOT EXISTS (
    SELECT FROM memories kept
    WHERE kept.tenant_id = e.tenant_id AND kept.user_id = e.user_id AND kept.id = e.memory_id)
ORDER BY e.created_at DESC
LIMIT 1

-- name: sessions
-- A user's sessions, most recently active first, with their turns' extraction states.
SELECT m.session_id, count(*) AS turns, min(m.turn_number) AS first_turn,
       max(m.turn_number) AS last_turn, min(m.created_at) AS started_at,
       max(m.created_at) AS last_at,
       coalesce(sum(jsonb_array_length(coalesce(m.tool_calls, '[]'))), 0) AS tool_calls,
       count(*) FILTER (WHERE e.status = 'pending') AS pending,
       count(*) FILTER (WHERE e.status = 'done') AS done,
       count(*) FILTER (WHERE e.status = 'failed') AS failed
FROM messages m
LEFT JOIN message_extractions e
    ON e.tenant_id = m.tenant_id AND e.user_id = m.user_id AND e.message_id = m.id
WHERE m.tenant_id = %(tenant)s AND m.user_id = %(user)s
GROUP BY m.session_id
ORDER BY max(m.created_at) DESC, m.session_id
LIMIT %(limit)s

-- name: extraction_queue
-- Turns of the tenant (or one user) in one extraction state, most recently
-- changed first, with their text when the turn is still stored.
SELECT e.user_id, e.message_id, e.status, e.attempts, e.last_error, e.memory_ids,
       e.updated_at, msg.session_id, msg.turn_number, msg.role, msg.body AS content
FROM message_extractions e
LEFT JOIN messages msg
    ON msg.tenant_id = e.tenant_id AND msg.user_id = e.user_id AND msg.id = e.message_id
WHERE e.tenant_id = %(tenant)s AND (%(user)s::text IS NULL OR e.user_id = %(user)s)
  AND e.status = %(status)s
ORDER BY e.updated_at DESC, e.message_id
LIMIT %(limit)s
