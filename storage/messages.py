"""The message outbox: every outgoing message that is not an alert.

Enquiry messages, nudges, verification codes and reports are written here in the same
transaction as the change they report (or as the decision to send them), then claimed,
sent and marked by the one delivery loop (:mod:`bot.delivery.courier`) under the same rules
as alerts: claimed with a lease (:mod:`storage.claims`), the claim extended right before the
send, marked sent only after the channel accepted it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.claims import claim_rows, extend_claim
from storage.models import MessageRow

PENDING, SENT, FAILED, CANCELLED = "pending", "sent", "failed", "cancelled"


@dataclass(frozen=True, kw_only=True)
class NewMessage:
    """One message to queue. Telegram: ``chat_id`` + HTML ``body`` (+ ``buttons`` as rows of
    ``{"text", "callback_data" | "url"}``). Email: ``email_to`` + ``subject`` + plain ``body``
    (+ ``body_html``), with ``email_message_id`` chosen now so replies can be matched."""

    channel: str
    purpose: str
    recipient: str
    body: str
    due_at: datetime
    chat_id: int | None = None
    email_to: str | None = None
    subject: str | None = None
    body_html: str | None = None
    buttons: Sequence[Sequence[dict[str, Any]]] = ()
    headers: dict[str, Any] = field(default_factory=dict)
    email_message_id: str | None = None
    in_reply_to: str | None = None
    enquiry_id: int | None = None
    subscriber_id: int | None = None
    adviser_id: int | None = None
    #: A stored market report the message carries (charts, CSV): :mod:`storage.reports`.
    report_id: int | None = None


def queue_message(session: AsyncSession, message: NewMessage) -> MessageRow:
    """Add the message to the outbox in the caller's transaction."""
    row = MessageRow(
        enquiry_id=message.enquiry_id,
        subscriber_id=message.subscriber_id,
        recipient=message.recipient,
        adviser_id=message.adviser_id,
        purpose=message.purpose,
        channel=message.channel,
        chat_id=message.chat_id,
        email_to=message.email_to,
        subject=message.subject,
        body=message.body,
        body_html=message.body_html,
        buttons=[list(r) for r in message.buttons],
        headers=dict(message.headers),
        email_message_id=message.email_message_id,
        in_reply_to=message.in_reply_to,
        due_at=message.due_at,
        report_id=message.report_id,
    )
    session.add(row)
    return row


async def claim_messages(
    session: AsyncSession,
    worker: str,
    *,
    now: datetime,
    lease: timedelta,
    channel: str,
    limit: int = 100,
) -> list[MessageRow]:
    return await claim_rows(
        session,
        MessageRow,
        worker,
        now=now,
        lease=lease,
        limit=limit,
        pending=PENDING,
        where=(col(MessageRow.channel) == channel,),
    )


async def keep_messages(
    session: AsyncSession, ids: Sequence[int], worker: str, until: datetime
) -> set[int]:
    """Extend ``worker``'s claim right before sending; the ids still its own."""
    return await extend_claim(session, MessageRow, ids, worker, until=until, pending=PENDING)


async def mark_message_sent(
    session: AsyncSession, row_id: int, worker: str, *, ref: str | None, at: datetime
) -> None:
    await session.exec(
        update(MessageRow)
        .where(col(MessageRow.id) == row_id, col(MessageRow.claimed_by) == worker)
        .values(
            status=SENT,
            message_ref=ref,
            sent_at=at,
            claimed_until=None,
            attempts=col(MessageRow.attempts) + 1,
        )
    )


async def mark_message_retry(
    session: AsyncSession,
    row_id: int,
    worker: str,
    error: str,
    *,
    retry_at: datetime,
    max_attempts: int,
    count_attempt: bool = True,
) -> bool:
    """Record a transient failure; True when the message is now failed (out of attempts)."""
    row = await session.get(MessageRow, row_id)
    if row is None or row.claimed_by != worker or row.status != PENDING:
        return False
    if count_attempt:
        row.attempts += 1
    row.last_error, row.claimed_until = error[:500], None
    if row.attempts >= max_attempts:
        row.status = FAILED
    else:
        row.due_at = retry_at
    session.add(row)
    return row.status == FAILED


async def mark_message_final(session: AsyncSession, row_id: int, status: str, reason: str) -> None:
    """End a message without sending it (``failed`` or ``cancelled``), keeping the reason."""
    await session.exec(
        update(MessageRow)
        .where(col(MessageRow.id) == row_id, col(MessageRow.status) == PENDING)
        .values(status=status, last_error=reason[:500], claimed_until=None)
    )


async def pending_messages(session: AsyncSession, *, purpose: str | None = None) -> int:
    """How many messages wait (the health check and the tests read this)."""
    query = select(MessageRow.id).where(col(MessageRow.status) == PENDING)
    if purpose is not None:
        query = query.where(col(MessageRow.purpose) == purpose)
    return len((await session.exec(query)).all())


async def message_status(session: AsyncSession, row_id: int | None) -> str | None:
    """A queued message's status ("pending", "sent", "failed", "cancelled")."""
    row = await session.get(MessageRow, row_id) if row_id is not None else None
    return row.status if row is not None else None
