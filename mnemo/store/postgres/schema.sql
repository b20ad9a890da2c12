-- mnemo's current schema, applied in one go to a fresh database (then stamped
-- with the newest Alembic revision). Every change here is also an Alembic
-- revision under migrations/versions; tests/migration checks the two agree.

CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE mnemo_meta (
    key text PRIMARY KEY,
    value jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Number of lexeme occurrences in a tsvector: the document length BM25 needs.
CREATE FUNCTION mnemo_tsv_length(tsvector) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT coalesce(sum(coalesce(array_length(positions, 1), 1)), 0)::integer
                  FROM unnest($1) $$;

CREATE TABLE memories (
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    id uuid NOT NULL,
    agent_id text,
    session_id text,
    kind text NOT NULL,
    content text NOT NULL,
    content_hash bytea NOT NULL,
    embedding vector,
    embedding_model text,
    tsv tsvector NOT NULL,
    doc_len integer NOT NULL,
    confidence real NOT NULL DEFAULT 1,
    importance real NOT NULL DEFAULT 0.5,
    access_count integer NOT NULL DEFAULT 0,
    last_accessed_at timestamptz,
    pinned boolean NOT NULL DEFAULT false,
    status text NOT NULL DEFAULT 'active',
    valid_from timestamptz,
    valid_to timestamptz,
    superseded_by uuid,
    source_message_ids uuid[] NOT NULL DEFAULT '{}',
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, id),
    CONSTRAINT memories_kind_check CHECK (kind IN
        ('note', 'fact', 'preference', 'commitment', 'instruction', 'entity', 'event')),
    CONSTRAINT memories_status_check CHECK (status IN ('active', 'superseded')),
    CONSTRAINT memories_confidence_check CHECK (confidence >= 0 AND confidence <= 1),
    CONSTRAINT memories_importance_check CHECK (importance >= 0 AND importance <= 1)
);
-- Keep vectors inline (compressed only as a last resort) so exact scans stay fast.
ALTER TABLE memories ALTER COLUMN embedding SET STORAGE MAIN;
CREATE INDEX memories_scope_created_idx ON memories (tenant_id, user_id, created_at, id);
-- get(id) and history(id) are asked without a scope.
CREATE INDEX memories_id_idx ON memories (id);

CREATE TABLE memory_events (
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    id uuid NOT NULL,
    memory_id uuid NOT NULL,
    event text NOT NULL,
    before jsonb,
    after jsonb,
    reason text,
    actor text,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, user_id, id),
    CONSTRAINT memory_events_event_check CHECK (event IN
        ('add', 'update', 'supersede', 'merge', 'decay', 'delete', 'restore'))
);
CREATE INDEX memory_events_memory_idx ON memory_events (memory_id, created_at);

CREATE TABLE embedding_cache (
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    model text NOT NULL,
    input_type text NOT NULL,
    text_hash bytea NOT NULL,
    embedding vector NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, model, input_type, text_hash)
);

-- Entities and reference documents (revision 0003). entities and chunks are
-- embedded tables; documents with user_id '' are shared by the whole tenant.

CREATE TABLE entities (
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    id uuid NOT NULL,
    name text NOT NULL,
    canonical_name text NOT NULL,
    type text NOT NULL,
    description text NOT NULL DEFAULT '',
    importance real NOT NULL DEFAULT 0.5,
    mention_count integer NOT NULL DEFAULT 0,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    content text NOT NULL,
    content_hash bytea NOT NULL,
    embedding vector,
    embedding_model text,
    tsv tsvector NOT NULL,
    doc_len integer NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, id),
    CONSTRAINT entities_canonical_key UNIQUE (tenant_id, user_id, canonical_name),
    CONSTRAINT entities_type_check
        CHECK (type IN ('person', 'organisation', 'place', 'concept')),
    CONSTRAINT entities_importance_check CHECK (importance >= 0 AND importance <= 1),
    CONSTRAINT entities_mention_count_check CHECK (mention_count >= 0)
);
ALTER TABLE entities ALTER COLUMN embedding SET STORAGE MAIN;
CREATE INDEX entities_scope_seen_idx ON entities (tenant_id, user_id, last_seen_at);

CREATE TABLE entity_aliases (
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    alias_key text NOT NULL,
    alias text NOT NULL,
    entity_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, alias_key),
    CONSTRAINT entity_aliases_entity_fkey FOREIGN KEY (tenant_id, user_id, entity_id)
        REFERENCES entities (tenant_id, user_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX entity_aliases_entity_idx ON entity_aliases (tenant_id, user_id, entity_id);

CREATE TABLE entity_mentions (
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    entity_id uuid NOT NULL,
    agent_id text NOT NULL DEFAULT '',
    session_id text NOT NULL DEFAULT '',
    mention_count integer NOT NULL,
    first_seen_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, user_id, entity_id, agent_id, session_id),
    CONSTRAINT entity_mentions_entity_fkey FOREIGN KEY (tenant_id, user_id, entity_id)
        REFERENCES entities (tenant_id, user_id, id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX entity_mentions_scope_idx
    ON entity_mentions (tenant_id, user_id, session_id, agent_id);

CREATE TABLE entity_relations (
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    id uuid NOT NULL,
    subject_id uuid NOT NULL,
    predicate text NOT NULL,
    object_id uuid NOT NULL,
    confidence real NOT NULL DEFAULT 0.5,
    mention_count integer NOT NULL DEFAULT 1,
    evidence text[] NOT NULL DEFAULT '{}',
    source_message_ids uuid[] NOT NULL DEFAULT '{}',
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, id),
    CONSTRAINT entity_relations_triple_key
        UNIQUE (tenant_id, user_id, subject_id, predicate, object_id),
    CONSTRAINT entity_relations_subject_fkey FOREIGN KEY (tenant_id, user_id, subject_id)
        REFERENCES entities (tenant_id, user_id, id) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT entity_relations_object_fkey FOREIGN KEY (tenant_id, user_id, object_id)
        REFERENCES entities (tenant_id, user_id, id) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT entity_relations_confidence_check CHECK (confidence >= 0 AND confidence <= 1)
);
CREATE INDEX entity_relations_object_idx ON entity_relations (tenant_id, user_id, object_id);

CREATE TABLE documents (
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    id uuid NOT NULL,
    agent_id text,
    session_id text,
    name text NOT NULL,
    uri text,
    format text NOT NULL,
    title text,
    content_hash bytea NOT NULL,
    char_count integer NOT NULL,
    chunk_count integer NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}',
    version integer NOT NULL DEFAULT 1,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, id),
    CONSTRAINT documents_name_key UNIQUE (tenant_id, user_id, name),
    CONSTRAINT documents_format_check CHECK (format IN
        ('text', 'markdown', 'html', 'json', 'yaml', 'openapi', 'pdf'))
);

CREATE TABLE chunks (
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    id uuid NOT NULL,
    document_id uuid NOT NULL,
    document_version integer NOT NULL,
    agent_id text,
    session_id text,
    chunk_index integer NOT NULL,
    heading_path text[] NOT NULL DEFAULT '{}',
    char_start integer NOT NULL,
    char_end integer NOT NULL,
    tokens integer NOT NULL,
    content text NOT NULL,
    content_hash bytea NOT NULL,
    embedding vector,
    embedding_model text,
    tsv tsvector NOT NULL,
    doc_len integer NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, id),
    CONSTRAINT chunks_position_key UNIQUE (tenant_id, user_id, document_id, chunk_index),
    CONSTRAINT chunks_document_fkey FOREIGN KEY (tenant_id, user_id, document_id)
        REFERENCES documents (tenant_id, user_id, id) ON DELETE CASCADE
);
ALTER TABLE chunks ALTER COLUMN embedding SET STORAGE MAIN;
-- Lexical candidates of shared (tenant-wide) corpora; user corpora are scanned exactly.
CREATE INDEX chunks_shared_tsv_idx ON chunks USING gin (tsv) WHERE user_id = '';

-- Job queue, extraction ledger, decay scores (revision 0004). The queue is
-- procrastinate 3.10.0's schema, verbatim (migrations/procrastinate_3_10_0.sql).

-- Procrastinate Schema

DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS plpgsql WITH SCHEMA pg_catalog;
EXCEPTION
    WHEN OTHERS THEN
        -- On managed PostgreSQL services (e.g. Azure Database for PostgreSQL, Amazon RDS,
        -- Google Cloud SQL), CREATE EXTENSION may fail with various error codes:
        -- insufficient_privilege, feature_not_supported, or provider-specific errors.
        -- Before ignoring, verify the extension actually exists — if it does not exist
        -- and cannot be created, re-raise so the failure is explicit.
        IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'plpgsql') THEN
            RAISE NOTICE 'plpgsql extension already exists, skipping creation.';
        ELSE
            RAISE;
        END IF;
END;
$$;

-- Enums

CREATE TYPE procrastinate_job_status AS ENUM (
    'todo',  -- The job is queued
    'doing',  -- The job has been fetched by a worker
    'succeeded',  -- The job ended successfully
    'failed',  -- The job ended with an error
    'cancelled', -- The job was cancelled
    'aborting',  -- legacy, not used anymore since v3.0.0
    'aborted'  -- The job was aborted
);

CREATE TYPE procrastinate_job_event_type AS ENUM (
    'deferred',  -- Job created, in todo
    'started',  -- todo -> doing
    'deferred_for_retry',  -- doing -> todo
    'failed',  -- doing -> failed
    'succeeded',  -- doing -> succeeded
    'cancelled', -- todo -> cancelled
    'abort_requested', -- not a state transition, but set in a separate field
    'aborted', -- doing -> aborted (only allowed when abort_requested field is set)
    'scheduled', -- not a state transition, but recording when a task is scheduled for
    'retried' -- Manually retried failed job
);

-- Composite Types

CREATE TYPE procrastinate_job_to_defer_v1 AS (
    queue_name character varying,
    task_name character varying,
    priority integer,
    lock text,
    queueing_lock text,
    args jsonb,
    scheduled_at timestamp with time zone
);

-- Tables

CREATE TABLE procrastinate_workers(
    id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    last_heartbeat timestamp with time zone NOT NULL DEFAULT NOW()
);

CREATE TABLE procrastinate_jobs (
    id bigserial PRIMARY KEY,
    queue_name character varying(128) NOT NULL,
    task_name character varying(128) NOT NULL,
    priority integer DEFAULT 0 NOT NULL,
    lock text,
    queueing_lock text,
    args jsonb DEFAULT '{}' NOT NULL,
    status procrastinate_job_status DEFAULT 'todo'::procrastinate_job_status NOT NULL,
    scheduled_at timestamp with time zone NULL,
    attempts integer DEFAULT 0 NOT NULL,
    abort_requested boolean DEFAULT false NOT NULL,
    worker_id bigint REFERENCES procrastinate_workers(id) ON DELETE SET NULL,
    CONSTRAINT check_not_todo_abort_requested CHECK (NOT (status = 'todo' AND abort_requested = true))
);

CREATE TABLE procrastinate_periodic_defers (
    id bigserial PRIMARY KEY,
    task_name character varying(128) NOT NULL,
    defer_timestamp bigint,
    job_id bigint REFERENCES procrastinate_jobs(id) NULL,
    periodic_id character varying(128) NOT NULL DEFAULT '',
    CONSTRAINT procrastinate_periodic_defers_unique UNIQUE (task_name, periodic_id, defer_timestamp)
);

CREATE TABLE procrastinate_events (
    id bigserial PRIMARY KEY,
    job_id bigint NOT NULL REFERENCES procrastinate_jobs ON DELETE CASCADE,
    type procrastinate_job_event_type,
    at timestamp with time zone DEFAULT NOW() NULL
);

-- Constraints & Indices

-- this prevents from having several jobs with the same queueing lock in the "todo" state
CREATE UNIQUE INDEX procrastinate_jobs_queueing_lock_idx_v1 ON procrastinate_jobs (queueing_lock) WHERE status = 'todo';
-- this prevents from having several jobs with the same lock in the "doing" state
CREATE UNIQUE INDEX procrastinate_jobs_lock_idx_v1 ON procrastinate_jobs (lock) WHERE status = 'doing';

-- Index for select_stalled_jobs_by_heartbeat query
CREATE INDEX idx_procrastinate_jobs_worker_not_null ON procrastinate_jobs(worker_id) WHERE worker_id IS NOT NULL AND status = 'doing'::procrastinate_job_status;

CREATE INDEX procrastinate_jobs_queue_name_idx_v1 ON procrastinate_jobs(queue_name);
CREATE INDEX procrastinate_jobs_id_lock_idx_v1 ON procrastinate_jobs (id, lock) WHERE status = ANY (ARRAY['todo'::procrastinate_job_status, 'doing'::procrastinate_job_status]);
CREATE INDEX procrastinate_jobs_priority_idx_v1 ON procrastinate_jobs(priority desc, id asc) WHERE (status = 'todo'::procrastinate_job_status);

CREATE INDEX procrastinate_events_job_id_fkey_v1 ON procrastinate_events(job_id);

CREATE INDEX procrastinate_periodic_defers_job_id_fkey_v1 ON procrastinate_periodic_defers(job_id);

CREATE INDEX idx_procrastinate_workers_last_heartbeat ON procrastinate_workers(last_heartbeat);

-- Functions
CREATE FUNCTION procrastinate_defer_jobs_v1(
    jobs procrastinate_job_to_defer_v1[]
)
    RETURNS bigint[]
    LANGUAGE plpgsql
AS $$
DECLARE
    job_ids bigint[];
BEGIN
    WITH inserted_jobs AS (
        INSERT INTO procrastinate_jobs (queue_name, task_name, priority, lock, queueing_lock, args, scheduled_at)
        SELECT (job).queue_name,
               (job).task_name,
               (job).priority,
               (job).lock,
               (job).queueing_lock,
               (job).args,
               (job).scheduled_at
        FROM unnest(jobs) AS job
        RETURNING id
    )
    SELECT array_agg(id) FROM inserted_jobs INTO job_ids;

    RETURN job_ids;
END;
$$;

CREATE FUNCTION procrastinate_defer_periodic_job_v2(
    _queue_name character varying,
    _lock character varying,
    _queueing_lock character varying,
    _task_name character varying,
    _priority integer,
    _periodic_id character varying,
    _defer_timestamp bigint,
    _args jsonb
)
    RETURNS bigint
    LANGUAGE plpgsql
AS $$
DECLARE
	_job_id bigint;
	_defer_id bigint;
BEGIN
    INSERT
        INTO procrastinate_periodic_defers (task_name, periodic_id, defer_timestamp)
        VALUES (_task_name, _periodic_id, _defer_timestamp)
        ON CONFLICT DO NOTHING
        RETURNING id into _defer_id;

    IF _defer_id IS NULL THEN
        RETURN NULL;
    END IF;

    UPDATE procrastinate_periodic_defers
        SET job_id = (
            SELECT COALESCE((
                SELECT unnest(procrastinate_defer_jobs_v1(
                    ARRAY[
                        ROW(
                            _queue_name,
                            _task_name,
                            _priority,
                            _lock,
                            _queueing_lock,
                            _args,
                            NULL::timestamptz
                        )
                    ]::procrastinate_job_to_defer_v1[]
                ))
            ), NULL)
        )
        WHERE id = _defer_id
        RETURNING job_id INTO _job_id;

    DELETE
        FROM procrastinate_periodic_defers
        USING (
            SELECT id
            FROM procrastinate_periodic_defers
            WHERE procrastinate_periodic_defers.task_name = _task_name
            AND procrastinate_periodic_defers.periodic_id = _periodic_id
            AND procrastinate_periodic_defers.defer_timestamp < _defer_timestamp
            ORDER BY id
            FOR UPDATE
        ) to_delete
        WHERE procrastinate_periodic_defers.id = to_delete.id;

    RETURN _job_id;
END;
$$;

CREATE FUNCTION procrastinate_fetch_job_v2(
    target_queue_names character varying[],
    p_worker_id bigint
)
    RETURNS procrastinate_jobs
    LANGUAGE plpgsql
AS $$
DECLARE
	found_jobs procrastinate_jobs;
BEGIN
    WITH candidate AS (
        SELECT jobs.*
            FROM procrastinate_jobs AS jobs
            WHERE
                -- reject the job if its lock has earlier or higher priority jobs
                NOT EXISTS (
                    SELECT 1
                        FROM procrastinate_jobs AS other_jobs
                        WHERE
                            jobs.lock IS NOT NULL
                            AND other_jobs.lock = jobs.lock
                            AND (
                                -- job with same lock is already running
                                other_jobs.status = 'doing'
                                OR
                                -- job with same lock is waiting and has higher priority (or same priority but was queued first)
                                (
                                    other_jobs.status = 'todo'
                                    AND (
                                        other_jobs.priority > jobs.priority
                                        OR (
                                        other_jobs.priority = jobs.priority
                                        AND other_jobs.id < jobs.id
                                        )
                                    )
                                )
                            )
                )
                AND jobs.status = 'todo'
                AND (target_queue_names IS NULL OR jobs.queue_name = ANY( target_queue_names ))
                AND (jobs.scheduled_at IS NULL OR jobs.scheduled_at <= now())
            ORDER BY jobs.priority DESC, jobs.id ASC LIMIT 1
            FOR UPDATE OF jobs SKIP LOCKED
    )
    UPDATE procrastinate_jobs
        SET status = 'doing', worker_id = p_worker_id
        FROM candidate
        WHERE procrastinate_jobs.id = candidate.id
        RETURNING procrastinate_jobs.* INTO found_jobs;

 RETURN found_jobs;
END;
$$;

CREATE FUNCTION procrastinate_finish_job_v1(job_id bigint, end_status procrastinate_job_status, delete_job boolean)
    RETURNS void
    LANGUAGE plpgsql
AS $$
DECLARE
    _job_id bigint;
BEGIN
    IF end_status NOT IN ('succeeded', 'failed', 'aborted') THEN
        RAISE 'End status should be either "succeeded", "failed" or "aborted" (job id: %)', job_id;
    END IF;
    IF delete_job THEN
        DELETE FROM procrastinate_jobs
        WHERE id = job_id AND status IN ('todo', 'doing')
        RETURNING id INTO _job_id;
    ELSE
        UPDATE procrastinate_jobs
        SET status = end_status,
            abort_requested = false,
            attempts = CASE status
                WHEN 'doing' THEN attempts + 1 ELSE attempts
            END
        WHERE id = job_id AND status IN ('todo', 'doing')
        RETURNING id INTO _job_id;
    END IF;
    IF _job_id IS NULL THEN
        RAISE 'Job was not found or not in "doing" or "todo" status (job id: %)', job_id;
    END IF;
END;
$$;

CREATE FUNCTION procrastinate_cancel_job_v1(job_id bigint, abort boolean, delete_job boolean)
    RETURNS bigint
    LANGUAGE plpgsql
AS $$
DECLARE
    _job_id bigint;
BEGIN
    IF delete_job THEN
        DELETE FROM procrastinate_jobs
        WHERE id = job_id AND status = 'todo'
        RETURNING id INTO _job_id;
    END IF;
    IF _job_id IS NULL THEN
        IF abort THEN
            UPDATE procrastinate_jobs
            SET abort_requested = true,
                status = CASE status
                    WHEN 'todo' THEN 'cancelled'::procrastinate_job_status ELSE status
                END
            WHERE id = job_id AND status IN ('todo', 'doing')
            RETURNING id INTO _job_id;
        ELSE
            UPDATE procrastinate_jobs
            SET status = 'cancelled'::procrastinate_job_status
            WHERE id = job_id AND status = 'todo'
            RETURNING id INTO _job_id;
        END IF;
    END IF;
    RETURN _job_id;
END;
$$;

CREATE FUNCTION procrastinate_retry_job_v1(
    job_id bigint,
    retry_at timestamp with time zone,
    new_priority integer,
    new_queue_name character varying,
    new_lock character varying
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    _job_id bigint;
    _abort_requested boolean;
BEGIN
    SELECT abort_requested FROM procrastinate_jobs
    WHERE id = job_id AND status = 'doing'
    FOR UPDATE
    INTO _abort_requested;
    IF _abort_requested THEN
        UPDATE procrastinate_jobs
        SET status = 'failed'::procrastinate_job_status
        WHERE id = job_id AND status = 'doing'
        RETURNING id INTO _job_id;
    ELSE
        UPDATE procrastinate_jobs
        SET status = 'todo'::procrastinate_job_status,
            attempts = attempts + 1,
            scheduled_at = retry_at,
            priority = COALESCE(new_priority, priority),
            queue_name = COALESCE(new_queue_name, queue_name),
            lock = COALESCE(new_lock, lock)
        WHERE id = job_id AND status = 'doing'
        RETURNING id INTO _job_id;
    END IF;

    IF _job_id IS NULL THEN
        RAISE 'Job was not found or not in "doing" status (job id: %)', job_id;
    END IF;
END;
$$;

CREATE FUNCTION procrastinate_retry_job_v2(
    job_id bigint,
    retry_at timestamp with time zone,
    new_priority integer,
    new_queue_name character varying,
    new_lock character varying
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    _job_id bigint;
    _abort_requested boolean;
    _current_status procrastinate_job_status;
BEGIN
    SELECT status, abort_requested FROM procrastinate_jobs
    WHERE id = job_id AND status IN ('doing', 'failed')
    FOR UPDATE
    INTO _current_status, _abort_requested;
    IF _current_status = 'doing' AND _abort_requested THEN
        UPDATE procrastinate_jobs
        SET status = 'failed'::procrastinate_job_status
        WHERE id = job_id AND status = 'doing'
        RETURNING id INTO _job_id;
    ELSE
        UPDATE procrastinate_jobs
        SET status = 'todo'::procrastinate_job_status,
            attempts = attempts + 1,
            scheduled_at = retry_at,
            priority = COALESCE(new_priority, priority),
            queue_name = COALESCE(new_queue_name, queue_name),
            lock = COALESCE(new_lock, lock)
        WHERE id = job_id AND status IN ('doing', 'failed')
        RETURNING id INTO _job_id;
    END IF;

    IF _job_id IS NULL THEN
        RAISE 'Job was not found or has an invalid status to retry (job id: %)', job_id;
    END IF;

END;
$$;

CREATE FUNCTION procrastinate_notify_queue_job_inserted_v1()
    RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    payload TEXT;
BEGIN
    SELECT json_build_object('type', 'job_inserted', 'job_id', NEW.id)::text INTO payload;
	PERFORM pg_notify('procrastinate_queue_v1#' || NEW.queue_name, payload);
	PERFORM pg_notify('procrastinate_any_queue_v1', payload);
	RETURN NEW;
END;
$$;

CREATE FUNCTION procrastinate_notify_queue_abort_job_v1()
RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    payload TEXT;
BEGIN
    SELECT json_build_object('type', 'abort_job_requested', 'job_id', NEW.id)::text INTO payload;
	PERFORM pg_notify('procrastinate_queue_v1#' || NEW.queue_name, payload);
	PERFORM pg_notify('procrastinate_any_queue_v1', payload);
	RETURN NEW;
END;
$$;

CREATE FUNCTION procrastinate_trigger_function_status_events_insert_v1()
    RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO procrastinate_events(job_id, type)
        VALUES (NEW.id, 'deferred'::procrastinate_job_event_type);
	RETURN NEW;
END;
$$;

CREATE FUNCTION procrastinate_trigger_function_status_events_update_v1()
    RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    WITH t AS (
        SELECT CASE
            WHEN OLD.status = 'todo'::procrastinate_job_status
                AND NEW.status = 'doing'::procrastinate_job_status
                THEN 'started'::procrastinate_job_event_type
            WHEN OLD.status = 'doing'::procrastinate_job_status
                AND NEW.status = 'todo'::procrastinate_job_status
                THEN 'deferred_for_retry'::procrastinate_job_event_type
            WHEN OLD.status = 'doing'::procrastinate_job_status
                AND NEW.status = 'failed'::procrastinate_job_status
                THEN 'failed'::procrastinate_job_event_type
            WHEN OLD.status = 'doing'::procrastinate_job_status
                AND NEW.status = 'succeeded'::procrastinate_job_status
                THEN 'succeeded'::procrastinate_job_event_type
            WHEN OLD.status = 'todo'::procrastinate_job_status
                AND (
                    NEW.status = 'cancelled'::procrastinate_job_status
                    OR NEW.status = 'failed'::procrastinate_job_status
                    OR NEW.status = 'succeeded'::procrastinate_job_status
                )
                THEN 'cancelled'::procrastinate_job_event_type
            WHEN OLD.status = 'doing'::procrastinate_job_status
                AND NEW.status = 'aborted'::procrastinate_job_status
                THEN 'aborted'::procrastinate_job_event_type
            WHEN OLD.status = 'failed'::procrastinate_job_status
                AND NEW.status = 'todo'::procrastinate_job_status
                THEN 'retried'::procrastinate_job_event_type
            ELSE NULL
        END as event_type
    )
    INSERT INTO procrastinate_events(job_id, type)
        SELECT NEW.id, t.event_type
        FROM t
        WHERE t.event_type IS NOT NULL;
	RETURN NEW;
END;
$$;

CREATE FUNCTION procrastinate_trigger_function_scheduled_events_v1()
    RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO procrastinate_events(job_id, type, at)
        VALUES (NEW.id, 'scheduled'::procrastinate_job_event_type, NEW.scheduled_at);

	RETURN NEW;
END;
$$;

CREATE FUNCTION procrastinate_trigger_abort_requested_events_procedure_v1()
    RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO procrastinate_events(job_id, type)
        VALUES (NEW.id, 'abort_requested'::procrastinate_job_event_type);
    RETURN NEW;
END;
$$;

CREATE FUNCTION procrastinate_unlink_periodic_defers_v1()
    RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE procrastinate_periodic_defers
    SET job_id = NULL
    WHERE job_id = OLD.id;
    RETURN OLD;
END;
$$;

CREATE FUNCTION procrastinate_register_worker_v1()
    RETURNS TABLE(worker_id bigint)
    LANGUAGE plpgsql
AS $$
BEGIN
    RETURN QUERY
    INSERT INTO procrastinate_workers DEFAULT VALUES
    RETURNING procrastinate_workers.id;
END;
$$;

CREATE FUNCTION procrastinate_unregister_worker_v1(worker_id bigint)
    RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    DELETE FROM procrastinate_workers
    WHERE id = worker_id;
END;
$$;

CREATE FUNCTION procrastinate_update_heartbeat_v1(worker_id bigint)
    RETURNS void
    LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE procrastinate_workers
    SET last_heartbeat = NOW()
    WHERE id = worker_id;
END;
$$;

CREATE FUNCTION procrastinate_prune_stalled_workers_v1(seconds_since_heartbeat float)
    RETURNS TABLE(worker_id bigint)
    LANGUAGE plpgsql
AS $$
BEGIN
    RETURN QUERY
    DELETE FROM procrastinate_workers
    WHERE last_heartbeat < NOW() - (seconds_since_heartbeat || 'SECOND')::INTERVAL
    RETURNING procrastinate_workers.id;
END;
$$;

-- Triggers

CREATE TRIGGER procrastinate_jobs_notify_queue_job_inserted_v1
    AFTER INSERT ON procrastinate_jobs
    FOR EACH ROW WHEN ((new.status = 'todo'::procrastinate_job_status))
    EXECUTE PROCEDURE procrastinate_notify_queue_job_inserted_v1();

CREATE TRIGGER procrastinate_jobs_notify_queue_job_aborted_v1
    AFTER UPDATE OF abort_requested ON procrastinate_jobs
    FOR EACH ROW WHEN ((old.abort_requested = false AND new.abort_requested = true AND new.status = 'doing'::procrastinate_job_status))
    EXECUTE PROCEDURE procrastinate_notify_queue_abort_job_v1();

CREATE TRIGGER procrastinate_trigger_status_events_update_v1
    AFTER UPDATE OF status ON procrastinate_jobs
    FOR EACH ROW
    EXECUTE PROCEDURE procrastinate_trigger_function_status_events_update_v1();

CREATE TRIGGER procrastinate_trigger_status_events_insert_v1
    AFTER INSERT ON procrastinate_jobs
    FOR EACH ROW WHEN ((new.status = 'todo'::procrastinate_job_status))
    EXECUTE PROCEDURE procrastinate_trigger_function_status_events_insert_v1();

CREATE TRIGGER procrastinate_trigger_scheduled_events_v1
    AFTER UPDATE OR INSERT ON procrastinate_jobs
    FOR EACH ROW WHEN ((new.scheduled_at IS NOT NULL AND new.status = 'todo'::procrastinate_job_status))
    EXECUTE PROCEDURE procrastinate_trigger_function_scheduled_events_v1();

CREATE TRIGGER procrastinate_trigger_abort_requested_events_v1
    AFTER UPDATE OF abort_requested ON procrastinate_jobs
    FOR EACH ROW WHEN ((new.abort_requested = true))
    EXECUTE PROCEDURE procrastinate_trigger_abort_requested_events_procedure_v1();

CREATE TRIGGER procrastinate_trigger_delete_jobs_v1
    BEFORE DELETE ON procrastinate_jobs
    FOR EACH ROW EXECUTE PROCEDURE procrastinate_unlink_periodic_defers_v1();

CREATE TABLE message_extractions (
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    message_id uuid NOT NULL,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    status text NOT NULL DEFAULT 'pending',
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    memory_ids uuid[] NOT NULL DEFAULT '{}',
    extractor text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, message_id),
    CONSTRAINT message_extractions_status_check CHECK (status IN ('pending', 'done', 'failed'))
);
CREATE INDEX message_extractions_pending_idx ON message_extractions (tenant_id, user_id, seq)
    WHERE status = 'pending';
CREATE INDEX message_extractions_status_idx ON message_extractions (status, updated_at)
    WHERE status <> 'done';

ALTER TABLE memories ADD COLUMN decay_score real NOT NULL DEFAULT 1;
ALTER TABLE memories ADD CONSTRAINT memories_decay_score_check
    CHECK (decay_score >= 0 AND decay_score <= 1);
ALTER TABLE memory_events DROP CONSTRAINT memory_events_event_check;
ALTER TABLE memory_events ADD CONSTRAINT memory_events_event_check CHECK (event IN
    ('add', 'update', 'supersede', 'merge', 'decay', 'delete', 'restore', 'ignore'));

-- Conversation messages and session summaries (revision 0005). messages is an
-- embedded table: body is a turn's text as given, content what search indexes
-- and embeds (the text plus its tool calls and results). A session's turns are
-- numbered from 1 and never rewritten.

CREATE TABLE messages (
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    session_id text NOT NULL,
    id uuid NOT NULL,
    agent_id text,
    turn_number integer NOT NULL,
    role text NOT NULL,
    name text,
    body text NOT NULL,
    content text NOT NULL,
    tool_calls jsonb,
    tool_results jsonb,
    idempotency_key text,
    token_count integer NOT NULL,
    content_hash bytea NOT NULL,
    embedding vector,
    embedding_model text,
    tsv tsvector NOT NULL,
    doc_len integer NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, id),
    CONSTRAINT messages_turn_key UNIQUE (tenant_id, user_id, session_id, turn_number),
    CONSTRAINT messages_role_check CHECK (role IN ('user', 'assistant', 'tool', 'system')),
    CONSTRAINT messages_turn_number_check CHECK (turn_number >= 1),
    CONSTRAINT messages_token_count_check CHECK (token_count >= 0)
);
ALTER TABLE messages ALTER COLUMN embedding SET STORAGE MAIN;
CREATE UNIQUE INDEX messages_idempotency_idx ON messages
    (tenant_id, user_id, session_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX messages_scope_created_idx ON messages (tenant_id, user_id, created_at, id);
-- Finds the user of a session when a compatibility caller names only the session.
CREATE INDEX messages_tenant_session_idx ON messages (tenant_id, session_id);

CREATE TABLE summaries (
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    session_id text NOT NULL,
    agent_id text,
    content text NOT NULL,
    through_turn integer NOT NULL,
    turns_folded integer NOT NULL,
    token_count integer NOT NULL,
    method text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, session_id),
    CONSTRAINT summaries_through_turn_check CHECK (through_turn >= 0),
    CONSTRAINT summaries_turns_folded_check CHECK (turns_folded >= 0)
);

-- Key-value store, settings and working memory (revision 0006). Settings are the
-- kv namespace 'settings'; kv_history keeps every change of versioned keys.
-- agent_id / session_id are '' when a row is not narrowed to one.

CREATE TABLE kv_entries (
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    namespace text NOT NULL,
    agent_id text NOT NULL DEFAULT '',
    session_id text NOT NULL DEFAULT '',
    key text NOT NULL,
    value jsonb,
    value_z bytea,
    size_bytes integer NOT NULL,
    version bigint NOT NULL,
    expires_at timestamptz,
    updated_by text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, namespace, agent_id, session_id, key),
    CONSTRAINT kv_entries_one_value_check CHECK ((value IS NULL) <> (value_z IS NULL)),
    CONSTRAINT kv_entries_version_check CHECK (version >= 1),
    CONSTRAINT kv_entries_size_check CHECK (size_bytes >= 0)
);
-- The expiry sweep (cleanup_expired) runs per tenant.
CREATE INDEX kv_entries_expiry_idx ON kv_entries (tenant_id, expires_at)
    WHERE expires_at IS NOT NULL;

CREATE TABLE kv_history (
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    namespace text NOT NULL,
    agent_id text NOT NULL DEFAULT '',
    session_id text NOT NULL DEFAULT '',
    key text NOT NULL,
    version bigint NOT NULL,
    change text NOT NULL,
    old_value jsonb,
    old_z bytea,
    new_value jsonb,
    new_z bytea,
    actor text,
    reason text,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant_id, user_id, namespace, agent_id, session_id, key, version),
    CONSTRAINT kv_history_change_check CHECK (change IN ('set', 'delete', 'rollback'))
);

CREATE TABLE working_items (
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    id uuid NOT NULL,
    namespace text NOT NULL,
    agent_id text NOT NULL DEFAULT '',
    session_id text NOT NULL DEFAULT '',
    kind text NOT NULL,
    key text,
    position bigint,
    step text,
    value jsonb NOT NULL DEFAULT 'null',
    metadata jsonb NOT NULL DEFAULT '{}',
    importance double precision NOT NULL DEFAULT 0.5,
    size_bytes integer NOT NULL,
    access_count integer NOT NULL DEFAULT 0,
    last_accessed_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, id),
    CONSTRAINT working_items_kind_check CHECK (
        (kind = 'item' AND key IS NOT NULL AND position IS NULL AND step IS NULL)
        OR (kind = 'step' AND key IS NULL AND position IS NOT NULL
            AND step IS NOT NULL)),
    CONSTRAINT working_items_importance_check CHECK (importance >= 0 AND importance <= 1)
);
CREATE UNIQUE INDEX working_items_key_idx ON working_items
    (tenant_id, user_id, namespace, agent_id, session_id, key);
CREATE UNIQUE INDEX working_items_position_idx ON working_items
    (tenant_id, user_id, namespace, agent_id, session_id, position);
CREATE INDEX working_items_expiry_idx ON working_items (tenant_id, expires_at)
    WHERE expires_at IS NOT NULL;

-- Tenants, API keys and row-level security (revision 0002). Tables that carry
-- tenant_id call mnemo_enable_tenant_rls('<table>') after they are created; the
-- statements below secure every such table present so far. Keep this block last.

CREATE FUNCTION mnemo_ensure_service_role() RETURNS boolean
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mnemo_service') THEN
        BEGIN
            CREATE ROLE mnemo_service NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL;
            WHEN insufficient_privilege THEN
                RAISE WARNING 'mnemo: cannot create role mnemo_service (needs CREATEROLE); '
                    'the REST service will refuse to start until an administrator creates it';
                RETURN false;
        END;
    END IF;
    IF NOT pg_has_role(current_user, 'mnemo_service', 'MEMBER') THEN
        BEGIN
            EXECUTE format('GRANT mnemo_service TO %I', current_user);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'mnemo: cannot grant mnemo_service to %', current_user;
        END;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO mnemo_service', current_schema());
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE '
                   'ON TABLES TO mnemo_service', current_schema());
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT '
                   'ON SEQUENCES TO mnemo_service', current_schema());
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I '
                   'TO mnemo_service', current_schema());
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO mnemo_service',
                   current_schema());
    RETURN true;
END
$$;

CREATE FUNCTION mnemo_enable_tenant_rls(target regclass) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
    EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %s', target);
    EXECUTE format('CREATE POLICY tenant_isolation ON %s '
                   'USING (tenant_id = current_setting(''mnemo.tenant_id'', true)) '
                   'WITH CHECK (tenant_id = current_setting(''mnemo.tenant_id'', true))', target);
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'mnemo_service') THEN
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO mnemo_service', target);
    END IF;
END
$$;

CREATE TABLE tenants (
    tenant_id text PRIMARY KEY,
    name text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenants_id_check CHECK (tenant_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$')
);

CREATE TABLE api_keys (
    tenant_id text NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    id uuid NOT NULL,
    prefix text NOT NULL,
    key_hash bytea NOT NULL,
    name text,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX api_keys_prefix_idx ON api_keys (prefix);

CREATE FUNCTION mnemo_api_key_lookup(key_prefix text)
    RETURNS TABLE (id uuid, tenant_id text, key_hash bytea, revoked_at timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path FROM CURRENT
    AS $$ SELECT k.id, k.tenant_id, k.key_hash, k.revoked_at FROM api_keys k
          WHERE k.prefix = key_prefix $$;

CREATE FUNCTION mnemo_embedded_rows_by_model() RETURNS TABLE (model text, rows bigint)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path FROM CURRENT
    AS $$ SELECT embedding_model, count(*) FROM memories WHERE embedding IS NOT NULL
          GROUP BY embedding_model $$;

SELECT mnemo_ensure_service_role();
SELECT mnemo_enable_tenant_rls(format('%I', c.table_name)::regclass)
FROM information_schema.columns c
JOIN information_schema.tables t USING (table_schema, table_name)
WHERE c.table_schema = current_schema() AND c.column_name = 'tenant_id'
  AND t.table_type = 'BASE TABLE'
ORDER BY c.table_name;
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'mnemo_service') THEN
        REVOKE INSERT, UPDATE, DELETE ON tenants, api_keys FROM mnemo_service;
        GRANT UPDATE (last_used_at) ON api_keys TO mnemo_service;
        GRANT EXECUTE ON FUNCTION mnemo_api_key_lookup(text) TO mnemo_service;
        GRANT EXECUTE ON FUNCTION mnemo_embedded_rows_by_model() TO mnemo_service;
    END IF;
END
$$;

-- Revision 0007: term frequencies for BM25, generated from each tsvector.
CREATE FUNCTION mnemo_terms(tsvector) RETURNS jsonb
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT coalesce(jsonb_object_agg(lexeme, coalesce(array_length(positions, 1), 1)),
                                  '{}') FROM unnest($1) $$;
-- A row as history records it: without the vectors and the derived search columns.
CREATE FUNCTION mnemo_snapshot(jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT $1 - ARRAY['embedding', 'tsv', 'terms', 'content_hash', 'doc_len'] $$;
ALTER TABLE memories ADD COLUMN terms jsonb GENERATED ALWAYS AS (mnemo_terms(tsv)) STORED;
ALTER TABLE messages ADD COLUMN terms jsonb GENERATED ALWAYS AS (mnemo_terms(tsv)) STORED;
ALTER TABLE chunks ADD COLUMN terms jsonb GENERATED ALWAYS AS (mnemo_terms(tsv)) STORED;
ALTER TABLE entities ADD COLUMN terms jsonb GENERATED ALWAYS AS (mnemo_terms(tsv)) STORED;
-- Keep rows of up to 4 kB whole: a search reads every row of a scope.
ALTER TABLE memories SET (toast_tuple_target = 4080);
ALTER TABLE messages SET (toast_tuple_target = 4080);
ALTER TABLE chunks SET (toast_tuple_target = 4080);
ALTER TABLE entities SET (toast_tuple_target = 4080);

-- Revision 0008: turns stored without a vector, for the job that embeds them.
CREATE INDEX messages_unembedded_idx ON messages (tenant_id, user_id, created_at)
    WHERE embedding IS NULL;

-- Revision 0017: turns extracted from a reply cut off by the model's token limit.
ALTER TABLE message_extractions ADD COLUMN truncated boolean NOT NULL DEFAULT false;

-- Revision 0010 (its turns inserted by a WITH ... RETURNING since 0012, for Citus;
-- each turn's source since 0014):
-- appending turns in one round trip (lock, idempotency, numbering,
-- insert, and for extraction the ledger row and the job).
CREATE FUNCTION mnemo_append_turns(
    p_tenant text, p_user text, p_session text, p_ts_config regconfig, p_model text,
    p_ids uuid[], p_agent_ids text[], p_turns integer[], p_roles text[], p_names text[],
    p_bodies text[], p_contents text[], p_tool_calls jsonb[], p_tool_results jsonb[],
    p_keys text[], p_token_counts integer[], p_embeddings vector[], p_metadatas jsonb[],
    p_created_ats timestamptz[], p_sources jsonb[], p_job procrastinate_job_to_defer_v1
)
    RETURNS TABLE (
        id uuid, user_id text, session_id text, turn_number integer, role text, body text,
        created_at timestamptz, agent_id text, name text, tool_calls jsonb,
        tool_results jsonb, metadata jsonb, token_count integer, idempotency_key text,
        embedding_model text, source jsonb, ledger_seq bigint
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
    v_inserted integer;
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
    WITH inserted AS (INSERT INTO messages AS m (
        tenant_id, user_id, session_id, id, agent_id, turn_number, role, name, body, content,
        tool_calls, tool_results, idempotency_key, token_count, content_hash, embedding,
        embedding_model, tsv, doc_len, metadata, created_at, source
    )
    SELECT p_tenant, p_user, p_session, t.id, t.agent_id, t.turn_number, t.role, t.name,
           t.body, t.content, t.tool_calls, t.tool_results, t.key, t.token_count,
           sha256(convert_to(t.content, 'UTF8')), t.embedding,
           CASE WHEN t.embedding IS NOT NULL THEN p_model END, t.tsv, mnemo_tsv_length(t.tsv),
           t.metadata, coalesce(t.created_at, now()), t.source
    FROM (
        SELECT u.*, to_tsvector(p_ts_config, u.content) AS tsv
        FROM unnest(p_ids, p_agent_ids, v_turns, p_roles, p_names, p_bodies, p_contents,
                    p_tool_calls, p_tool_results, p_keys, p_token_counts, p_embeddings,
                    p_metadatas, p_created_ats, p_sources, v_fresh)
            AS u(id, agent_id, turn_number, role, name, body, content, tool_calls,
                 tool_results, key, token_count, embedding, metadata, created_at, source,
                 fresh)
        WHERE u.fresh
    ) t RETURNING 1)
    SELECT count(*) INTO v_inserted FROM inserted;

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
           m.idempotency_key, m.embedding_model, m.source, v_seq
    FROM unnest(v_ids) WITH ORDINALITY AS u(id, n)
    JOIN messages m ON m.tenant_id = p_tenant AND m.user_id = p_user AND m.id = u.id
    ORDER BY u.n;
END
$$;

-- Revision 0011: the Memorizz-style typed collections. HNSW indexes over
-- caller_embedding are built per dimension when a collection grows.
CREATE TABLE records (
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    id uuid NOT NULL,
    memory_type text NOT NULL,
    name text,
    memory_id text,
    agent_id text,
    conversation_id text,
    role text,
    happened_at timestamptz NOT NULL DEFAULT now(),
    data jsonb NOT NULL DEFAULT '{}',
    content text NOT NULL,
    embedding vector,
    embedding_model text,
    tsv tsvector NOT NULL,
    doc_len integer NOT NULL,
    terms jsonb GENERATED ALWAYS AS (mnemo_terms(tsv)) STORED,
    caller_embedding vector,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, id),
    CONSTRAINT records_memory_type_check CHECK (memory_type ~ '^[a-z][a-z0-9_]{0,63}$'),
    CONSTRAINT records_data_check CHECK (jsonb_typeof(data) = 'object')
);
CREATE INDEX records_name_idx ON records (tenant_id, user_id, memory_type, name);
CREATE INDEX records_memory_id_idx ON records
    (tenant_id, user_id, memory_type, memory_id, happened_at);
ALTER TABLE records SET (toast_tuple_target = 4080);
SELECT mnemo_enable_tenant_rls('records');

-- Revision 0009: lexical candidates from one GIN index over (user, lexemes);
-- access statistics apart from the wide memory rows; the registry of per-user
-- vector indexes of very large scopes.
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE FUNCTION mnemo_any_lexeme(lexemes text[]) RETURNS tsquery
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT coalesce(string_agg(
               '''' || replace(replace(l, '\', '\\'), '''', '''''') || '''', ' | '),
               '')::tsquery
          FROM unnest(lexemes) AS l $$;
CREATE INDEX memories_user_tsv_idx ON memories USING gin (user_id, tsv) WITH (fastupdate = off);
CREATE INDEX messages_user_tsv_idx ON messages USING gin (user_id, tsv) WITH (fastupdate = off);
CREATE INDEX chunks_user_tsv_idx ON chunks USING gin (user_id, tsv) WITH (fastupdate = off);
CREATE INDEX entities_user_tsv_idx ON entities USING gin (user_id, tsv) WITH (fastupdate = off);
CREATE INDEX records_user_tsv_idx ON records USING gin (user_id, tsv) WITH (fastupdate = off);
CREATE TABLE memory_access (
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    memory_id uuid NOT NULL,
    access_count integer NOT NULL DEFAULT 0,
    last_accessed_at timestamptz,
    PRIMARY KEY (tenant_id, user_id, memory_id),
    FOREIGN KEY (tenant_id, user_id, memory_id)
        REFERENCES memories (tenant_id, user_id, id) ON DELETE CASCADE
);
ALTER TABLE memories DROP COLUMN access_count, DROP COLUMN last_accessed_at;
CREATE TABLE scope_indexes (
    tenant_id text NOT NULL,
    user_id text NOT NULL,
    table_name text NOT NULL,
    index_name text NOT NULL,
    model text NOT NULL,
    dimensions integer NOT NULL,
    row_count integer NOT NULL,
    avg_doc_len real NOT NULL,
    built_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, table_name)
);
SELECT mnemo_enable_tenant_rls('memory_access');
SELECT mnemo_enable_tenant_rls('scope_indexes');

-- Revision 0013: API keys bound to one user (the MCP endpoint).
ALTER TABLE api_keys ADD COLUMN bound_user_id text
    CHECK (length(bound_user_id) BETWEEN 1 AND 255);
DROP FUNCTION mnemo_api_key_lookup(text);
CREATE FUNCTION mnemo_api_key_lookup(key_prefix text)
    RETURNS TABLE (id uuid, tenant_id text, key_hash bytea, revoked_at timestamptz,
                   bound_user_id text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path FROM CURRENT
    AS $$ SELECT k.id, k.tenant_id, k.key_hash, k.revoked_at, k.bound_user_id FROM api_keys k
          WHERE k.prefix = key_prefix $$;
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'mnemo_service') THEN
        GRANT EXECUTE ON FUNCTION mnemo_api_key_lookup(text) TO mnemo_service;
    END IF;
END
$$;

-- Revision 0012: the service records a key's last use as the tables' owner (on Citus
-- a change to api_keys locks the tenant it refers to on every node).
CREATE FUNCTION mnemo_api_key_touch(p_tenant text, p_id uuid) RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path FROM CURRENT
    AS $$ UPDATE api_keys SET last_used_at = now() WHERE tenant_id = p_tenant AND id = p_id $$;
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'mnemo_service') THEN
        GRANT EXECUTE ON FUNCTION mnemo_api_key_touch(text, uuid) TO mnemo_service;
    END IF;
END
$$;

-- Revision 0014: a turn's provider form (format, content parts, provider fields).
ALTER TABLE messages ADD COLUMN source jsonb;
