"""Database tables (SQLModel). Every timestamp is UTC; every JSON column is plain data.

The outbox (``Delivery``) is the contract between matching and sending: a row
exists before anything is sent, and the unique constraint makes re-matching the
same notice version harmless.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
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
