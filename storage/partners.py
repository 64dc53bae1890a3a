"""Enterprises open to bidding together for a notice ("🤝 open to partners").

Each row is one enterprise's consent, for one notice, to be named to SEEM advisers so that
an adviser can broker a consortium bid; the consent text they were shown is kept with it.
Withdrawing deletes the row; ``/forget`` deletes them all (and the database cascades).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import NoticeRow, PartnerInterestRow, SubscriberRow

__all__ = [
    "Partner",
    "PartnerNotice",
    "add_interest",
    "export_interest",
    "has_interest",
    "partner_notices",
    "withdraw_interest",
]


async def has_interest(session: AsyncSession, subscriber_id: int, notice_id: int) -> bool:
    query = select(PartnerInterestRow.id).where(
        col(PartnerInterestRow.subscriber_id) == subscriber_id,
        col(PartnerInterestRow.notice_id) == notice_id,
    )
    return (await session.exec(query)).first() is not None


async def add_interest(
    session: AsyncSession, subscriber_id: int, notice_id: int, consent: str, at: datetime
) -> bool:
    """Record the consent; False when it was already recorded (pressing twice is harmless)."""
    if await has_interest(session, subscriber_id, notice_id):
        return False
    session.add(
        PartnerInterestRow(
            subscriber_id=subscriber_id, notice_id=notice_id, consent=consent, created_at=at
        )
    )
    await session.flush()
    return True


async def withdraw_interest(session: AsyncSession, subscriber_id: int, notice_id: int) -> bool:
    """Delete the consent; False when there was none."""
    result = await session.exec(
        delete(PartnerInterestRow).where(
            col(PartnerInterestRow.subscriber_id) == subscriber_id,
            col(PartnerInterestRow.notice_id) == notice_id,
        )
    )
    return bool(result.rowcount)


@dataclass(frozen=True, slots=True)
class Partner:
    """One enterprise open to partners, as an adviser may see it (it consented)."""

    subscriber_id: int
    name: str | None
    email: str | None
    telegram_chat_id: int | None
    since: datetime


@dataclass(frozen=True, slots=True)
class PartnerNotice:
    notice_id: int
    data: dict[str, Any]
    partners: list[Partner]


async def partner_notices(session: AsyncSession) -> list[PartnerNotice]:
    """Every notice with at least one enterprise open to partners, newest interest first,
    with the enterprises (a verified, active email address only)."""
    rows = await session.exec(
        select(PartnerInterestRow, SubscriberRow, NoticeRow)
        .join(SubscriberRow, col(SubscriberRow.id) == col(PartnerInterestRow.subscriber_id))
        .join(NoticeRow, col(NoticeRow.id) == col(PartnerInterestRow.notice_id))
        .order_by(col(PartnerInterestRow.created_at).desc(), col(PartnerInterestRow.id).desc())
    )
    found: dict[int, PartnerNotice] = {}
    for interest, sub, notice in rows:
        assert sub.id is not None and notice.id is not None
        entry = found.setdefault(notice.id, PartnerNotice(notice.id, dict(notice.data), []))
        email = sub.email if sub.email_verified and sub.email_active else None
        entry.partners.append(
            Partner(sub.id, sub.name, email, sub.telegram_chat_id, interest.created_at)
        )
    return list(found.values())


async def export_interest(session: AsyncSession, subscriber_id: int) -> list[dict[str, Any]]:
    """For ``/mydata``: each consent with the notice it is for and the text agreed to."""
    rows = await session.exec(
        select(PartnerInterestRow, NoticeRow.title)
        .join(NoticeRow, col(NoticeRow.id) == col(PartnerInterestRow.notice_id))
        .where(col(PartnerInterestRow.subscriber_id) == subscriber_id)
        .order_by(col(PartnerInterestRow.id))
    )
    return [
        {
            "notice_id": interest.notice_id,
            "notice_title": title,
            "consent": interest.consent,
            "given_at": interest.created_at.isoformat(),
        }
        for interest, title in rows
    ]
