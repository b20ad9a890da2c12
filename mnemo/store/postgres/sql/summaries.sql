-- Progressive summaries, one per session. A fold runs under a transaction-scoped
-- advisory lock and writes only if the summary still covers what it read.

-- name: try_lock_session
SELECT pg_try_advisory_xact_lock(
    hashtextextended(%(tenant)s || chr(31) || %(user)s || chr(31) || %(session)s, 1002))
    AS locked

-- name: get_summary
SELECT session_id, agent_id, content, through_turn, turns_folded, token_count, method,
       created_at, updated_at
FROM summaries
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND session_id = %(session)s

-- name: save_summary
-- Insert, or replace the summary that covered exactly %(previous_through)s turns.
INSERT INTO summaries AS s (
    tenant_id, user_id, session_id, agent_id, content, through_turn, turns_folded,
    token_count, method
)
VALUES (%(tenant)s, %(user)s, %(session)s, %(agent)s, %(content)s, %(through_turn)s,
        %(turns_folded)s, %(token_count)s, %(method)s)
ON CONFLICT (tenant_id, user_id, session_id) DO UPDATE
SET content = excluded.content, through_turn = excluded.through_turn,
    turns_folded = s.turns_folded + excluded.turns_folded,
    token_count = excluded.token_count, method = excluded.method,
    agent_id = coalesce(excluded.agent_id, s.agent_id), updated_at = excluded.updated_at
WHERE s.through_turn = %(previous_through)s
RETURNING session_id, agent_id, content, through_turn, turns_folded, token_count, method,
          created_at, updated_at

-- name: delete_summary
DELETE FROM summaries
WHERE tenant_id = %(tenant)s AND user_id = %(user)s AND session_id = %(session)s
