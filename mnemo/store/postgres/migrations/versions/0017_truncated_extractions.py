"""Which extracted turns came from a model reply cut off by its token limit.

Revision ID: 0017
Revises: 0008

An LLM reply cut off at ``max_tokens`` is repaired into valid JSON when it can be,
and the memories in the lost tail are gone. The turn is still ``done``, but the
ledger now says so (``job_stats()["extraction_truncated"]``), so a model or token
limit that is too small shows up instead of passing silently.
"""

from alembic import op

revision = "0017"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE message_extractions ADD COLUMN truncated boolean NOT NULL DEFAULT false"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE message_extractions DROP COLUMN truncated")
