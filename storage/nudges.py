"""Who is due the weekly "nothing matched" nudge, and taking it (several workers safe)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import DeliveryRow, NoticeRow, SubscriberRow
from storage.subscribers import Recipient, recipient_of

WEEK = timedelta(days=7)


async def quiet_subscribers(session: AsyncSession, now: datetime) -> list[Recipient]:
    """Subscribers with nudges on, unpaused, a week old, who got nothing sent in a week and
    were not nudged in a week."""
    since = now - WEEK
    alerted = select(DeliveryRow.subscriber_id).where(
        col(DeliveryRow.status) == "sent", col(DeliveryRow.sent_at) >= since
    )
    rows = await session.exec(
        select(SubscriberRow).where(
            col(SubscriberRow.nudge).is_(True),
            col(SubscriberRow.paused).is_(False),
            col(SubscriberRow.created_at) <= since,
            or_(
                col(SubscriberRow.last_nudge_at).is_(None),
                col(SubscriberRow.last_nudge_at) <= since,
            ),
            col(SubscriberRow.id).not_in(alerted),
        )
    )
    return [recipient_of(s) for s in rows]


async def notices_checked(session: AsyncSession, now: datetime) -> int:
    query = (
        select(func.count()).select_from(NoticeRow).where(col(NoticeRow.first_seen) >= now - WEEK)
    )
    return int((await session.exec(query)).one())


async def take_nudge(session: AsyncSession, subscriber_id: int, now: datetime) -> bool:
    """Mark the nudge as taken; False if another worker took it first (conditional update)."""
    result = await session.exec(
        update(SubscriberRow)
        .where(
            col(SubscriberRow.id) == subscriber_id,
            or_(
                col(SubscriberRow.last_nudge_at).is_(None),
                col(SubscriberRow.last_nudge_at) <= now - WEEK,
            ),
        )
        .values(last_nudge_at=now)
    )
    return bool(result.rowcount)
