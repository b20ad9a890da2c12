"""One round trip for appending turns: ``mnemo_append_turns``.

Revision ID: 0010
Revises: 0017

Storing turns took up to seven statements in one transaction (session lock,
idempotency look-up, taken turn numbers, last turn, insert, and with
``infer=True`` the extraction ledger and the job). Each is a round trip plus
psycopg's per-statement work on the event loop, which bounded one-turn-per-call
adds to 74-136 calls/s. The function does the same steps inside the server, in
one statement (its own transaction): lock, idempotency, numbering, insert,
ledger row and procrastinate's job insert (``procrastinate_defer_jobs_v1``).
Its errors are ``unique_violation`` with the messages the Python code raised.
"""

from alembic import op

revision = "0010"
down_revision = "0017"
branch_labels = None
depends_on = None

APPEND_TURNS = """
CREATE FUNCTION mnemo_append_turns(
    p_tenant text, p_user text, p_session text, p_ts_config regconfig, p_model text,
    p_ids uuid[], p_agent_ids text[], p_turns integer[], p_roles text[], p_names text[],
    p_bodies text[], p_contents text[], p_tool_calls jsonb[], p_tool_results jsonb[],
    p_keys text[], p_token_counts integer[], p_embeddings vector[], p_metadatas jsonb[],
    p_created_ats timestamptz[], p_job procrastinate_job_to_defer_v1
)
    RETURNS TABLE (
        id uuid, user_id text, session_id text, turn_number integer, role text, body text,
        created_at timestamptz, agent_id text, name text, tool_calls jsonb,
        tool_results jsonb, metadata jsonb, token_count integer, idempotency_key text,
        embedding_model text, ledger_seq bigint
    )
    LANGUAGE plpgsql
AS $$
#variable_conflict use_column
DECLARE
    v_ids uuid[];
    v_fresh boolean[];
    v_turns integer[] := p_turns;
    v_taken integer[];
    v_highest integer;
    v_clash record;
    v_seq bigint;
BEGIN
    -- Serialises writers of one session (turn numbers, idempotency keys) until commit.
    PERFORM pg_advisory_xact_lock(
        hashtextextended(p_tenant || chr(31) || p_user || chr(31) || p_session, 1001));

    -- A key the session already holds names its stored turn, if it is the same turn.
    SELECT i.key, m.turn_number INTO v_clash
    FROM unnest(p_keys, p_roles, p_bodies) WITH ORDINALITY AS i(key, role, body, n)
    JOIN messages m ON m.tenant_id = p_tenant AND m.user_id = p_user
        AND m.session_id = p_session AND m.idempotency_key = i.key
    WHERE (m.role, m.body) IS DISTINCT FROM (i.role, i.body)
    ORDER BY i.n LIMIT 1;
    IF FOUND THEN
        RAISE unique_violation USING MESSAGE = format(
            'idempotency key %L was used for a different message (turn %s) in session %L',
            v_clash.key, v_clash.turn_number, p_session);
    END IF;
    SELECT array_agg(coalesce(m.id, i.id) ORDER BY i.n), array_agg(m.id IS NULL ORDER BY i.n)
    INTO v_ids, v_fresh
    FROM unnest(p_ids, p_keys) WITH ORDINALITY AS i(id, key, n)
    LEFT JOIN messages m ON m.tenant_id = p_tenant AND m.user_id = p_user
        AND m.session_id = p_session AND m.idempotency_key = i.key;

    -- Given turn numbers must be free; missing ones continue the session's numbering.
    SELECT array_agg(m.turn_number ORDER BY m.turn_number) INTO v_taken
    FROM messages m
    WHERE m.tenant_id = p_tenant AND m.user_id = p_user AND m.session_id = p_session
      AND m.turn_number IN (SELECT t FROM unnest(p_turns, v_fresh) AS g(t, fresh) WHERE fresh);
    IF v_taken IS NOT NULL THEN
        RAISE unique_violation USING MESSAGE = format(
            'turn numbers [%s] already exist in session %L',
            array_to_string(v_taken, ', '), p_session);
    END IF;
    SELECT coalesce(max(m.turn_number), 0) INTO v_highest FROM messages m
    WHERE m.tenant_id = p_tenant AND m.user_id = p_user AND m.session_id = p_session;
    FOR v_n IN 1 .. coalesce(array_length(v_ids, 1), 0) LOOP
        CONTINUE WHEN NOT v_fresh[v_n];
        v_turns[v_n] := coalesce(p_turns[v_n], v_highest + 1);
        v_highest := greatest(v_highest, v_turns[v_n]);
    END LOOP;
    SELECT t INTO v_clash FROM (
        SELECT t, n, row_number() OVER (PARTITION BY t ORDER BY n) AS k
        FROM unnest(v_turns, v_fresh) WITH ORDINALITY AS a(t, fresh, n) WHERE fresh
    ) d WHERE k = 2 ORDER BY n LIMIT 1;
    IF FOUND THEN
        RAISE unique_violation USING MESSAGE = format(
            'turn number %s is given to two messages of this batch', v_clash.t);
    END IF;

    -- body is the turn's text as given; content (what search indexes and embeds) is
    -- that text plus its tool calls and results.
    INSERT INTO messages AS m (
        tenant_id, user_id, session_id, id, agent_id, turn_number, role, name, body, content,
        tool_calls, tool_results, idempotency_key, token_count, content_hash, embedding,
        embedding_model, tsv, doc_len, metadata, created_at
    )
    SELECT p_tenant, p_user, p_session, t.id, t.agent_id, t.turn_number, t.role, t.name,
           t.body, t.content, t.tool_calls, t.tool_results, t.key, t.token_count,
           sha256(convert_to(t.content, 'UTF8')), t.embedding,
           CASE WHEN t.embedding IS NOT NULL THEN p_model END, t.tsv, mnemo_tsv_length(t.tsv),
           t.metadata, coalesce(t.created_at, now())
    FROM (
        SELECT u.*, to_tsvector(p_ts_config, u.content) AS tsv
        FROM unnest(p_ids, p_agent_ids, v_turns, p_roles, p_names, p_bodies, p_contents,
                    p_tool_calls, p_tool_results, p_keys, p_token_counts, p_embeddings,
                    p_metadatas, p_created_ats, v_fresh)
            AS u(id, agent_id, turn_number, role, name, body, content, tool_calls,
                 tool_results, key, token_count, embedding, metadata, created_at, fresh)
        WHERE u.fresh
    ) t;

    -- For extraction: the turns pending in the ledger (a turn registered before keeps
    -- its row) and the user's job, committed with the turns or not at all.
    IF (p_job).task_name IS NOT NULL THEN
        INSERT INTO message_extractions (tenant_id, user_id, message_id)
        SELECT p_tenant, p_user, u.id FROM unnest(v_ids) WITH ORDINALITY AS u(id, n)
        ORDER BY u.n
        ON CONFLICT (tenant_id, user_id, message_id) DO NOTHING;
        SELECT max(e.seq) INTO v_seq FROM message_extractions e
        WHERE e.tenant_id = p_tenant AND e.user_id = p_user AND e.message_id = ANY(v_ids);
        PERFORM procrastinate_defer_jobs_v1(ARRAY[p_job]);
    END IF;

    RETURN QUERY
    SELECT m.id, m.user_id, m.session_id, m.turn_number, m.role, m.body, m.created_at,
           m.agent_id, m.name, m.tool_calls, m.tool_results, m.metadata, m.token_count,
           m.idempotency_key, m.embedding_model, v_seq
    FROM unnest(v_ids) WITH ORDINALITY AS u(id, n)
    JOIN messages m ON m.tenant_id = p_tenant AND m.user_id = p_user AND m.id = u.id
    ORDER BY u.n;
END
$$;

"""


def upgrade() -> None:
    op.execute(APPEND_TURNS)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION mnemo_append_turns(text, text, text, regconfig, text, uuid[], text[],"
        " integer[], text[], text[], text[], text[], jsonb[], jsonb[], text[], integer[],"
        " vector[], jsonb[], timestamptz[], procrastinate_job_to_defer_v1)"
    )
