-- The key-value store (settings are its namespace 'settings'): kv_entries holds the
-- current value of each key, kv_history every change of versioned keys. A key is
-- (tenant, user, agent, session, namespace, key); agent_id and session_id are ''
-- when the key is not narrowed to one. A value is jsonb (value) or zlib-packed
-- JSON (value_z), never both. Expired rows (expires_at <= now()) are invisible.

-- name: lock_key
-- Writers of one key take turns, so version checks and history stay consistent.
SELECT pg_advisory_xact_lock(%(lock_class)s, hashtext(%(lock)s))

-- name: key_versions
-- live_version: the version a reader sees (0 when absent or expired);
-- last_version: the highest version ever given, history included;
-- has_history: the key was versioned before, so its changes stay recorded.
SELECT
    EXISTS (
        SELECT FROM kv_history h
        WHERE h.tenant_id = %(tenant)s AND h.user_id = %(user)s
          AND h.namespace = %(namespace)s AND h.agent_id = %(agent)s
          AND h.session_id = %(session)s AND h.key = %(key)s
    ) AS has_history,
    coalesce((
        SELECT e.version FROM kv_entries e
        WHERE e.tenant_id = %(tenant)s AND e.user_id = %(user)s AND e.namespace = %(namespace)s
          AND e.agent_id = %(agent)s AND e.session_id = %(session)s AND e.key = %(key)s
          AND (e.expires_at IS NULL OR e.expires_at > now())
    ), 0) AS live_version,
    greatest(
        coalesce((
            SELECT e.version FROM kv_entries e
            WHERE e.tenant_id = %(tenant)s AND e.user_id = %(user)s
              AND e.namespace = %(namespace)s AND e.agent_id = %(agent)s
              AND e.session_id = %(session)s AND e.key = %(key)s
        ), 0),
        coalesce((
            SELECT max(h.version) FROM kv_history h
            WHERE h.tenant_id = %(tenant)s AND h.user_id = %(user)s
              AND h.namespace = %(namespace)s AND h.agent_id = %(agent)s
              AND h.session_id = %(session)s AND h.key = %(key)s
        ), 0)
    ) AS last_version

-- name: upsert_entry
-- DO UPDATE takes its times from the proposed row's defaults (excluded.*): Citus
-- accepts no volatile function such as now() there.
WITH previous AS (
    SELECT value, value_z FROM kv_entries
    WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND namespace = %(namespace)s
      AND agent_id = %(agent)s AND session_id = %(session)s AND key = %(key)s
      AND (expires_at IS NULL OR expires_at > now())
),
written AS (
    INSERT INTO kv_entries AS e (
        tenant_id, user_id, namespace, agent_id, session_id, key,
        value, value_z, size_bytes, version, expires_at, updated_by
    )
    VALUES (
        %(tenant)s, %(user)s, %(namespace)s, %(agent)s, %(session)s, %(key)s,
        %(value)s::jsonb, %(value_z)s::bytea, %(size)s, %(version)s,
        now() + make_interval(secs => %(ttl)s::float8), %(actor)s
    )
    ON CONFLICT (tenant_id, user_id, namespace, agent_id, session_id, key) DO UPDATE SET
        value = excluded.value,
        value_z = excluded.value_z,
        size_bytes = excluded.size_bytes,
        version = excluded.version,
        expires_at = excluded.expires_at,
        updated_by = excluded.updated_by,
        updated_at = excluded.updated_at,
        created_at = CASE WHEN e.expires_at IS NULL OR e.expires_at > excluded.updated_at
                          THEN e.created_at ELSE excluded.created_at END
    RETURNING e.*
),
logged AS (
    INSERT INTO kv_history (
        tenant_id, user_id, namespace, agent_id, session_id, key, version, change,
        old_value, old_z, new_value, new_z, actor, reason
    )
    SELECT w.tenant_id, w.user_id, w.namespace, w.agent_id, w.session_id, w.key, w.version,
           %(change)s, p.value, p.value_z, w.value, w.value_z, %(actor)s, %(reason)s
    FROM written w LEFT JOIN previous p ON true
    WHERE %(versioned)s
    RETURNING 1  -- (on Citus: sent as INSERTs, not COPY)
)
SELECT * FROM written

-- name: delete_entry
-- Removes the row (expired or not); the change is logged only if it was live.
WITH removed AS (
    DELETE FROM kv_entries
    WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND namespace = %(namespace)s
      AND agent_id = %(agent)s AND session_id = %(session)s AND key = %(key)s
    RETURNING *
),
checked AS (  -- not in RETURNING: Citus accepts no volatile function there
    SELECT *, (expires_at IS NULL OR expires_at > now()) AS live FROM removed
),
logged AS (
    INSERT INTO kv_history (
        tenant_id, user_id, namespace, agent_id, session_id, key, version, change,
        old_value, old_z, new_value, new_z, actor, reason
    )
    SELECT tenant_id, user_id, namespace, agent_id, session_id, key, %(version)s, %(change)s,
           value, value_z, NULL, NULL, %(actor)s, %(reason)s
    FROM checked
    WHERE live AND %(versioned)s
    RETURNING 1  -- (on Citus: sent as INSERTs, not COPY)
)
SELECT live FROM checked

-- name: get_entry
SELECT * FROM kv_entries
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND namespace = %(namespace)s
  AND agent_id = %(agent)s AND session_id = %(session)s AND key = %(key)s
  AND (expires_at IS NULL OR expires_at > now())

-- name: list_entries
SELECT * FROM kv_entries
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND namespace = %(namespace)s
  AND agent_id = %(agent)s AND session_id = %(session)s
  AND (expires_at IS NULL OR expires_at > now())
ORDER BY key
LIMIT %(limit)s

-- name: history
-- Changes of one key (or of every key when key is NULL), oldest first.
SELECT * FROM kv_history
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND namespace = %(namespace)s
  AND agent_id = %(agent)s AND session_id = %(session)s
  AND (%(key)s::text IS NULL OR key = %(key)s)
ORDER BY created_at, key, version
LIMIT %(limit)s

-- name: history_version
SELECT *, (new_value IS NULL AND new_z IS NULL) AS new_absent FROM kv_history
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND namespace = %(namespace)s
  AND agent_id = %(agent)s AND session_id = %(session)s AND key = %(key)s
  AND version = %(version)s

-- name: namespace_stats
-- Per namespace of a user; agent, session and namespace narrow it when not NULL.
WITH live AS (
    SELECT * FROM kv_entries
    WHERE tenant_id = %(tenant)s AND user_id = %(user)s
      AND (%(agent)s::text IS NULL OR agent_id = %(agent)s)
      AND (%(session)s::text IS NULL OR session_id = %(session)s)
      AND (%(namespace)s::text IS NULL OR namespace = %(namespace)s)
      AND (expires_at IS NULL OR expires_at > now())
),
per_namespace AS (
    SELECT namespace, count(*) AS keys, sum(size_bytes) AS value_bytes,
           sum(coalesce(octet_length(value_z), pg_column_size(value))) AS stored_bytes,
           count(*) FILTER (WHERE value_z IS NOT NULL) AS compressed,
           count(*) FILTER (WHERE expires_at IS NOT NULL) AS expiring,
           min(created_at) AS oldest, max(updated_at) AS newest
    FROM live GROUP BY namespace
),
changes AS (
    SELECT namespace, count(*) AS changes FROM kv_history
    WHERE tenant_id = %(tenant)s AND user_id = %(user)s
      AND (%(agent)s::text IS NULL OR agent_id = %(agent)s)
      AND (%(session)s::text IS NULL OR session_id = %(session)s)
      AND (%(namespace)s::text IS NULL OR namespace = %(namespace)s)
    GROUP BY namespace
)
SELECT namespace,
       coalesce(p.keys, 0) AS keys,
       coalesce(p.value_bytes, 0) AS value_bytes,
       coalesce(p.stored_bytes, 0) AS stored_bytes,
       coalesce(p.compressed, 0) AS compressed,
       coalesce(p.expiring, 0) AS expiring,
       coalesce(c.changes, 0) AS changes,
       p.oldest, p.newest
FROM per_namespace p FULL JOIN changes c USING (namespace)
ORDER BY namespace

-- name: cleanup_expired
-- One batch of expired rows of a tenant; rows locked by a writer are left for later.
WITH doomed AS (
    SELECT tenant_id, user_id, namespace, agent_id, session_id, key FROM kv_entries
    WHERE tenant_id = %(tenant)s AND expires_at <= now()
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
)
DELETE FROM kv_entries e USING doomed d
WHERE e.tenant_id = d.tenant_id AND e.user_id = d.user_id AND e.namespace = d.namespace
  AND e.agent_id = d.agent_id AND e.session_id = d.session_id AND e.key = d.key

-- name: users_with_expired
-- The tenant's users holding expired rows (on Citus the sweep runs user by user).
SELECT DISTINCT user_id FROM kv_entries
WHERE tenant_id = %(tenant)s AND expires_at <= now()

-- name: cleanup_expired_of_user
-- One batch of one user's expired rows, as cleanup_expired: on Citus a statement on one
-- shard (FOR UPDATE SKIP LOCKED over every shard is refused).
WITH doomed AS (
    SELECT namespace, agent_id, session_id, key FROM kv_entries
    WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND expires_at <= now()
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
)
DELETE FROM kv_entries e USING doomed d
WHERE e.tenant_id = %(tenant)s AND e.user_id = %(user)s AND e.namespace = d.namespace
  AND e.agent_id = d.agent_id AND e.session_id = d.session_id AND e.key = d.key
