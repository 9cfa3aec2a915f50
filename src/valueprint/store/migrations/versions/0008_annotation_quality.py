"""annotation quality: gold answers, pauses, karma, adjudications, returns, scenario candidates

Revision ID: 0008
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "annotate_gold",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("checked", sa.JSON(), nullable=False),
        sa.Column("acceptability", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["annotate_units.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("unit_id"),
    )
    op.create_table(
        "annotate_pauses",
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("paused_at", TZ, nullable=False),
        sa.Column("lifted_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["project_id"], ["annotate_projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("project_id", "participant_id"),
    )
    op.create_index(op.f("ix_annotate_pauses_participant_id"), "annotate_pauses", ["participant_id"], unique=False)
    op.create_table(
        "annotate_karma",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("delta", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["project_id"], ["annotate_projects.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["annotate_units.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_annotate_karma_participant_id"), "annotate_karma", ["participant_id"], unique=False)
    op.create_table(
        "annotate_adjudications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("acceptability", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["annotate_units.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_annotate_adjudications_participant_id"), "annotate_adjudications", ["participant_id"], unique=False
    )
    op.create_index(op.f("ix_annotate_adjudications_unit_id"), "annotate_adjudications", ["unit_id"], unique=False)
    op.create_table(
        "annotate_returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("reviewer_id", sa.String(length=32), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("original", sa.JSON(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("resolved_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["reviewer_id"], ["participants.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["unit_id"], ["annotate_units.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("unit_id", "participant_id"),
    )
    op.create_index(op.f("ix_annotate_returns_participant_id"), "annotate_returns", ["participant_id"], unique=False)
    op.create_index(op.f("ix_annotate_returns_unit_id"), "annotate_returns", ["unit_id"], unique=False)
    op.create_table(
        "annotate_scenarios",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["decided_by"], ["participants.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["project_id"], ["annotate_projects.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["annotate_units.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("unit_id"),
    )
    op.create_index(op.f("ix_annotate_scenarios_project_id"), "annotate_scenarios", ["project_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_annotate_scenarios_project_id"), table_name="annotate_scenarios")
    op.drop_table("annotate_scenarios")
    op.drop_index(op.f("ix_annotate_returns_unit_id"), table_name="annotate_returns")
    op.drop_index(op.f("ix_annotate_returns_participant_id"), table_name="annotate_returns")
    op.drop_table("annotate_returns")
    op.drop_index(op.f("ix_annotate_adjudications_unit_id"), table_name="annotate_adjudications")
    op.drop_index(op.f("ix_annotate_adjudications_participant_id"), table_name="annotate_adjudications")
    op.drop_table("annotate_adjudications")
    op.drop_index(op.f("ix_annotate_karma_participant_id"), table_name="annotate_karma")
    op.drop_table("annotate_karma")
    op.drop_index(op.f("ix_annotate_pauses_participant_id"), table_name="annotate_pauses")
    op.drop_table("annotate_pauses")
    op.drop_table("annotate_gold")
