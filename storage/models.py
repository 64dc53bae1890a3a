"""Database tables (SQLModel). Every timestamp is UTC; every JSON column is plain data.

The outbox (``Delivery``) is the contract between matching and sending: a row
exists before anything is sent, and the unique constraint makes re-matching the
same notice version harmless.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def new_public_id() -> str:
    """A random id for a subscriber's signed links: 22 letters and digits (131 bits)."""
    return "".join(secrets.choice(_ALNUM) for _ in range(22))


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
    #: Set once this version's alerts (or updates) are in the outbox. A version stored but
    #: not yet matched is a durable fact: a crash between storing and queueing leaves it
    #: NULL, and the next cycle matches it (nothing is lost to a kill between the two).
    matched_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True, index=True)
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
    #: The last poll that read the feed without an error (``last_poll_at`` counts failures).
    last_success_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    #: The releases recent polls skipped (newest first, at most 20): ``{"at", "problem"}``,
    #: the problem naming the release's id — shown by /healthz until newer ones replace them.
    skipped: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )


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
    #: What signed links name: random and never reused, unlike ``id`` (SQLite hands a
    #: deleted subscriber's id to the next one, and an old link must not act on them).
    public_id: str = Field(
        default_factory=new_public_id, max_length=32, unique=True, index=True, nullable=False
    )
    #: Bumped whenever control of the subscription moves (a chat linked, an address
    #: changed): links that grant control carry it, so an old or forwarded one stops working.
    link_version: int = 0
    #: Rows that existed before links named ``public_id`` (migration 0006): only for them is
    #: an old-style unsubscribe link (naming the integer id) still honoured.
    legacy_links: bool = False
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
    #: When /pause paused the alerts (/resume then offers what opened meanwhile); None after
    #: /stop, which stops them without catching up.
    paused_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
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
    #: What the enterprise said it does, in its own words (the keywords were read from it).
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    #: Notice kinds (``feeds.kinds.KINDS`` ids) switched off with /types; empty = defaults.
    kinds_off: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    #: Reservation codes asked for (``feeds.notice.RESERVATIONS``); empty = no filter.
    reserved: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
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
    #: Ids of the notice's lots that fitted the profile, best first (empty: the whole notice).
    lots: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )


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


class ChatStateRow(SQLModel, table=True):
    """Where a chat's conversation with the bot stands ("awaiting keywords", ...).

    Kept in the database, not in the bot process, so that a conversation survives a restart
    and any worker behind a webhook can take the next message.
    """

    __tablename__ = "chat_state"

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    step: str = Field(max_length=30)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    #: A step that should lapse (``/ask`` waiting for the question) ends here; None: never.
    expires_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


class EmailCodeRow(SQLModel, table=True):
    """A pending email verification: only a keyed hash of the 6-digit code is stored."""

    __tablename__ = "email_code"

    subscriber_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("subscriber.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
    email: str = Field(max_length=320)
    code_hash: str = Field(max_length=64)
    attempts: int = 0
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class ChatThrottleRow(SQLModel, table=True):
    """Per-user flood protection shared by every worker: a fixed window and its count."""

    __tablename__ = "chat_throttle"

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    window_start: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    count: int = 0
    warned: bool = False


# --------------------------------------------------------------------------- enquiries


class AdviserRow(SQLModel, table=True):
    """A SEEM adviser (imported from the roster JSON); ``code`` is the roster's ``id``.

    ``telegram_id`` is set by the import or when the adviser opens their invite link.
    """

    __tablename__ = "adviser"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=320)
    telegram_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, unique=True, nullable=True)
    )
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    regions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    capacity: int = 5
    away: bool = False
    away_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    active: bool = True
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class EnquiryRow(SQLModel, table=True):
    """One question from an enterprise and where it stands.

    ``status`` goes open (routed, not yet accepted) -> accepted -> resolved. The enterprise
    is the subscriber when known (deleted with it), else just a chat id or an address.
    """

    __tablename__ = "enquiry"
    __table_args__ = (Index("ix_enquiry_status_adviser", "status", "adviser_id"),)

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("subscriber.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    channel: str = Field(max_length=10)
    telegram_chat_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True, index=True)
    )
    email: str | None = Field(default=None, max_length=320, index=True)
    sender_name: str | None = Field(default=None, max_length=200)
    subject: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    text: str = Field(sa_column=Column(Text, nullable=False))
    notice_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("notice.id", ondelete="SET NULL"), nullable=True),
    )
    topic: str = Field(default="general", max_length=30)
    region: str | None = Field(default=None, max_length=100)
    confidence: float = 0.0
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="open", max_length=10)
    adviser_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("adviser.id", ondelete="SET NULL"), nullable=True),
    )
    excluded: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    thread_id: str | None = Field(default=None, max_length=300)
    assigned_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    ack_due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    accepted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    reply_due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    first_response_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    resolved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    rating: int | None = None
    rated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class EnquiryMessageRow(SQLModel, table=True):
    """One message in an enquiry's conversation. ``email_message_id`` makes intake
    idempotent: the same email received twice is stored once."""

    __tablename__ = "enquiry_message"

    id: int | None = Field(default=None, primary_key=True)
    enquiry_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("enquiry.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    author: str = Field(max_length=20)  # "enterprise" or "adviser"
    adviser_id: int | None = None
    channel: str = Field(max_length=10)
    text: str = Field(sa_column=Column(Text, nullable=False))
    email_message_id: str | None = Field(default=None, max_length=300, unique=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class EnquiryEventRow(SQLModel, table=True):
    """The audit trail: every step of every enquiry, with when and who."""

    __tablename__ = "enquiry_event"

    id: int | None = Field(default=None, primary_key=True)
    enquiry_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("enquiry.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    kind: str = Field(max_length=20)
    actor: str = Field(max_length=120)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class EnquiryTimerRow(SQLModel, table=True):
    """An SLA timer (``ack`` or ``reply``), claimed with a lease like the outbox."""

    __tablename__ = "enquiry_timer"
    __table_args__ = (Index("ix_enquiry_timer_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    enquiry_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("enquiry.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    kind: str = Field(max_length=10)
    adviser_id: int | None = None
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: str = Field(default="pending", max_length=10)
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class MessageRow(SQLModel, table=True):
    """The message outbox: every outgoing message that is not an alert (enquiry messages to
    an enterprise or an adviser, nudges, verification codes, reports), written in the same
    transaction as the change it reports, then claimed, sent and marked by the delivery
    loop — the same loop and rules as the alert outbox (``delivery``).

    ``email_message_id`` is chosen when the row is written, so a retry keeps it and replies
    to the mail can be matched to the enquiry.
    """

    __tablename__ = "message_outbox"
    __table_args__ = (Index("ix_message_outbox_due", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    enquiry_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("enquiry.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    subscriber_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("subscriber.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    recipient: str = Field(max_length=20)  # "enterprise", "adviser", "subscriber", "admin"
    adviser_id: int | None = None
    purpose: str = Field(max_length=20)
    channel: str = Field(max_length=10)
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    email_to: str | None = Field(default=None, max_length=320)
    subject: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    body: str = Field(sa_column=Column(Text, nullable=False))
    body_html: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    buttons: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: Extra mail headers (List-Unsubscribe for nudges, Reply-To per enquiry), as a dict.
    headers: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    email_message_id: str | None = Field(default=None, max_length=300, index=True)
    in_reply_to: str | None = Field(default=None, max_length=300)
    status: str = Field(default="pending", max_length=10)
    due_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    attempts: int = 0
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    message_ref: str | None = Field(default=None, max_length=300)
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    #: A market report this message carries (its charts as photos or inline images, its
    #: CSV attached): the files are stored once with the report, not once per recipient.
    report_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("market_report.id", ondelete="CASCADE"), nullable=True
        ),
    )


class SuppressionRow(SQLModel, table=True):
    """An address bestbot must not mail: the mailbox does not exist (a hard bounce or a 5xx
    at send time), bounced softly too often, or its owner complained. Checked before every
    send, on every outbox."""

    __tablename__ = "email_suppression"

    address: str = Field(primary_key=True, max_length=320)  # lower-cased
    reason: str = Field(max_length=20)  # "gone", "hard_bounce", "soft_bounce", "complaint"
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class TelegramInboxRow(SQLModel, table=True):
    """An update Telegram pushed to the webhook, stored before it is answered 200.

    ``update_id`` is Telegram's own id, so a repeated delivery is stored once. Any worker
    claims rows and handles them: a chat's updates one at a time in ``update_id`` order, so
    a conversation never overtakes itself; different chats in parallel.
    """

    __tablename__ = "telegram_inbox"
    __table_args__ = (Index("ix_telegram_inbox_pending", "status", "chat_key", "update_id"),)

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    #: The chat (else the user) the update belongs to; 0 for updates of neither.
    chat_key: int = Field(sa_column=Column(BigInteger, nullable=False))
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=10)
    attempts: int = 0
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    received_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )
    done_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class SendSlotRow(SQLModel, table=True):
    """The shared send budget of a fleet (PostgreSQL): per key (``global``, ``chat:<id>``)
    the theoretical arrival time of the next message (GCRA). One statement reserves a slot
    for a message; a 429 from Telegram pushes the ``global`` slot past its ``retry_after``,
    pausing every worker."""

    __tablename__ = "send_slot"

    key: str = Field(primary_key=True, max_length=40)
    tat: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class EnquiryDraftRow(SQLModel, table=True):
    """A plain message (sent without Telegram's Reply gesture) waiting for its sender to say
    which of their open enquiries it is about. Kept as a row so a restart, or a press on
    another worker, loses nothing; deleted once sent or dropped."""

    __tablename__ = "enquiry_draft"

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class EmailBounceRow(SQLModel, table=True):
    """One delivery report about one address: a bounce (hard, soft, delayed) or a complaint,
    read from the inbound mailbox. Soft bounces are counted over a window before the address
    is suppressed; ``report_id`` (the report's Message-ID) keeps a report read twice (a
    crash before the mailbox flag) from counting twice."""

    __tablename__ = "email_bounce"
    __table_args__ = (
        UniqueConstraint("report_id", "address", name="uq_email_bounce_report"),
        Index("ix_email_bounce_address", "address", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(max_length=320)  # lower-cased
    kind: str = Field(max_length=20)  # "hard", "soft", "delayed", "complaint"
    status: str | None = Field(default=None, max_length=20)  # RFC 3463 code, e.g. "5.1.1"
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    report_id: str = Field(max_length=300)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class EmailSignupRow(SQLModel, table=True):
    """A sign-up from the public web page, waiting for its owner to confirm by the emailed
    link (double opt-in): nothing is mailed to the address but that one confirmation, and
    no subscriber exists until the link is used."""

    __tablename__ = "email_signup"

    id: int | None = Field(default=None, primary_key=True)
    #: What the confirmation link names (random, never reused).
    public_id: str = Field(
        default_factory=new_public_id, max_length=32, unique=True, index=True, nullable=False
    )
    email: str = Field(max_length=320, index=True)
    name: str | None = Field(default=None, max_length=200)
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    regions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    frequency: str = Field(default="instant", max_length=10)
    confirmed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


# --------------------------------------------------------------------------- market reports


class ReportRow(SQLModel, table=True):
    """A market report as it was made and sent: its figures (the JSON report) and CSV.

    ``key`` names the report's run (``weekly:2025-01-20:UKF``) and is unique, so a weekly
    report is made once however many workers or restarts reach its hour: the report and
    every message that carries it are written in one transaction before any is sent.
    """

    __tablename__ = "market_report"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=100, unique=True)
    region: str = Field(max_length=10)
    window_from: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    window_to: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    csv: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )


class ReportFileRow(SQLModel, table=True):
    """A file of a report (a PNG chart), stored once and attached to each message."""

    __tablename__ = "market_report_file"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("market_report.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    name: str = Field(max_length=100)
    title: str = Field(default="", max_length=200)
    content_type: str = Field(max_length=100)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class PartnerInterestRow(SQLModel, table=True):
    """An enterprise open to bidding with partners for one notice, with its consent to be
    named to SEEM advisers (given on the button's confirmation; withdrawn by deleting)."""

    __tablename__ = "partner_interest"
    __table_args__ = (UniqueConstraint("subscriber_id", "notice_id", name="uq_partner_interest"),)

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("subscriber.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    notice_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("notice.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    consent: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class ForecastShownRow(SQLModel, table=True):
    """A "coming up for re-tender" forecast shown to a subscriber in a weekly digest on one
    channel: each contract is a heads-up once, not every week for six months."""

    __tablename__ = "forecast_shown"
    __table_args__ = (
        UniqueConstraint(
            "subscriber_id", "notice_id", "award_id", "channel", name="uq_forecast_shown"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("subscriber.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    notice_id: int = Field(
        sa_column=Column(Integer, ForeignKey("notice.id", ondelete="CASCADE"), nullable=False)
    )
    award_id: str = Field(max_length=200)
    channel: str = Field(max_length=10)
    shown_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
