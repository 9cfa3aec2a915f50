"""job heartbeats: when a process last showed that it still holds a queued or running job

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_status", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_job_status_state"), ["state"], unique=False)
    op.execute("UPDATE job_status SET heartbeat_at = updated_at")


def downgrade() -> None:
    with op.batch_alter_table("job_status", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_status_state"))
        batch_op.drop_column("heartbeat_at")
