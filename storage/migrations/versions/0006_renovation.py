"""renovation: message outbox, matched versions, public subscriber ids, suppressions,
one chat-state table

* ``enquiry_outbox`` becomes ``message_outbox``: every non-alert message (enquiry messages,
  nudges, codes, reports) goes through one outbox and one delivery loop.
* ``notice_version.matched_at``: a stored version not yet matched is a durable fact. Rows
  that exist already were matched by the old code when they were stored, so they are marked
  matched at their creation time (nothing is re-alerted by the upgrade).
* ``subscriber.public_id`` (random, never reused) and ``link_version``: what signed links
  name from now on.
* ``email_suppression``: addresses never to mail again.
* ``enquiry_chat_state`` folds into ``chat_state`` (one conversation step per chat).

Revision ID: 0006
Revises: 0005
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _message_outbox()
    _matched_versions()
    _public_ids()
    _suppressions()
    _one_chat_state()


def _message_outbox() -> None:
    for name in ("due", "email_message_id", "enquiry_id"):
        op.drop_index(f"ix_enquiry_outbox_{name}", table_name="enquiry_outbox")
    op.rename_table("enquiry_outbox", "message_outbox")
    with op.batch_alter_table("message_outbox") as batch:
        batch.alter_column("enquiry_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("subscriber_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("headers", sa.JSON(), nullable=False, server_default="{}"))
        batch.create_foreign_key(
            "fk_message_outbox_subscriber",
            "subscriber",
            ["subscriber_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_index("ix_message_outbox_subscriber_id", ["subscriber_id"])
    op.create_index("ix_message_outbox_due", "message_outbox", ["status", "due_at"])
    op.create_index("ix_message_outbox_email_message_id", "message_outbox", ["email_message_id"])
    op.create_index("ix_message_outbox_enquiry_id", "message_outbox", ["enquiry_id"])


def _matched_versions() -> None:
    with op.batch_alter_table("notice_version") as batch:
        batch.add_column(sa.Column("matched_at", storage.types.UTCDateTime(), nullable=True))
        batch.create_index("ix_notice_version_matched_at", ["matched_at"])
    op.execute("UPDATE notice_version SET matched_at = created_at")


def _public_ids() -> None:
    with op.batch_alter_table("subscriber") as batch:
        batch.add_column(
            sa.Column("public_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch.add_column(
            sa.Column("link_version", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("legacy_links", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    conn = op.get_bind()
    ids = [row[0] for row in conn.execute(sa.text("SELECT id FROM subscriber"))]
    for sub_id in ids:
        conn.execute(
            sa.text("UPDATE subscriber SET public_id = :p, legacy_links = :t WHERE id = :i"),
            {"p": _public_id(), "i": sub_id, "t": True},
        )
    with op.batch_alter_table("subscriber") as batch:
        batch.alter_column(
            "public_id", existing_type=sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False
        )
        batch.create_index("ix_subscriber_public_id", ["public_id"], unique=True)


def _public_id() -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(22))


def _suppressions() -> None:
    op.create_table(
        "email_suppression",
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("address"),
    )


def _one_chat_state() -> None:
    with op.batch_alter_table("chat_state") as batch:
        batch.add_column(sa.Column("expires_at", storage.types.UTCDateTime(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT chat_id, awaiting, notice_id, expires_at FROM enquiry_chat_state")
    ).all()
    chat_state = sa.table(
        "chat_state",
        sa.column("chat_id", sa.BigInteger()),
        sa.column("step", sa.String()),
        sa.column("data", sa.JSON()),
        sa.column("updated_at", storage.types.UTCDateTime()),
        sa.column("expires_at", storage.types.UTCDateTime()),
    )
    for chat_id, awaiting, notice_id, expires_at in rows:
        conn.execute(sa.delete(chat_state).where(chat_state.c.chat_id == chat_id))
        conn.execute(
            sa.insert(chat_state).values(
                chat_id=chat_id,
                step=awaiting,
                data={"notice_id": notice_id},
                updated_at=expires_at,
                expires_at=expires_at,
            )
        )
    op.drop_table("enquiry_chat_state")


def downgrade() -> None:
    raise NotImplementedError("bestbot migrations only go forward; restore a backup instead")
