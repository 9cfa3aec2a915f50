"""job status: one row per background job, shared by every web worker and job worker

Revision ID: 0009
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_status",
        sa.Column("queue", sa.String(length=40), nullable=False),
        sa.Column("job_id", sa.String(length=200), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("status", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("queue", "job_id"),
    )
    op.create_index(op.f("ix_job_status_participant_id"), "job_status", ["participant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_job_status_participant_id"), table_name="job_status")
    op.drop_table("job_status")
