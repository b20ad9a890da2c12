-- The extraction ledger: one row per conversation turn handed to extraction.
-- pending -> done when the transaction writing the turn's memories commits (in
-- that same transaction), or -> failed (the dead-letter state) after too many
-- failed attempts. Every query is bound to one tenant.

-- name: pending_through
-- How many of the tenant's turns up to ledger position %(seq)s are still pending.
SELECT count(*) AS pending FROM message_extractions
WHERE tenant_id = %(tenant)s AND status = 'pending' AND seq <= %(seq)s

-- name: pending_turns
-- The oldest turns of a user still waiting, with their message (NULLs when the
-- message no longer exists).
SELECT e.message_id, e.attempts, msg.role, msg.name, msg.content, msg.created_at,
       msg.session_id, msg.agent_id, msg.turn_number
FROM message_extractions e
LEFT JOIN messages msg
    ON msg.tenant_id = e.tenant_id AND msg.user_id = e.user_id AND msg.id = e.message_id
WHERE e.tenant_id = %(tenant)s AND e.user_id = %(user)s AND e.status = 'pending'
ORDER BY e.seq
LIMIT %(limit)s

-- name: preceding_turns
-- The turn just before each (session, turn number): context that says who "you" is.
SELECT msg.id, msg.role, msg.name, msg.content, msg.created_at, msg.session_id,
       msg.agent_id, msg.turn_number
FROM unnest(%(sessions)s::text[], %(turns)s::integer[]) AS p(session_id, turn_number)
JOIN messages msg
    ON msg.tenant_id = %(tenant)s AND msg.user_id = %(user)s
   AND msg.session_id = p.session_id AND msg.turn_number = p.turn_number - 1

-- name: lock_pending
-- Locks turns for the transaction that writes their memories; only those still
-- pending come back (another worker may have finished the others meanwhile).
SELECT message_id FROM message_extractions
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND message_id = ANY(%(ids)s::uuid[])
  AND status = 'pending'
ORDER BY seq
FOR UPDATE

-- name: mark_done
-- %(truncated)s: the turns whose model reply was cut off by its token limit.
UPDATE message_extractions e SET
    status = 'done', extractor = %(extractor)s, last_error = NULL, updated_at = now(),
    memory_ids = ARRAY(SELECT jsonb_array_elements_text(d.memories)::uuid),
    truncated = d.message_id = ANY(%(truncated)s::uuid[])
FROM unnest(%(ids)s::uuid[], %(memories)s::jsonb[]) AS d(message_id, memories)
WHERE e.tenant_id = %(tenant)s AND e.user_id = %(user)s AND e.message_id = d.message_id
  AND e.status = 'pending'

-- name: record_failure
-- One more failed attempt; at %(max_attempts)s the turn goes to 'failed'.
UPDATE message_extractions SET
    attempts = attempts + 1,
    last_error = %(error)s,
    status = CASE WHEN attempts + 1 >= %(max_attempts)s OR %(final)s THEN 'failed'
                  ELSE status END,
    updated_at = now()
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND message_id = ANY(%(ids)s::uuid[])
  AND status = 'pending'
RETURNING message_id, status

-- name: statuses
SELECT message_id, status, attempts, last_error, memory_ids, truncated, updated_at
FROM message_extractions
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND message_id = ANY(%(ids)s::uuid[])

-- name: counts
SELECT status, count(*) AS turns FROM message_extractions
WHERE tenant_id = %(tenant)s AND (%(user)s::text IS NULL OR user_id = %(user)s)
GROUP BY status

-- name: truncated_count
-- Turns extracted from a model reply cut off by its token limit.
SELECT count(*) AS turns FROM message_extractions
WHERE tenant_id = %(tenant)s AND (%(user)s::text IS NULL OR user_id = %(user)s) AND truncated

-- name: failed_turns
SELECT user_id, message_id, status, attempts, last_error, memory_ids, truncated, updated_at
FROM message_extractions
WHERE tenant_id = %(tenant)s AND (%(user)s::text IS NULL OR user_id = %(user)s)
  AND status = 'failed'
ORDER BY updated_at DESC, message_id
LIMIT %(limit)s

-- name: retry_failed
UPDATE message_extractions SET status = 'pending', attempts = 0, updated_at = now()
WHERE tenant_id = %(tenant)s AND (%(user)s::text IS NULL OR user_id = %(user)s)
  AND status = 'failed'
RETURNING user_id, message_id, seq

-- name: users_with_pending
-- Every (tenant, user) with turns still waiting (all tenants): re-queued by the
-- sweep in case the job carrying them failed for good.
SELECT DISTINCT tenant_id, user_id FROM message_extractions WHERE status = 'pending'
ORDER BY tenant_id, user_id
