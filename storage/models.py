"""Database tables (SQLModel). Every timestamp is UTC; every JSON column is plain data.

The outbox (``Delivery``) is the contract between matching and sending: a row
exists before anything is sent, and the unique constraint makes re-matching the
same notice version harmless.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class NoticeRow(SQLModel, table=True):
    """One procurement per (source, ocid), holding its latest version."""

    __tablename__ = "notice"
    __table_args__ = (
        UniqueConstraint("source", "ocid", name="uq_notice_source_ocid"),
        Index("ix_notice_dedupe", "deadline", "buyer_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=40)
    ocid: str = Field(max_length=200)
    version: int = 1
    content_hash: str = Field(max_length=64)
    stage: str = Field(max_length=20, index=True)
    title: str = Field(sa_column=Column(Text, nullable=False))
    buyer_key: str | None = Field(default=None, max_length=200)
    deadline: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), index=True))
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # The same procurement on another feed: alerts go to the canonical notice only.
    duplicate_of: int | None = Field(default=None, foreign_key="notice.id", index=True)
    first_seen: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    last_changed: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )


class NoticeVersionRow(SQLModel, table=True):
    """Every distinct content of a notice, with what changed since the previous one."""

    __tablename__ = "notice_version"
    __table_args__ = (UniqueConstraint("notice_id", "version", name="uq_notice_version"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    version: int
    content_hash: str = Field(max_length=64)
    release_id: str = Field(max_length=250)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class FeedCursorRow(SQLModel, table=True):
    """Where the next poll of a feed resumes: saved only after a page is stored."""

    __tablename__ = "feed_cursor"

    feed: str = Field(primary_key=True, max_length=100)
    cursor: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    watermark: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_poll_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class JobLeaseRow(SQLModel, table=True):
    """A lease per scheduled job, so that several workers never run one poll twice."""

    __tablename__ = "job_lease"

    name: str = Field(primary_key=True, max_length=100)
    owner: str = Field(max_length=100)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class SubscriberRow(SQLModel, table=True):
    """An enterprise (or a team group chat) that receives alerts.

    A subscriber may have Telegram, email or both; each channel can be switched
    off on its own (a 403 from Telegram deactivates only the Telegram channel).
    """

    __tablename__ = "subscriber"

    id: int | None = Field(default=None, primary_key=True)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320, unique=True)
    email_verified: bool = False
    email_active: bool = False
    telegram_chat_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, unique=True, nullable=True)
    )
    telegram_active: bool = False
    frequency: str = Field(default="instant", max_length=10)
    digest_hour: int = 8
    weekly_day: int = 0
    quiet_hours: str | None = Field(default=None, max_length=20)
    paused: bool = False
    nudge: bool = True
    last_digest_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_nudge_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class ProfileRow(SQLModel, table=True):
    """What a subscriber wants: the matching input, stored as plain JSON lists."""

    __tablename__ = "profile"

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("subscriber.id", ondelete="CASCADE"), unique=True, nullable=False
        )
    )
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    exclude: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    cpv: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    regions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    stages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    min_value: float | None = None
    max_value: float | None = None
    vcse_only: bool = False
    sme_only: bool = False
    local_only: bool = False
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class DeliveryRow(SQLModel, table=True):
    """The outbox: one message to send on one channel, written before it is attempted.

    ``status`` goes pending -> sent | failed | cancelled. A worker claims due rows
    by setting ``claimed_until``; a crash leaves the claim to expire, so the row is
    retried (at most the in-flight message is sent twice, never lost).
    """

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint(
            "subscriber_id",
            "notice_id",
            "version",
            "channel",
            "kind",
            "variant",
            name="uq_delivery",
        ),
        Index("ix_delivery_due", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("subscriber.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    notice_id: int = Field(foreign_key="notice.id", index=True)
    version: int
    channel: str = Field(max_length=10)
    kind: str = Field(default="alert", max_length=10)
    variant: str = Field(default="", max_length=20)
    status: str = Field(default="pending", max_length=10)
    due_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    attempts: int = 0
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    score: int = 0
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    message_ref: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class FeedbackRow(SQLModel, table=True):
    """👍/👎 per subscriber and notice (the latest press wins)."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("subscriber_id", "notice_id", name="uq_feedback"),)

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("subscriber.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    notice_id: int = Field(foreign_key="notice.id")
    relevant: bool
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class AppSettingRow(SQLModel, table=True):
    """Small service-wide values that must survive restarts (e.g. a generated HMAC key)."""

    __tablename__ = "app_setting"

    key: str = Field(primary_key=True, max_length=100)
    value: str = Field(sa_column=Column(Text, nullable=False))
