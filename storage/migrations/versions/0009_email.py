"""email: bounce and complaint reports, sign-ups waiting for confirmation

* ``email_bounce``: one row per address per delivery report read from the inbound mailbox
  (hard, soft, delayed, complaint); soft bounces are counted over 14 days.
* ``email_signup``: a sign-up from the public web page until its owner confirms it by the
  emailed link (double opt-in).

Revision ID: 0009_email
Revises: 0008_conversations
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0009_email"
down_revision: str | None = "0008_conversations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "email_bounce",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("report_id", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("report_id", "address", name="uq_email_bounce_report"),
    )
    op.create_index("ix_email_bounce_address", "email_bounce", ["address", "created_at"])
    op.create_table(
        "email_signup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("frequency", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("confirmed_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_email_signup_public_id", "email_signup", ["public_id"], unique=True)
    op.create_index("ix_email_signup_email", "email_signup", ["email"])


def downgrade() -> None:
    op.drop_index("ix_email_signup_email", table_name="email_signup")
    op.drop_index("ix_email_signup_public_id", table_name="email_signup")
    op.drop_table("email_signup")
    op.drop_index("ix_email_bounce_address", table_name="email_bounce")
    op.drop_table("email_bounce")
