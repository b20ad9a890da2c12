"""Turns in a provider's format: ``messages.source``.

Revision ID: 0014
Revises: 0012

A turn read from an OpenAI, Anthropic or Responses message keeps, in ``source``,
what mnemo's columns do not hold (the format, the content parts without their
texts, a patch of provider-specific fields), so the message can be given back
exactly as it came (``mnemo.core.formats``). ``mnemo_append_turns`` takes and
returns it; its signature changes, so it is dropped and created again.
"""

from alembic import op

from mnemo.store.postgres.migrations.append_turns import (
    returning_append_turns,
    source_append_turns,
)

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None

_BEFORE = (
    "mnemo_append_turns(text, text, text, regconfig, text, uuid[], text[], integer[], text[],"
    " text[], text[], text[], jsonb[], jsonb[], text[], integer[], vector[], jsonb[],"
    " timestamptz[], procrastinate_job_to_defer_v1)"
)
_AFTER = _BEFORE.replace("timestamptz[],", "timestamptz[], jsonb[],")


def upgrade() -> None:
    # The function first: Citus refuses a function command in a transaction that has
    # already changed a distributed table on its shards in parallel.
    op.execute(f"DROP FUNCTION {_BEFORE}")
    op.execute(source_append_turns())
    op.execute("ALTER TABLE messages ADD COLUMN source jsonb")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {_AFTER}")
    op.execute(returning_append_turns())
    op.execute("ALTER TABLE messages DROP COLUMN source")
