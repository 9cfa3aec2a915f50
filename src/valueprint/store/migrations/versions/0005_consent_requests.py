"""consent requests: apps' owner and return addresses, the purpose of each read

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("redirect_uris", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purpose", sa.String(length=32), nullable=False, server_default="profile"))


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("purpose")
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_column("redirect_uris")
        batch_op.drop_column("owner")
