"""Enquiry storage: advisers, enquiries, their messages, audit events, SLA timers and the
enquiry outbox.

Timers and outgoing messages are claimed like the alert outbox: a short transaction writes
``claimed_by``/``claimed_until`` (PostgreSQL skips rows another worker has locked), the work
is done, then the row is marked. A crash leaves the claim to expire and the row is retried, so
restarts lose nothing and at most the in-flight message is repeated.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, update
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.claims import claim_rows
from storage.models import (
    AdviserRow,
    EnquiryChatStateRow,
    EnquiryEventRow,
    EnquiryMessageRow,
    EnquiryOutboxRow,
    EnquiryRow,
    EnquiryTimerRow,
    SubscriberRow,
)
from storage.types import utcnow

OPEN, ACCEPTED, RESOLVED = "open", "accepted", "resolved"
LIVE = (OPEN, ACCEPTED)
PENDING, DONE, SENT, FAILED, CANCELLED = "pending", "done", "sent", "failed", "cancelled"

REFERENCE_PREFIX = "ENQ-"


def reference(enquiry_id: int) -> str:
    """The reference people quote: ``ENQ-000123``."""
    return f"{REFERENCE_PREFIX}{enquiry_id:06d}"


# --------------------------------------------------------------------------- advisers


@dataclass(frozen=True, slots=True)
class AdviserInput:
    code: str
    name: str
    topics: Sequence[str]
    capacity: int
    regions: Sequence[str] = ()
    away: bool = False
    email: str | None = None
    telegram_id: int | None = None


async def upsert_advisers(session: AsyncSession, items: Sequence[AdviserInput]) -> tuple[int, int]:
    """Add or update advisers by roster id; returns (added, updated). A Telegram id linked
    through an invite is kept when the file has none."""
    added = updated = 0
    for item in items:
        row = (await session.exec(select(AdviserRow).where(AdviserRow.code == item.code))).first()
        if row is None:
            row = AdviserRow(code=item.code, name=item.name)
            added += 1
        else:
            updated += 1
        row.name = item.name
        row.topics = list(item.topics)
        row.regions = list(item.regions)
        row.capacity = item.capacity
        row.away = item.away
        row.away_until = None
        row.email = item.email.strip().lower() if item.email else None
        if item.telegram_id is not None:
            row.telegram_id = item.telegram_id
        row.active = True
        session.add(row)
        await session.flush()
    return added, updated


async def list_advisers(session: AsyncSession, *, active_only: bool = True) -> list[AdviserRow]:
    query = select(AdviserRow).order_by(col(AdviserRow.code))
    if active_only:
        query = query.where(AdviserRow.active == True)  # noqa: E712
    return list((await session.exec(query)).all())


async def adviser_by_code(session: AsyncSession, code: str) -> AdviserRow | None:
    return (await session.exec(select(AdviserRow).where(AdviserRow.code == code))).first()


async def adviser_by_telegram(session: AsyncSession, telegram_id: int) -> AdviserRow | None:
    query = select(AdviserRow).where(
        AdviserRow.telegram_id == telegram_id,
        AdviserRow.active == True,  # noqa: E712
    )
    return (await session.exec(query)).first()


async def adviser_by_email(session: AsyncSession, address: str) -> AdviserRow | None:
    query = select(AdviserRow).where(
        AdviserRow.email == address.strip().lower(),
        AdviserRow.active == True,  # noqa: E712
    )
    return (await session.exec(query)).first()


def is_away(adviser: AdviserRow, now: datetime) -> bool:
    """Away now: the flag, unless a given return date has passed."""
    if not adviser.away:
        return False
    return adviser.away_until is None or adviser.away_until > now


async def open_loads(session: AsyncSession) -> dict[int, int]:
    """Live (open or accepted) enquiries per adviser."""
    query = (
        select(EnquiryRow.adviser_id, func.count())
        .where(col(EnquiryRow.status).in_(LIVE), col(EnquiryRow.adviser_id).is_not(None))
        .group_by(col(EnquiryRow.adviser_id))
    )
    return {int(a): int(n) for a, n in (await session.exec(query)).all() if a is not None}


# --------------------------------------------------------------------------- enquiries


async def subscriber_for(
    session: AsyncSession, chat_id: int | None, email: str | None
) -> SubscriberRow | None:
    """The subscriber behind a chat or an address, if there is one."""
    if chat_id is not None:
        query = select(SubscriberRow).where(SubscriberRow.telegram_chat_id == chat_id)
        found = (await session.exec(query)).first()
        if found is not None:
            return found
    if email:
        query = select(SubscriberRow).where(
            func.lower(col(SubscriberRow.email)) == email.strip().lower()
        )
        return (await session.exec(query)).first()
    return None


async def message_by_email_id(session: AsyncSession, message_id: str) -> EnquiryMessageRow | None:
    query = select(EnquiryMessageRow).where(EnquiryMessageRow.email_message_id == message_id)
    return (await session.exec(query)).first()


async def enquiry_by_email_ids(session: AsyncSession, ids: Sequence[str]) -> EnquiryRow | None:
    """The enquiry one of ``ids`` (In-Reply-To, References) belongs to: a mail we sent
    about it, or one we received for it."""
    wanted = [i for i in ids if i][:50]
    if not wanted:
        return None
    sent = select(EnquiryOutboxRow.enquiry_id).where(
        col(EnquiryOutboxRow.email_message_id).in_(wanted)
    )
    got = select(EnquiryMessageRow.enquiry_id).where(
        col(EnquiryMessageRow.email_message_id).in_(wanted)
    )
    for query in (sent, got):
        found = (await session.exec(query.limit(1))).first()
        if found is not None:
            return await session.get(EnquiryRow, found)
    return None


async def enquiry_for_message(
    session: AsyncSession, chat_id: int, message_id: int
) -> tuple[EnquiryRow, EnquiryOutboxRow] | None:
    """The enquiry a Telegram message of ours (in ``chat_id``) was about."""
    query = (
        select(EnquiryOutboxRow)
        .where(
            EnquiryOutboxRow.channel == "telegram",
            EnquiryOutboxRow.chat_id == chat_id,
            EnquiryOutboxRow.message_ref == str(message_id),
        )
        .limit(1)
    )
    row = (await session.exec(query)).first()
    if row is None:
        return None
    enquiry = await session.get(EnquiryRow, row.enquiry_id)
    return (enquiry, row) if enquiry is not None else None


async def add_event(
    session: AsyncSession,
    enquiry_id: int,
    kind: str,
    actor: str,
    at: datetime | None = None,
    **detail: Any,
) -> None:
    session.add(
        EnquiryEventRow(
            enquiry_id=enquiry_id, kind=kind, actor=actor, detail=detail, at=at or utcnow()
        )
    )


async def events(session: AsyncSession, enquiry_id: int) -> list[EnquiryEventRow]:
    query = (
        select(EnquiryEventRow)
        .where(EnquiryEventRow.enquiry_id == enquiry_id)
        .order_by(col(EnquiryEventRow.id))
    )
    return list((await session.exec(query)).all())


async def live_for_adviser(session: AsyncSession, adviser_id: int) -> list[EnquiryRow]:
    query = (
        select(EnquiryRow)
        .where(EnquiryRow.adviser_id == adviser_id, col(EnquiryRow.status).in_(LIVE))
        .order_by(col(EnquiryRow.created_at))
    )
    return list((await session.exec(query)).all())


async def enquiries_for_subscriber(session: AsyncSession, subscriber_id: int) -> list[EnquiryRow]:
    """For ``/mydata``: every enquiry of a subscriber (deleted with it by ON DELETE CASCADE)."""
    query = (
        select(EnquiryRow)
        .where(EnquiryRow.subscriber_id == subscriber_id)
        .order_by(col(EnquiryRow.id))
    )
    return list((await session.exec(query)).all())


async def forget_enquirer(
    session: AsyncSession, chat_id: int | None = None, email: str | None = None
) -> int:
    """Delete the enquiries of a chat or an address that is not (or no longer) a subscriber,
    with their messages, events, timers and outbox rows; returns how many."""
    conditions = []
    if chat_id is not None:
        conditions.append(col(EnquiryRow.telegram_chat_id) == chat_id)
    if email:
        conditions.append(func.lower(col(EnquiryRow.email)) == email.strip().lower())
    if not conditions:
        return 0
    ids = list((await session.exec(select(EnquiryRow.id).where(or_(*conditions)))).all())
    if not ids:
        return 0
    for model in (EnquiryMessageRow, EnquiryEventRow, EnquiryTimerRow, EnquiryOutboxRow):
        await session.exec(delete(model).where(col(model.enquiry_id).in_(ids)))
    await session.exec(delete(EnquiryRow).where(col(EnquiryRow.id).in_(ids)))
    if chat_id is not None:
        await session.exec(
            delete(EnquiryChatStateRow).where(col(EnquiryChatStateRow.chat_id) == chat_id)
        )
    return len(ids)


# --------------------------------------------------------------------------- chat state


async def set_chat_state(
    session: AsyncSession, chat_id: int, awaiting: str, expires_at: datetime, notice_id: int | None
) -> None:
    row = await session.get(EnquiryChatStateRow, chat_id)
    if row is None:
        row = EnquiryChatStateRow(chat_id=chat_id, awaiting=awaiting, expires_at=expires_at)
    row.awaiting, row.expires_at, row.notice_id = awaiting, expires_at, notice_id
    session.add(row)


async def pop_chat_state(
    session: AsyncSession, chat_id: int, now: datetime
) -> EnquiryChatStateRow | None:
    """The chat's pending step (removed), or None when there is none or it expired."""
    row = await session.get(EnquiryChatStateRow, chat_id)
    if row is None:
        return None
    await session.delete(row)
    return row if row.expires_at > now else None


async def has_chat_state(session: AsyncSession, chat_id: int) -> bool:
    return await session.get(EnquiryChatStateRow, chat_id) is not None


# --------------------------------------------------------------------------- timers


async def add_timer(
    session: AsyncSession, enquiry_id: int, kind: str, adviser_id: int | None, due_at: datetime
) -> None:
    session.add(
        EnquiryTimerRow(enquiry_id=enquiry_id, kind=kind, adviser_id=adviser_id, due_at=due_at)
    )


async def cancel_timers(session: AsyncSession, enquiry_id: int, kinds: Sequence[str]) -> None:
    await session.exec(
        update(EnquiryTimerRow)
        .where(
            col(EnquiryTimerRow.enquiry_id) == enquiry_id,
            col(EnquiryTimerRow.kind).in_(list(kinds)),
            col(EnquiryTimerRow.status) == PENDING,
        )
        .values(status=CANCELLED, claimed_until=None)
    )


async def claim_timers(
    session: AsyncSession, worker: str, now: datetime, lease: timedelta, limit: int = 100
) -> list[EnquiryTimerRow]:
    return await claim_rows(
        session, EnquiryTimerRow, worker, now=now, lease=lease, limit=limit, pending=PENDING
    )


# --------------------------------------------------------------------------- outbox


async def claim_outbox(
    session: AsyncSession,
    worker: str,
    now: datetime,
    lease: timedelta,
    channels: Sequence[str],
    limit: int = 100,
) -> list[EnquiryOutboxRow]:
    return await claim_rows(
        session,
        EnquiryOutboxRow,
        worker,
        now=now,
        lease=lease,
        limit=limit,
        pending=PENDING,
        where=(col(EnquiryOutboxRow.channel).in_(list(channels)),),
    )


async def finish_outbox(
    session: AsyncSession,
    row_id: int,
    worker: str,
    status: str,
    *,
    message_ref: str | None = None,
    error: str | None = None,
    retry_at: datetime | None = None,
    max_attempts: int = 8,
) -> None:
    """Record one send: ``sent`` (with the message reference), ``failed``, or a retry."""
    row = await session.get(EnquiryOutboxRow, row_id)
    if row is None or row.claimed_by != worker or row.status != PENDING:
        return
    row.attempts += 1
    row.claimed_until = None
    row.last_error = error[:500] if error else row.last_error
    if status == SENT:
        row.status, row.message_ref, row.sent_at = SENT, message_ref, utcnow()
    elif status == PENDING and retry_at is not None and row.attempts < max_attempts:
        row.due_at = retry_at
    else:
        row.status = FAILED
    session.add(row)


# --------------------------------------------------------------------------- reports


@dataclass
class EnquiryStats:
    total: int = 0
    open: int = 0
    overdue: int = 0
    resolved: int = 0
    median_first_response: timedelta | None = None
    by_topic: Counter[str] = field(default_factory=Counter)
    open_by_topic: Counter[str] = field(default_factory=Counter)
    by_adviser: Counter[str] = field(default_factory=Counter)
    open_by_adviser: Counter[str] = field(default_factory=Counter)
    ratings_up: int = 0
    ratings_down: int = 0


def is_overdue(enquiry: EnquiryRow, now: datetime) -> bool:
    """Open past its acknowledgement time, or accepted with no answer past its reply time."""
    if enquiry.status == OPEN:
        return enquiry.ack_due_at is not None and enquiry.ack_due_at < now
    if enquiry.status == ACCEPTED:
        return (
            enquiry.first_response_at is None
            and enquiry.reply_due_at is not None
            and enquiry.reply_due_at < now
        )
    return False


async def enquiry_stats(session: AsyncSession, now: datetime) -> EnquiryStats:
    stats = EnquiryStats()
    names = {a.id: a.name for a in await list_advisers(session, active_only=False)}
    waits: list[float] = []
    for row in (await session.exec(select(EnquiryRow))).all():
        stats.total += 1
        stats.by_topic[row.topic] += 1
        who = names.get(row.adviser_id, "unassigned") if row.adviser_id else "unassigned"
        stats.by_adviser[who] += 1
        if row.status in LIVE:
            stats.open += 1
            stats.open_by_topic[row.topic] += 1
            stats.open_by_adviser[who] += 1
            stats.overdue += is_overdue(row, now)
        else:
            stats.resolved += 1
        if row.first_response_at is not None:
            waits.append((row.first_response_at - row.created_at).total_seconds())
        if row.rating is not None:
            if row.rating > 0:
                stats.ratings_up += 1
            else:
                stats.ratings_down += 1
    if waits:
        stats.median_first_response = timedelta(seconds=statistics.median(waits))
    return stats


async def export_rows(session: AsyncSession) -> list[dict[str, Any]]:
    """One flat record per enquiry, for ``bestbot enquiries export`` (no message text)."""
    names = {a.id: a.code for a in await list_advisers(session, active_only=False)}
    out = []
    query = select(EnquiryRow).order_by(col(EnquiryRow.id))
    for row in (await session.exec(query)).all():
        assert row.id is not None
        out.append(
            {
                "reference": reference(row.id),
                "channel": row.channel,
                "topic": row.topic,
                "region": row.region or "",
                "confidence": f"{row.confidence:.2f}",
                "status": row.status,
                "adviser": names.get(row.adviser_id, "") if row.adviser_id else "",
                "created_at": _iso(row.created_at),
                "accepted_at": _iso(row.accepted_at),
                "first_response_at": _iso(row.first_response_at),
                "resolved_at": _iso(row.resolved_at),
                "rating": "" if row.rating is None else ("up" if row.rating > 0 else "down"),
                "passed_on": len(row.excluded or ()),
            }
        )
    return out


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""


async def export_for_subscriber(session: AsyncSession, subscriber_id: int) -> list[dict[str, Any]]:
    """For ``/mydata``: each enquiry with its conversation (advisers shown by role only)."""
    out: list[dict[str, Any]] = []
    for enquiry in await enquiries_for_subscriber(session, subscriber_id):
        messages = await session.exec(
            select(EnquiryMessageRow)
            .where(col(EnquiryMessageRow.enquiry_id) == enquiry.id)
            .order_by(col(EnquiryMessageRow.id))
        )
        row = enquiry.model_dump(mode="json")
        row["messages"] = [
            {
                "from": m.author,
                "channel": m.channel,
                "text": m.text,
                "at": m.created_at.isoformat(),
            }
            for m in messages
        ]
        out.append(row)
    return out
