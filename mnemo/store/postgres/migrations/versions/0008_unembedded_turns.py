"""An index of turns stored without a vector.

Revision ID: 0008
Revises: 0007

``add(turns, infer=True)`` stores turns without embedding them, so that storing
stays a plain insert; the extraction job embeds them afterwards. This partial
index lets the job find a user's unembedded turns without reading the rest.
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX messages_unembedded_idx ON messages (tenant_id, user_id, created_at) "
        "WHERE embedding IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX messages_unembedded_idx")
