"""reports: market reports and their files, messages that carry one, partner interest,
each feed's last successful poll

* ``market_report`` (figures + CSV, unique ``key`` per run) and ``market_report_file``
  (its PNG charts, stored once).
* ``message_outbox.report_id``: a queued message carrying a report (charts as photos or
  inline images, CSV attached).
* ``partner_interest``: enterprises open to bidding together for a notice, with consent.
* ``forecast_shown``: the re-tender forecasts each subscriber's weekly digest has shown.
* ``feed_cursor.last_success_at``: ``last_poll_at`` is also set by failed polls.

Revision ID: 0010_reports
Revises: 0009_email
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0010_reports"
down_revision: str | None = "0009_email"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _string(length: int) -> sa.types.TypeEngine[str]:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "market_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", _string(100), nullable=False),
        sa.Column("region", _string(10), nullable=False),
        sa.Column("window_from", storage.types.UTCDateTime(), nullable=False),
        sa.Column("window_to", storage.types.UTCDateTime(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("csv", sa.Text(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_market_report_created_at", "market_report", ["created_at"])
    op.create_table(
        "market_report_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("name", _string(100), nullable=False),
        sa.Column("title", _string(200), nullable=False),
        sa.Column("content_type", _string(100), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["market_report.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_market_report_file_report_id", "market_report_file", ["report_id"])
    with op.batch_alter_table("message_outbox") as batch:
        batch.add_column(sa.Column("report_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_message_outbox_report", "market_report", ["report_id"], ["id"], ondelete="CASCADE"
        )
    op.create_table(
        "partner_interest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("consent", sa.Text(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscriber.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["notice_id"], ["notice.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscriber_id", "notice_id", name="uq_partner_interest"),
    )
    op.create_index("ix_partner_interest_subscriber_id", "partner_interest", ["subscriber_id"])
    op.create_index("ix_partner_interest_notice_id", "partner_interest", ["notice_id"])
    op.create_table(
        "forecast_shown",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("award_id", _string(200), nullable=False),
        sa.Column("channel", _string(10), nullable=False),
        sa.Column("shown_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscriber.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["notice_id"], ["notice.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "subscriber_id", "notice_id", "award_id", "channel", name="uq_forecast_shown"
        ),
    )
    op.create_index("ix_forecast_shown_subscriber_id", "forecast_shown", ["subscriber_id"])
    with op.batch_alter_table("feed_cursor") as batch:
        batch.add_column(sa.Column("last_success_at", storage.types.UTCDateTime(), nullable=True))
    # Feeds whose last poll went well: that poll was their last success.
    op.execute(
        "UPDATE feed_cursor SET last_success_at = last_poll_at "
        "WHERE last_error IS NULL AND last_poll_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("feed_cursor") as batch:
        batch.drop_column("last_success_at")
    op.drop_index("ix_forecast_shown_subscriber_id", table_name="forecast_shown")
    op.drop_table("forecast_shown")
    op.drop_index("ix_partner_interest_notice_id", table_name="partner_interest")
    op.drop_index("ix_partner_interest_subscriber_id", table_name="partner_interest")
    op.drop_table("partner_interest")
    with op.batch_alter_table("message_outbox") as batch:
        batch.drop_constraint("fk_message_outbox_report", type_="foreignkey")
        batch.drop_column("report_id")
    op.drop_index("ix_market_report_file_report_id", table_name="market_report_file")
    op.drop_table("market_report_file")
    op.drop_index("ix_market_report_created_at", table_name="market_report")
    op.drop_table("market_report")
