"""What the alert buttons change: feedback, muted keywords, reminders, pause.

Every operation is idempotent, because Telegram may deliver a callback twice
and people press buttons twice: the latest 👍/👎 wins, muting a keyword that is
already gone changes nothing, and reminders go through the outbox's unique
constraint. Ownership (is this delivery really the presser's?) is checked by
:func:`delivery_for_chat` on every press: callback data can be forged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from feeds.kinds import FOLLOW_UP, KINDS, NEVER
from feeds.notice import Notice, first_deadline
from storage.models import DeliveryRow, FeedbackRow, NoticeRow, ProfileRow, SubscriberRow
from storage.outbox import CANCELLED, PENDING, NewDelivery, enqueue
from storage.types import utcnow

REMINDER = "reminder"
#: Reminders do not depend on the notice version: one per notice, channel and lead time.
REMINDER_VERSION = 0


@dataclass(frozen=True, slots=True)
class Owned:
    """A delivery together with the subscriber it belongs to."""

    delivery: DeliveryRow
    subscriber: SubscriberRow


async def subscriber_by_chat(session: AsyncSession, chat_id: int) -> SubscriberRow | None:
    query = select(SubscriberRow).where(SubscriberRow.telegram_chat_id == chat_id)
    return (await session.exec(query)).first()


async def delivery_for_chat(session: AsyncSession, delivery_id: int, chat_id: int) -> Owned | None:
    """The delivery if it belongs to the subscriber of ``chat_id``, else None.

    None also for an unknown delivery: the caller cannot tell the difference,
    so a forged id reveals nothing about other people's deliveries.
    """
    query = (
        select(DeliveryRow, SubscriberRow)
        .join(SubscriberRow, col(SubscriberRow.id) == col(DeliveryRow.subscriber_id))
        .where(DeliveryRow.id == delivery_id)
    )
    found = (await session.exec(query)).first()
    if found is None:
        return None
    delivery, subscriber = found
    if subscriber.telegram_chat_id is None or subscriber.telegram_chat_id != chat_id:
        return None
    return Owned(delivery, subscriber)


# --------------------------------------------------------------------------- feedback


async def record_feedback(
    session: AsyncSession, subscriber_id: int, notice_id: int, relevant: bool
) -> None:
    """Store 👍/👎 for (subscriber, notice); a later press replaces an earlier one."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    values = {
        "subscriber_id": subscriber_id,
        "notice_id": notice_id,
        "relevant": relevant,
        "created_at": utcnow(),
    }
    stmt = insert(FeedbackRow).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["subscriber_id", "notice_id"],
        set_={"relevant": stmt.excluded.relevant, "created_at": stmt.excluded.created_at},
    )
    await session.exec(stmt)


@dataclass(frozen=True, slots=True)
class NoticeFeedback:
    notice_id: int
    title: str
    relevant: int
    not_relevant: int


@dataclass(frozen=True, slots=True)
class KeywordFeedback:
    keyword: str  # casefolded, as it matched
    relevant: int
    not_relevant: int


@dataclass(frozen=True, slots=True)
class FeedbackTotals:
    """👍/👎 summed per notice (most feedback first), per matched keyword (most 👎 first) and
    overall, for admins: which keywords bring alerts people reject is what to help an
    enterprise change."""

    notices: list[NoticeFeedback] = field(default_factory=list)
    relevant: int = 0
    not_relevant: int = 0
    keywords: list[KeywordFeedback] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.relevant + self.not_relevant


async def feedback_totals(session: AsyncSession) -> FeedbackTotals:
    relevant = func.sum(case((col(FeedbackRow.relevant).is_(True), 1), else_=0))
    count = func.count(col(FeedbackRow.id))
    query = (
        select(col(FeedbackRow.notice_id), col(NoticeRow.title), relevant, count)
        .join(NoticeRow, col(NoticeRow.id) == col(FeedbackRow.notice_id))
        .group_by(col(FeedbackRow.notice_id), col(NoticeRow.title))
        .order_by(count.desc(), col(FeedbackRow.notice_id))
    )
    rows = (await session.exec(query)).all()
    notices = [
        NoticeFeedback(int(nid), title, int(up or 0), int(n) - int(up or 0))
        for nid, title, up, n in rows
    ]
    return FeedbackTotals(
        notices,
        relevant=sum(n.relevant for n in notices),
        not_relevant=sum(n.not_relevant for n in notices),
        keywords=await _keyword_feedback(session),
    )


async def _keyword_feedback(session: AsyncSession) -> list[KeywordFeedback]:
    """Each 👍/👎 counted once for every keyword its alert was matched by."""
    query = select(col(FeedbackRow.id), col(FeedbackRow.relevant), col(DeliveryRow.keywords)).join(
        DeliveryRow,
        (col(DeliveryRow.subscriber_id) == col(FeedbackRow.subscriber_id))
        & (col(DeliveryRow.notice_id) == col(FeedbackRow.notice_id)),
    )
    words: dict[int, tuple[bool, set[str]]] = {}
    for feedback_id, relevant, keywords in (await session.exec(query)).all():
        if feedback_id is None:
            continue
        _, seen = words.setdefault(feedback_id, (bool(relevant), set()))
        seen.update(k.casefold() for k in keywords or () if isinstance(k, str))
    counts: dict[str, list[int]] = {}
    for relevant, seen in words.values():
        for keyword in seen:
            counts.setdefault(keyword, [0, 0])[0 if relevant else 1] += 1
    rows = [KeywordFeedback(k, up, down) for k, (up, down) in counts.items()]
    return sorted(rows, key=lambda r: (-r.not_relevant, -r.relevant, r.keyword))


# --------------------------------------------------------------------------- keywords


async def _profile(session: AsyncSession, subscriber_id: int) -> ProfileRow | None:
    query = select(ProfileRow).where(ProfileRow.subscriber_id == subscriber_id)
    return (await session.exec(query)).first()


async def mute_keyword(session: AsyncSession, subscriber_id: int, keyword: str) -> bool:
    """Remove ``keyword`` (any case) from the profile; False if it was not there."""
    profile = await _profile(session, subscriber_id)
    if profile is None:
        return False
    wanted = keyword.casefold()
    kept = [k for k in profile.keywords if k.casefold() != wanted]
    if len(kept) == len(profile.keywords):
        return False
    profile.keywords = kept  # a new list, so SQLAlchemy sees the JSON change
    profile.updated_at = utcnow()
    session.add(profile)
    return True


async def unmute_keyword(session: AsyncSession, subscriber_id: int, keyword: str) -> bool:
    """Put ``keyword`` back; False if the profile already has it (in any case)."""
    profile = await _profile(session, subscriber_id)
    if profile is None:
        profile = ProfileRow(subscriber_id=subscriber_id, keywords=[])
    wanted = keyword.casefold()
    if any(k.casefold() == wanted for k in profile.keywords):
        return False
    profile.keywords = [*profile.keywords, keyword]
    profile.updated_at = utcnow()
    session.add(profile)
    return True


# --------------------------------------------------------------------------- reminders


def active_channels(sub: SubscriberRow) -> list[str]:
    channels = []
    if sub.telegram_active and sub.telegram_chat_id is not None:
        channels.append("telegram")
    if sub.email_active and sub.email:
        channels.append("email")
    return channels


def variant_for(before: timedelta) -> str:
    """``3 days`` -> ``"3d"`` (the dispatcher reads the number of days back from it)."""
    return f"{before.days}d"


@dataclass(frozen=True, slots=True)
class ReminderPlan:
    """What pressing ⏰ did: the reminder times (UTC), and how many rows were new."""

    deadline: datetime | None
    closed: bool
    times: list[datetime]
    created: int = 0


async def schedule_reminders(
    session: AsyncSession,
    owned: Owned,
    now: datetime,
    before: Sequence[timedelta] = (timedelta(days=3), timedelta(days=1)),
) -> ReminderPlan:
    """Enqueue reminders ``before`` the notice's deadline, on each active channel.

    Only times still in the future are used. Pressing twice creates nothing
    more (the outbox's unique key); if the deadline moved since, reminders not
    yet sent follow it.
    """
    delivery, sub = owned.delivery, owned.subscriber
    notice = await session.get(NoticeRow, delivery.notice_id)
    if notice is None:
        return ReminderPlan(None, closed=False, times=[])
    if _history(notice):  # awarded, signed, cancelled: nothing left to remind of
        return ReminderPlan(notice.deadline, closed=True, times=[])
    deadline = notice_first_deadline(notice)
    if deadline is None:
        return ReminderPlan(None, closed=False, times=[])
    if deadline <= now:
        return ReminderPlan(deadline, closed=True, times=[])
    plan = sorted(
        ((deadline - lead, variant_for(lead)) for lead in before if deadline - lead > now),
        key=lambda item: item[0],
    )
    assert sub.id is not None
    new = [
        NewDelivery(
            subscriber_id=sub.id,
            notice_id=delivery.notice_id,
            version=REMINDER_VERSION,
            channel=channel,
            due_at=when,
            kind=REMINDER,
            variant=variant,
            reasons=tuple(delivery.reasons),
            keywords=tuple(delivery.keywords),
        )
        for when, variant in plan
        for channel in active_channels(sub)
    ]
    created = await enqueue(session, new)
    await _follow_deadline(session, sub.id, delivery.notice_id, dict((v, w) for w, v in plan))
    return ReminderPlan(deadline, closed=False, times=[when for when, _ in plan], created=created)


def _as_notice(row: NoticeRow) -> Notice | None:
    try:
        return Notice.from_json_dict({"source": row.source, "ocid": row.ocid, **(row.data or {})})
    except (KeyError, TypeError, ValueError):
        return None


def notice_first_deadline(row: NoticeRow) -> datetime | None:
    """The deadline a supplier must meet first (:func:`feeds.notice.first_deadline`): a
    two-stage tender's request to take part, a market engagement's close, else the tender
    deadline. Reminders are set before it."""
    notice = _as_notice(row)
    return first_deadline(notice) if notice is not None else row.deadline


def _history(row: NoticeRow) -> bool:
    """Nothing to be reminded of: an award, a contract, a cancellation."""
    notice = _as_notice(row)
    if notice is None:
        return row.stage in {"cancelled", "award", "contract"}
    return KINDS[notice.kind].delivery in (NEVER, FOLLOW_UP)


async def _follow_deadline(
    session: AsyncSession, subscriber_id: int, notice_id: int, due: dict[str, datetime]
) -> None:
    query = select(DeliveryRow).where(
        DeliveryRow.subscriber_id == subscriber_id,
        DeliveryRow.notice_id == notice_id,
        DeliveryRow.kind == REMINDER,
        DeliveryRow.status == PENDING,
    )
    for row in await session.exec(query):
        when = due.get(row.variant)
        if when is not None and row.due_at != when:
            row.due_at = when
            session.add(row)


async def reminders_for(
    session: AsyncSession, subscriber_id: int, notice_id: int
) -> list[DeliveryRow]:
    query = (
        select(DeliveryRow)
        .where(
            DeliveryRow.subscriber_id == subscriber_id,
            DeliveryRow.notice_id == notice_id,
            DeliveryRow.kind == REMINDER,
        )
        .order_by(col(DeliveryRow.due_at), col(DeliveryRow.channel))
    )
    return list((await session.exec(query)).all())


async def notice_title(session: AsyncSession, notice_id: int) -> str:
    """A notice's title ("" when it is gone): what a press's answer names."""
    notice = await session.get(NoticeRow, notice_id)
    return notice.title if notice is not None else ""


@dataclass(frozen=True, slots=True)
class PendingReminder:
    """One notice a subscriber asked to be reminded of, and when the reminders are due."""

    notice_id: int
    title: str
    url: str | None
    deadline: datetime | None
    times: tuple[datetime, ...]


async def pending_reminders(session: AsyncSession, subscriber_id: int) -> list[PendingReminder]:
    """The subscriber's reminders still to send, one item per notice, soonest first."""
    query = (
        select(DeliveryRow, NoticeRow)
        .join(NoticeRow, col(NoticeRow.id) == col(DeliveryRow.notice_id))
        .where(
            DeliveryRow.subscriber_id == subscriber_id,
            DeliveryRow.kind == REMINDER,
            DeliveryRow.status == PENDING,
        )
        .order_by(col(DeliveryRow.due_at))
    )
    found: dict[int, tuple[NoticeRow, list[datetime]]] = {}
    for delivery, notice in (await session.exec(query)).all():
        times = found.setdefault(delivery.notice_id, (notice, []))[1]
        if delivery.due_at not in times:
            times.append(delivery.due_at)
    return [
        PendingReminder(
            notice_id=notice_id,
            title=notice.title,
            url=(notice.data or {}).get("url"),
            deadline=notice_first_deadline(notice),
            times=tuple(times),
        )
        for notice_id, (notice, times) in found.items()
    ]


async def cancel_reminders(session: AsyncSession, subscriber_id: int, notice_id: int) -> int:
    """Cancel the subscriber's pending reminders of one notice; how many."""
    query = select(DeliveryRow).where(
        DeliveryRow.subscriber_id == subscriber_id,
        DeliveryRow.notice_id == notice_id,
        DeliveryRow.kind == REMINDER,
        DeliveryRow.status == PENDING,
    )
    rows = list((await session.exec(query)).all())
    for row in rows:
        row.status, row.last_error, row.claimed_until = CANCELLED, "cancelled by /reminders", None
        session.add(row)
    return len(rows)


# --------------------------------------------------------------------------- pause


async def set_paused(session: AsyncSession, chat_id: int, paused: bool) -> SubscriberRow | None:
    """Pause or resume the subscriber of ``chat_id``; None for an unknown chat."""
    sub = await subscriber_by_chat(session, chat_id)
    if sub is None:
        return None
    if sub.paused != paused:
        sub.paused = paused
        session.add(sub)
    return sub
