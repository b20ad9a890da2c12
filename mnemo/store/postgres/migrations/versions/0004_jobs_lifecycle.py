"""The durable job queue, the extraction ledger, decay scores and the 'ignore' decision.

Revision ID: 0004
Revises: 0003

- procrastinate 3.10.0's schema, verbatim from ``../procrastinate_3_10_0.sql``
  (its tables hold no user data; job arguments carry tenant and user ids).
- ``message_extractions``: one row per conversation turn handed to extraction,
  ``pending`` until a job commits its memories, ``done``, or ``failed`` (the
  visible dead-letter state) after too many failed attempts.
- ``memories.decay_score``: 1 when fresh, halving per idle half-life (decay job).
- ``memory_events`` may record ``ignore``: a candidate judged a duplicate of an
  existing memory (whose provenance then grows).
"""

from importlib import resources

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

LEDGER = """
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
SELECT mnemo_enable_tenant_rls('message_extractions');
"""

MEMORY_CHANGES = """
ALTER TABLE memories ADD COLUMN decay_score real NOT NULL DEFAULT 1;
ALTER TABLE memories ADD CONSTRAINT memories_decay_score_check
    CHECK (decay_score >= 0 AND decay_score <= 1);
ALTER TABLE memory_events DROP CONSTRAINT memory_events_event_check;
ALTER TABLE memory_events ADD CONSTRAINT memory_events_event_check CHECK (event IN
    ('add', 'update', 'supersede', 'merge', 'decay', 'delete', 'restore', 'ignore'));
"""


def upgrade() -> None:
    queue_schema = resources.files("mnemo.store.postgres.migrations") / "procrastinate_3_10_0.sql"
    # Verbatim third-party SQL: to the driver with no parameters, so its % and : stay.
    driver = op.get_bind().connection.dbapi_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        cursor.execute(queue_schema.read_text(encoding="utf-8"))
    finally:
        cursor.close()
    op.execute(LEDGER)
    op.execute(MEMORY_CHANGES)


def downgrade() -> None:
    op.execute("DELETE FROM memory_events WHERE event = 'ignore'")
    op.execute("ALTER TABLE memory_events DROP CONSTRAINT memory_events_event_check")
    op.execute(
        "ALTER TABLE memory_events ADD CONSTRAINT memory_events_event_check CHECK (event IN "
        "('add', 'update', 'supersede', 'merge', 'decay', 'delete', 'restore'))"
    )
    op.execute("ALTER TABLE memories DROP COLUMN decay_score")
    op.execute("DROP TABLE message_extractions")
    op.execute(
        "DROP TABLE procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs, "
        "procrastinate_workers"
    )
    op.execute(DROP_QUEUE_FUNCTIONS)
    op.execute(
        "DROP TYPE procrastinate_job_to_defer_v1, procrastinate_job_event_type, "
        "procrastinate_job_status"
    )


DROP_QUEUE_FUNCTIONS = r"""
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
             WHERE p.proname LIKE 'procrastinate\_%'
               AND p.pronamespace = current_schema()::regnamespace
    LOOP
        EXECUTE format('DROP FUNCTION %s', f);
    END LOOP;
END
$$;
"""
