"""moral graph: contexts, values cards, canonical cards and merges, transitions with stories, "wiser than"
votes (one per person per pair of cards) and "did this represent you?" answers

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "moralgraph_contexts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("source_ref", sa.String(length=200), nullable=True),
        sa.Column("proposed_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["proposed_by"], ["participants.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("text"),
    )
    op.create_index(op.f("ix_moralgraph_contexts_proposed_by"), "moralgraph_contexts", ["proposed_by"], unique=False)
    op.create_table(
        "moralgraph_canonical_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("policies", sa.JSON(), nullable=False),
        sa.Column("source_card_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["context_id"], ["moralgraph_contexts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_moralgraph_canonical_cards_context_id"), "moralgraph_canonical_cards", ["context_id"], unique=False
    )
    op.create_table(
        "moralgraph_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=False),
        sa.Column("canonical_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("policies", sa.JSON(), nullable=False),
        sa.Column("drafted_by_model", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["canonical_id"], ["moralgraph_canonical_cards.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["context_id"], ["moralgraph_contexts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_moralgraph_cards_canonical_id"), "moralgraph_cards", ["canonical_id"], unique=False)
    op.create_index(op.f("ix_moralgraph_cards_context_id"), "moralgraph_cards", ["context_id"], unique=False)
    op.create_index(op.f("ix_moralgraph_cards_participant_id"), "moralgraph_cards", ["participant_id"], unique=False)
    op.create_table(
        "moralgraph_representation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=False),
        sa.Column("winner_id", sa.Integer(), nullable=True),
        sa.Column("winner_title", sa.String(length=100), nullable=False),
        sa.Column("answer", sa.String(length=8), nullable=False),
        sa.Column("why", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["context_id"], ["moralgraph_contexts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["winner_id"], ["moralgraph_canonical_cards.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("participant_id", "context_id"),
    )
    op.create_index(
        op.f("ix_moralgraph_representation_context_id"), "moralgraph_representation", ["context_id"], unique=False
    )
    op.create_index(
        op.f("ix_moralgraph_representation_participant_id"),
        "moralgraph_representation",
        ["participant_id"],
        unique=False,
    )
    op.create_table(
        "moralgraph_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=False),
        sa.Column("from_id", sa.Integer(), nullable=False),
        sa.Column("to_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["context_id"], ["moralgraph_contexts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["from_id"], ["moralgraph_canonical_cards.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["to_id"], ["moralgraph_canonical_cards.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("from_id", "to_id"),
    )
    op.create_index(
        op.f("ix_moralgraph_transitions_context_id"), "moralgraph_transitions", ["context_id"], unique=False
    )
    op.create_table(
        "moralgraph_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("canonical_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["canonical_id"], ["moralgraph_canonical_cards.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["card_id"], ["moralgraph_cards.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_moralgraph_merges_card_id"), "moralgraph_merges", ["card_id"], unique=False)
    op.create_table(
        "moralgraph_stories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transition_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["transition_id"], ["moralgraph_transitions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_moralgraph_stories_participant_id"), "moralgraph_stories", ["participant_id"], unique=False
    )
    op.create_index(op.f("ix_moralgraph_stories_transition_id"), "moralgraph_stories", ["transition_id"], unique=False)
    op.create_table(
        "moralgraph_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=False),
        sa.Column("transition_id", sa.Integer(), nullable=False),
        sa.Column("from_id", sa.Integer(), nullable=False),
        sa.Column("to_id", sa.Integer(), nullable=False),
        sa.Column("low_id", sa.Integer(), nullable=False),
        sa.Column("high_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(length=8), nullable=False),
        sa.Column("why", sa.Text(), nullable=True),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["context_id"], ["moralgraph_contexts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["from_id"], ["moralgraph_canonical_cards.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["to_id"], ["moralgraph_canonical_cards.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["transition_id"], ["moralgraph_transitions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("participant_id", "low_id", "high_id"),
    )
    op.create_index(op.f("ix_moralgraph_votes_context_id"), "moralgraph_votes", ["context_id"], unique=False)
    op.create_index(op.f("ix_moralgraph_votes_participant_id"), "moralgraph_votes", ["participant_id"], unique=False)
    op.create_index(op.f("ix_moralgraph_votes_transition_id"), "moralgraph_votes", ["transition_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_moralgraph_votes_transition_id"), table_name="moralgraph_votes")
    op.drop_index(op.f("ix_moralgraph_votes_participant_id"), table_name="moralgraph_votes")
    op.drop_index(op.f("ix_moralgraph_votes_context_id"), table_name="moralgraph_votes")
    op.drop_table("moralgraph_votes")
    op.drop_index(op.f("ix_moralgraph_stories_transition_id"), table_name="moralgraph_stories")
    op.drop_index(op.f("ix_moralgraph_stories_participant_id"), table_name="moralgraph_stories")
    op.drop_table("moralgraph_stories")
    op.drop_index(op.f("ix_moralgraph_merges_card_id"), table_name="moralgraph_merges")
    op.drop_table("moralgraph_merges")
    op.drop_index(op.f("ix_moralgraph_transitions_context_id"), table_name="moralgraph_transitions")
    op.drop_table("moralgraph_transitions")
    op.drop_index(op.f("ix_moralgraph_representation_participant_id"), table_name="moralgraph_representation")
    op.drop_index(op.f("ix_moralgraph_representation_context_id"), table_name="moralgraph_representation")
    op.drop_table("moralgraph_representation")
    op.drop_index(op.f("ix_moralgraph_cards_participant_id"), table_name="moralgraph_cards")
    op.drop_index(op.f("ix_moralgraph_cards_context_id"), table_name="moralgraph_cards")
    op.drop_index(op.f("ix_moralgraph_cards_canonical_id"), table_name="moralgraph_cards")
    op.drop_table("moralgraph_cards")
    op.drop_index(op.f("ix_moralgraph_canonical_cards_context_id"), table_name="moralgraph_canonical_cards")
    op.drop_table("moralgraph_canonical_cards")
    op.drop_index(op.f("ix_moralgraph_contexts_proposed_by"), table_name="moralgraph_contexts")
    op.drop_table("moralgraph_contexts")
