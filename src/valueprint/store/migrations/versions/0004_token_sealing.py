"""tokens stored sealed (encrypted), not in plain text

The plain `token` column becomes nullable; rows written before this migration are sealed and
cleared when the server starts (`Registry.seal_plain_tokens`: the data key is not available to
a migration).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed", sa.Text(), nullable=True))
        batch_op.alter_column("token", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_column("sealed")
