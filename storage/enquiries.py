"""Enquiry storage: advisers, enquiries, their messages, audit events and SLA timers.

Outgoing enquiry messages live in the message outbox (:mod:`storage.messages`) with their
``enquiry_id``. Timers are claimed like every queue (:mod:`storage.claims`): a crash leaves
the claim to expire and the timer is fired again, so restarts lose nothing.
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
    ChatStateRow,
    EnquiryDraftRow,
    EnquiryEventRow,
    EnquiryMessageRow,
    EnquiryRow,
    EnquiryTimerRow,
    MessageRow,
    NoticeRow,
    ProfileRow,
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
    sent = select(MessageRow.enquiry_id).where(
        col(MessageRow.email_message_id).in_(wanted), col(MessageRow.enquiry_id).is_not(None)
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
) -> tuple[EnquiryRow, MessageRow] | None:
    """The enquiry a Telegram message of ours (in ``chat_id``) was about."""
    query = (
        select(MessageRow)
        .where(
            MessageRow.channel == "telegram",
            MessageRow.chat_id == chat_id,
            MessageRow.message_ref == str(message_id),
            col(MessageRow.enquiry_id).is_not(None),
        )
        .limit(1)
    )
    row = (await session.exec(query)).first()
    if row is None or row.enquiry_id is None:
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
    for model in (EnquiryMessageRow, EnquiryEventRow, EnquiryTimerRow, MessageRow):
        await session.exec(delete(model).where(col(model.enquiry_id).in_(ids)))
    await session.exec(delete(EnquiryRow).where(col(EnquiryRow.id).in_(ids)))
    if chat_id is not None:
        await session.exec(delete(ChatStateRow).where(col(ChatStateRow.chat_id) == chat_id))
    return len(ids)


# --------------------------------------------------------------------------- drafts

DRAFT_TTL = timedelta(days=7)


async def add_draft(
    session: AsyncSession, chat_id: int, user_id: int, text: str, now: datetime
) -> int:
    """Keep a plain message until its sender says which enquiry it is about; the id.
    Drafts older than :data:`DRAFT_TTL` are cleared on the way."""
    await session.exec(
        delete(EnquiryDraftRow).where(col(EnquiryDraftRow.created_at) < now - DRAFT_TTL)
    )
    row = EnquiryDraftRow(chat_id=chat_id, user_id=user_id, text=text, created_at=now)
    session.add(row)
    await session.flush()
    assert row.id is not None
    return row.id


async def get_draft(
    session: AsyncSession, draft_id: int, chat_id: int, now: datetime
) -> EnquiryDraftRow | None:
    """The chat's draft ``draft_id`` (another chat's, or one past its time, is None)."""
    row = await session.get(EnquiryDraftRow, draft_id)
    if row is None or row.chat_id != chat_id or row.created_at < now - DRAFT_TTL:
        return None
    return row


async def drop_draft(session: AsyncSession, draft_id: int, chat_id: int) -> None:
    await session.exec(
        delete(EnquiryDraftRow).where(
            col(EnquiryDraftRow.id) == draft_id, col(EnquiryDraftRow.chat_id) == chat_id
        )
    )


async def forget_drafts(session: AsyncSession, chat_id: int) -> None:
    await session.exec(delete(EnquiryDraftRow).where(col(EnquiryDraftRow.chat_id) == chat_id))


async def buttoned_messages(
    session: AsyncSession, enquiry_id: int, adviser_id: int
) -> list[MessageRow]:
    """Telegram messages sent to an adviser about an enquiry that still carry buttons."""
    query = select(MessageRow).where(
        MessageRow.enquiry_id == enquiry_id,
        MessageRow.adviser_id == adviser_id,
        MessageRow.recipient == "adviser",
        MessageRow.channel == "telegram",
        MessageRow.status == SENT,
        col(MessageRow.message_ref).is_not(None),
    )
    return [row for row in (await session.exec(query)).all() if row.buttons]


async def enquiries_of_chat(session: AsyncSession, chat_id: int) -> list[int]:
    """The ids of every enquiry asked from a chat."""
    query = select(EnquiryRow.id).where(col(EnquiryRow.telegram_chat_id) == chat_id)
    return [i for i in (await session.exec(query)).all() if i is not None]


async def live_for_chat_or_subscriber(
    session: AsyncSession, chat_id: int, subscriber_id: int | None
) -> list[EnquiryRow]:
    """Open enquiries of a chat, or of the subscriber behind it (for ``/forget``)."""
    condition = col(EnquiryRow.telegram_chat_id) == chat_id
    if subscriber_id is not None:
        condition = or_(condition, col(EnquiryRow.subscriber_id) == subscriber_id)
    query = (
        select(EnquiryRow)
        .where(condition, col(EnquiryRow.status).in_(LIVE))
        .order_by(col(EnquiryRow.created_at))
    )
    return list((await session.exec(query)).all())


# --------------------------------------------------------------------------- the workflow's rows


async def get_enquiry(session: AsyncSession, enquiry_id: int) -> EnquiryRow | None:
    return await session.get(EnquiryRow, enquiry_id)


async def get_adviser(session: AsyncSession, adviser_id: int | None) -> AdviserRow | None:
    return await session.get(AdviserRow, adviser_id) if adviser_id is not None else None


def save(session: AsyncSession, *rows: Any) -> None:
    """Write changed rows back in the caller's transaction."""
    for row in rows:
        session.add(row)


async def new_enquiry(session: AsyncSession, **values: Any) -> EnquiryRow:
    """A new enquiry row with its id (flushed)."""
    enquiry = EnquiryRow(**values)
    session.add(enquiry)
    await session.flush()
    return enquiry


def add_message(
    session: AsyncSession,
    enquiry_id: int,
    author: str,
    channel: str,
    text: str,
    at: datetime,
    *,
    email_message_id: str | None = None,
    adviser_id: int | None = None,
) -> None:
    """One message of the conversation (the enterprise's or an adviser's)."""
    session.add(
        EnquiryMessageRow(
            enquiry_id=enquiry_id,
            author=author,
            adviser_id=adviser_id,
            channel=channel,
            text=text,
            email_message_id=email_message_id,
            created_at=at,
        )
    )


async def messages_of(session: AsyncSession, enquiry_id: int) -> list[EnquiryMessageRow]:
    """An enquiry's conversation, oldest first."""
    query = (
        select(EnquiryMessageRow)
        .where(EnquiryMessageRow.enquiry_id == enquiry_id)
        .order_by(col(EnquiryMessageRow.id))
    )
    return list((await session.exec(query)).all())


async def last_author(session: AsyncSession, enquiry_id: int) -> str | None:
    """Who wrote the latest message of an enquiry ("enterprise" or "adviser")."""
    query = (
        select(EnquiryMessageRow.author)
        .where(EnquiryMessageRow.enquiry_id == enquiry_id)
        .order_by(col(EnquiryMessageRow.id).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()


async def live_of_advisers(session: AsyncSession, adviser_ids: Sequence[int]) -> list[EnquiryRow]:
    if not adviser_ids:
        return []
    query = select(EnquiryRow).where(
        col(EnquiryRow.status).in_(LIVE), col(EnquiryRow.adviser_id).in_(list(adviser_ids))
    )
    return list((await session.exec(query)).all())


async def live_for_chat(session: AsyncSession, chat_id: int) -> list[EnquiryRow]:
    """The open enquiries an enterprise's chat has, oldest first."""
    query = (
        select(EnquiryRow)
        .where(EnquiryRow.telegram_chat_id == chat_id, col(EnquiryRow.status).in_(LIVE))
        .order_by(col(EnquiryRow.created_at))
    )
    return list((await session.exec(query)).all())


@dataclass(frozen=True, slots=True)
class Enterprise:
    """What an adviser is told about who is asking (from the alerts profile, if any)."""

    subscriber_id: int | None
    name: str | None
    keywords: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    vcse_only: bool = False
    frequency: str | None = None
    paused: bool = False


async def enterprise(
    session: AsyncSession,
    *,
    subscriber_id: int | None = None,
    chat_id: int | None = None,
    email: str | None = None,
) -> Enterprise | None:
    """The alerts subscriber behind an id, a chat or an address, with their profile."""
    sub = await session.get(SubscriberRow, subscriber_id) if subscriber_id else None
    if sub is None and subscriber_id is None:
        sub = await subscriber_for(session, chat_id, email)
    if sub is None or sub.id is None:
        return None
    profile = (
        await session.exec(select(ProfileRow).where(ProfileRow.subscriber_id == sub.id))
    ).first()
    return Enterprise(
        subscriber_id=sub.id,
        name=sub.name,
        keywords=tuple(map(str, profile.keywords)) if profile else (),
        regions=tuple(map(str, profile.regions)) if profile else (),
        vcse_only=bool(profile and profile.vcse_only),
        frequency=sub.frequency,
        paused=sub.paused,
    )


@dataclass(frozen=True, slots=True)
class NoticeBrief:
    """The notice an enquiry is about, as the adviser's brief shows it."""

    id: int
    title: str
    url: str | None
    buyer: str | None
    deadline: datetime | None
    description: str = ""


async def notice_brief(session: AsyncSession, notice_id: int | None) -> NoticeBrief | None:
    if notice_id is None:
        return None
    row = await session.get(NoticeRow, notice_id)
    if row is None or row.id is None:
        return None
    data = row.data or {}
    return NoticeBrief(
        id=row.id,
        title=row.title,
        url=data.get("url"),
        buyer=data.get("buyer"),
        deadline=row.deadline,
        description=str(data.get("description") or ""),
    )


async def set_adviser_away(
    session: AsyncSession, telegram_id: int, away: bool, until: datetime | None
) -> AdviserRow | None:
    adviser = await adviser_by_telegram(session, telegram_id)
    if adviser is not None:
        adviser.away, adviser.away_until = away, (until if away else None)
        session.add(adviser)
    return adviser


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


async def finish_timer(session: AsyncSession, timer_id: int | None, worker: str) -> None:
    """Mark a fired timer done (only if this worker still holds it)."""
    row = await session.get(EnquiryTimerRow, timer_id) if timer_id is not None else None
    if row is not None and row.claimed_by == worker:
        row.status, row.claimed_until = DONE, None
        session.add(row)


async def claim_timers(
    session: AsyncSession, worker: str, now: datetime, lease: timedelta, limit: int = 100
) -> list[EnquiryTimerRow]:
    return await claim_rows(
        session, EnquiryTimerRow, worker, now=now, lease=lease, limit=limit, pending=PENDING
    )


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
    return await _export(session, await enquiries_for_subscriber(session, subscriber_id))


async def questions_of_chat(session: AsyncSession, chat_id: int) -> list[EnquiryRow]:
    """The enquiries a chat made without being (or while not) a subscriber."""
    query = (
        select(EnquiryRow)
        .where(col(EnquiryRow.telegram_chat_id) == chat_id, col(EnquiryRow.subscriber_id).is_(None))
        .order_by(col(EnquiryRow.id))
    )
    return list((await session.exec(query)).all())


async def export_for_chat(session: AsyncSession, chat_id: int) -> list[dict[str, Any]]:
    """For ``/mydata`` from someone who only asked questions: those, with their conversation."""
    return await _export(session, await questions_of_chat(session, chat_id))


async def _export(session: AsyncSession, enquiries: Sequence[EnquiryRow]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for enquiry in enquiries:
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


async def quotes_mail_to(
    session: AsyncSession, enquiry_id: int, adviser_id: int, quoted: Sequence[str]
) -> bool:
    """Whether one of ``quoted`` (In-Reply-To / References) is a mail bestbot sent to this
    adviser about this enquiry: the proof that a reply answers our mail."""
    wanted = [q for q in quoted if q][:50]
    if not wanted:
        return False
    query = (
        select(MessageRow.id)
        .where(
            MessageRow.enquiry_id == enquiry_id,
            MessageRow.adviser_id == adviser_id,
            col(MessageRow.email_message_id).in_(wanted),
        )
        .limit(1)
    )
    return (await session.exec(query)).first() is not None
