-- Working memory: scratch items (kind 'item', addressed by key) and the steps of
-- a reasoning chain (kind 'step', ordered by position), per (tenant, user, agent,
-- session, namespace); agent_id and session_id are '' when not narrowed. Expired
-- rows (expires_at <= now()) are invisible. {order} is one fixed ORDER BY list
-- chosen in working.py by eviction policy.

-- name: lock_namespace
-- Writers of one namespace take turns, so capacity and chain positions hold.
SELECT pg_advisory_xact_lock(%(lock_class)s, hashtext(%(lock)s))

-- name: touch_items
-- Reads recorded in this process since the last write: access counts and times.
UPDATE working_items w
SET last_accessed_at = greatest(w.last_accessed_at, t.at),
    access_count = w.access_count + t.hits
FROM unnest(%(users)s::text[], %(agents)s::text[], %(sessions)s::text[],
            %(namespaces)s::text[], %(keys)s::text[], %(hits)s::integer[],
            %(ats)s::timestamptz[])
    AS t(user_id, agent_id, session_id, namespace, key, hits, at)
WHERE w.tenant_id = %(tenant)s AND w.user_id = t.user_id AND w.namespace = t.namespace
  AND w.agent_id = t.agent_id AND w.session_id = t.session_id AND w.key = t.key

-- name: purge_expired_namespace
DELETE FROM working_items
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND namespace = %(namespace)s
  AND agent_id = %(agent)s AND session_id = %(session)s AND expires_at <= now()

-- name: upsert_item
-- An overwrite keeps the item's id and created_at (its place in FIFO order).
INSERT INTO working_items AS w (
    tenant_id, user_id, id, namespace, agent_id, session_id, kind, key,
    value, importance, size_bytes, expires_at
)
VALUES (
    %(tenant)s, %(user)s, %(id)s, %(namespace)s, %(agent)s, %(session)s, 'item', %(key)s,
    %(value)s::jsonb, %(importance)s, %(size)s,
    now() + make_interval(secs => %(ttl)s::float8)
)
ON CONFLICT (tenant_id, user_id, namespace, agent_id, session_id, key) DO UPDATE SET
    value = excluded.value,
    importance = excluded.importance,
    size_bytes = excluded.size_bytes,
    expires_at = excluded.expires_at,
    updated_at = excluded.updated_at,
    last_accessed_at = excluded.last_accessed_at
RETURNING w.*

-- name: evict_items
-- Deletes the items beyond capacity, never the one just written (%(keep)s).
WITH candidates AS (
    SELECT id, importance, last_accessed_at, created_at FROM working_items
    WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND namespace = %(namespace)s
      AND agent_id = %(agent)s AND session_id = %(session)s AND kind = 'item'
      AND id <> %(keep)s
),
victims AS (
    SELECT id FROM candidates
    ORDER BY {order}
    LIMIT greatest((SELECT count(*) FROM candidates) + 1 - %(capacity)s, 0)
)
DELETE FROM working_items w USING victims v
WHERE w.tenant_id = %(tenant)s AND w.user_id = %(user)s AND w.id = v.id
RETURNING w.key

-- name: get_item
SELECT * FROM working_items
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND namespace = %(namespace)s
  AND agent_id = %(agent)s AND session_id = %(session)s AND key = %(key)s
  AND (expires_at IS NULL OR expires_at > now())

-- name: list_items
SELECT * FROM working_items
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND namespace = %(namespace)s
  AND agent_id = %(agent)s AND session_id = %(session)s AND kind = 'item'
  AND (expires_at IS NULL OR expires_at > now())
ORDER BY importance DESC, last_accessed_at DESC, key
LIMIT %(limit)s

-- name: remove_item
WITH removed AS (
    DELETE FROM working_items
    WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND namespace = %(namespace)s
      AND agent_id = %(agent)s AND session_id = %(session)s AND key = %(key)s
    RETURNING expires_at
)
SELECT count(*) FILTER (WHERE expires_at IS NULL OR expires_at > now()) AS live FROM removed

-- name: append_step
WITH next AS (
    SELECT coalesce(max(position), 0) + 1 AS position FROM working_items
    WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND namespace = %(namespace)s
      AND agent_id = %(agent)s AND session_id = %(session)s AND kind = 'step'
)
INSERT INTO working_items (
    tenant_id, user_id, id, namespace, agent_id, session_id, kind, position, step,
    value, metadata, importance, size_bytes, expires_at
)
SELECT %(tenant)s, %(user)s, %(id)s, %(namespace)s, %(agent)s, %(session)s, 'step',
       next.position, %(step)s, %(value)s::jsonb, %(metadata)s::jsonb, %(importance)s,
       %(size)s, now() + make_interval(secs => %(ttl)s::float8)
FROM next
RETURNING *

-- name: trim_chain
-- Keeps the latest %(max_steps)s steps.
DELETE FROM working_items
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND namespace = %(namespace)s
  AND agent_id = %(agent)s AND session_id = %(session)s AND kind = 'step'
  AND position <= %(last)s - %(max_steps)s

-- name: get_chain
SELECT * FROM working_items
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND namespace = %(namespace)s
  AND agent_id = %(agent)s AND session_id = %(session)s AND kind = 'step'
  AND (expires_at IS NULL OR expires_at > now())
ORDER BY position

-- name: clear_namespace
-- Everything of the namespace, or only one kind; counts what was live.
WITH removed AS (
    DELETE FROM working_items
    WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND namespace = %(namespace)s
      AND agent_id = %(agent)s AND session_id = %(session)s
      AND (%(kind)s::text IS NULL OR kind = %(kind)s)
    RETURNING kind, (expires_at IS NULL OR expires_at > now()) AS live
)
SELECT count(*) FILTER (WHERE live AND kind = 'item') AS items,
       count(*) FILTER (WHERE live AND kind = 'step') AS steps
FROM removed

-- name: namespace_stats
-- Per namespace of a user; agent, session and namespace narrow it when not NULL.
SELECT namespace,
       count(*) FILTER (WHERE kind = 'item') AS items,
       count(*) FILTER (WHERE kind = 'step') AS steps,
       coalesce(sum(size_bytes), 0) AS value_bytes,
       avg(importance) FILTER (WHERE kind = 'item') AS mean_importance,
       min(created_at) AS oldest,
       max(updated_at) AS newest,
       min(expires_at) AS next_expiry
FROM working_items
WHERE tenant_id = %(tenant)s AND user_id = %(user)s
  AND (%(agent)s::text IS NULL OR agent_id = %(agent)s)
  AND (%(session)s::text IS NULL OR session_id = %(session)s)
  AND (%(namespace)s::text IS NULL OR namespace = %(namespace)s)
  AND (expires_at IS NULL OR expires_at > now())
GROUP BY namespace
ORDER BY namespace

-- name: cleanup_expired
-- One batch of expired rows of a tenant; rows locked by a writer are left for later.
WITH doomed AS (
    SELECT tenant_id, user_id, id FROM working_items
    WHERE tenant_id = %(tenant)s AND expires_at <= now()
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
)
DELETE FROM working_items w USING doomed d
WHERE w.tenant_id = d.tenant_id AND w.user_id = d.user_id AND w.id = d.id

-- name: users_with_expired
-- The tenant's users holding expired rows (on Citus the sweep runs user by user).
SELECT DISTINCT user_id FROM working_items
WHERE tenant_id = %(tenant)s AND expires_at <= now()

-- name: cleanup_expired_of_user
-- One batch of one user's expired rows, as cleanup_expired: on Citus a statement on one
-- shard (FOR UPDATE SKIP LOCKED over every shard is refused).
WITH doomed AS (
    SELECT id FROM working_items
    WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND expires_at <= now()
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
)
DELETE FROM working_items w USING doomed d
WHERE w.tenant_id = %(tenant)s AND w.user_id = %(user)s AND w.id = d.id
