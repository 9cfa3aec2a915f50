"""annotation: projects, sealed documents, units, pre-labels, reservations, annotations, flags

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "annotate_projects",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("label_schema", sa.JSON(), nullable=False),
        sa.Column("overlap", sa.Integer(), nullable=False),
        sa.Column("gold_share", sa.Float(), nullable=False),
        sa.Column("segmentation", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["participants.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "annotate_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("licence", sa.String(length=200), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["annotate_projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_annotate_documents_project_id"), "annotate_documents", ["project_id"], unique=False)
    op.create_table(
        "annotate_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("gold", sa.Boolean(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["annotate_documents.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["project_id"], ["annotate_projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_annotate_units_document_id"), "annotate_units", ["document_id"], unique=False)
    op.create_index(op.f("ix_annotate_units_project_id"), "annotate_units", ["project_id"], unique=False)
    op.create_table(
        "annotate_annotations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.String(length=32), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("profile_json", sa.Text(), nullable=True),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("acceptability", sa.Integer(), nullable=True),
        sa.Column("why", sa.Text(), nullable=True),
        sa.Column("custom", sa.JSON(), nullable=False),
        sa.Column("skipped", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["project_id"], ["annotate_projects.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["annotate_units.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("unit_id", "participant_id"),
    )
    op.create_index(
        op.f("ix_annotate_annotations_participant_id"), "annotate_annotations", ["participant_id"], unique=False
    )
    op.create_index(op.f("ix_annotate_annotations_project_id"), "annotate_annotations", ["project_id"], unique=False)
    op.create_index(op.f("ix_annotate_annotations_unit_id"), "annotate_annotations", ["unit_id"], unique=False)
    op.create_table(
        "annotate_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["annotate_units.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_annotate_flags_participant_id"), "annotate_flags", ["participant_id"], unique=False)
    op.create_index(op.f("ix_annotate_flags_unit_id"), "annotate_flags", ["unit_id"], unique=False)
    op.create_table(
        "annotate_prelabels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("model_version", sa.String(length=200), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["annotate_units.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("unit_id", "origin"),
    )
    op.create_index(op.f("ix_annotate_prelabels_unit_id"), "annotate_prelabels", ["unit_id"], unique=False)
    op.create_table(
        "annotate_reservations",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["annotate_units.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("unit_id", "participant_id"),
    )
    op.create_index(
        op.f("ix_annotate_reservations_participant_id"), "annotate_reservations", ["participant_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_annotate_reservations_participant_id"), table_name="annotate_reservations")
    op.drop_table("annotate_reservations")
    op.drop_index(op.f("ix_annotate_prelabels_unit_id"), table_name="annotate_prelabels")
    op.drop_table("annotate_prelabels")
    op.drop_index(op.f("ix_annotate_flags_unit_id"), table_name="annotate_flags")
    op.drop_index(op.f("ix_annotate_flags_participant_id"), table_name="annotate_flags")
    op.drop_table("annotate_flags")
    op.drop_index(op.f("ix_annotate_annotations_unit_id"), table_name="annotate_annotations")
    op.drop_index(op.f("ix_annotate_annotations_project_id"), table_name="annotate_annotations")
    op.drop_index(op.f("ix_annotate_annotations_participant_id"), table_name="annotate_annotations")
    op.drop_table("annotate_annotations")
    op.drop_index(op.f("ix_annotate_units_project_id"), table_name="annotate_units")
    op.drop_index(op.f("ix_annotate_units_document_id"), table_name="annotate_units")
    op.drop_table("annotate_units")
    op.drop_index(op.f("ix_annotate_documents_project_id"), table_name="annotate_documents")
    op.drop_table("annotate_documents")
    op.drop_table("annotate_projects")
