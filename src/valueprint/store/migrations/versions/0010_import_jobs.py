"""annotation imports as jobs: the import, its staged documents and its unpublished units

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "annotate_imports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("prelabels", sa.Integer(), nullable=False),
        sa.Column("entities", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["project_id"], ["annotate_projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_annotate_imports_project_id"), "annotate_imports", ["project_id"], unique=False)
    op.create_table(
        "annotate_import_documents",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("row", sa.String(length=300), nullable=False),
        sa.Column("spans", sa.JSON(), nullable=False),
        sa.Column("prelabels", sa.JSON(none_as_null=True), nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["annotate_documents.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["import_id"], ["annotate_imports.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("document_id"),
    )
    op.create_index(
        op.f("ix_annotate_import_documents_import_id"), "annotate_import_documents", ["import_id"], unique=False
    )
    op.create_table(
        "annotate_import_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.String(length=32), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("gold", sa.Boolean(), nullable=False),
        sa.Column("prelabels", sa.JSON(none_as_null=True), nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["annotate_documents.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["import_id"], ["annotate_imports.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_annotate_import_units_document_id"), "annotate_import_units", ["document_id"], unique=False
    )
    op.create_index(op.f("ix_annotate_import_units_import_id"), "annotate_import_units", ["import_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_annotate_import_units_import_id"), table_name="annotate_import_units")
    op.drop_index(op.f("ix_annotate_import_units_document_id"), table_name="annotate_import_units")
    op.drop_table("annotate_import_units")
    op.drop_index(op.f("ix_annotate_import_documents_import_id"), table_name="annotate_import_documents")
    op.drop_table("annotate_import_documents")
    op.drop_index(op.f("ix_annotate_imports_project_id"), table_name="annotate_imports")
    op.drop_table("annotate_imports")
