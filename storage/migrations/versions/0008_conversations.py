"""conversations: plain messages waiting for their sender to pick an enquiry

``enquiry_draft`` holds a message sent without the Reply gesture by someone with several
open enquiries, until they press the button saying which one it is about.

Revision ID: 0008_conversations
Revises: 0006 (the lead re-chains onto 0007_scaleout at merge)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0008_conversations"
down_revision: str | None = "0007_scaleout"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "enquiry_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_enquiry_draft_chat_id"), "enquiry_draft", ["chat_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_enquiry_draft_chat_id"), table_name="enquiry_draft")
    op.drop_table("enquiry_draft")
