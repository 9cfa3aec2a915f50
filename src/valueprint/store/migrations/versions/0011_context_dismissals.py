"""moral graph: proposed contexts a curator dismissed

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "moralgraph_context_dismissals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("dismissed_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dismissed_by"], ["participants.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index(
        op.f("ix_moralgraph_context_dismissals_dismissed_by"),
        "moralgraph_context_dismissals",
        ["dismissed_by"],
        unique=False,
    )
    op.create_index(
        op.f("ix_moralgraph_context_dismissals_text"), "moralgraph_context_dismissals", ["text"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_moralgraph_context_dismissals_text"), table_name="moralgraph_context_dismissals")
    op.drop_index(op.f("ix_moralgraph_context_dismissals_dismissed_by"), table_name="moralgraph_context_dismissals")
    op.drop_table("moralgraph_context_dismissals")
