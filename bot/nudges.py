"""The weekly "nothing matched — widen your keywords?" nudge.

Silence is ambiguous: a subscriber who hears nothing for weeks can't tell a quiet
market from keywords that are too narrow. Once a week, at their digest hour, a
subscriber who got no alert in the last 7 days is told how many notices were
checked. It can be switched off per subscriber (``nudge``) or for everyone
(``[alerts] nudge = false``).

A nudge is a courtesy, not something that must happen: it is claimed by setting
``last_nudge_at`` first (a conditional update, safe with several workers) and
then sent, so a crash may skip one nudge but never sends two.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlmodel import col, or_, select

from bot import render
from bot.dispatcher import EmailFactory, TelegramPort
from bot.telegram_channel import SendError
from storage.db import Database
from storage.models import DeliveryRow, NoticeRow, SubscriberRow

log = logging.getLogger(__name__)
NudgeEmailBuilder = Callable[[SubscriberRow, int], Any]
WEEK = timedelta(days=7)


@dataclass
class NudgeReport:
    due: int = 0
    sent: int = 0
    failed: int = 0


async def due_for_nudge(db: Database, now: datetime, tz: ZoneInfo) -> list[SubscriberRow]:
    """Subscribers to nudge now: quiet for a week, nudges on, at their digest hour."""
    since = now - WEEK
    async with db.session() as session:
        alerted = select(DeliveryRow.subscriber_id).where(
            col(DeliveryRow.status) == "sent",
            col(DeliveryRow.sent_at) >= since,
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
        subs = list(rows)
    return [s for s in subs if now.astimezone(tz).hour == s.digest_hour]


async def notices_checked(db: Database, now: datetime) -> int:
    async with db.session() as session:
        query = (
            select(func.count())
            .select_from(NoticeRow)
            .where(col(NoticeRow.first_seen) >= now - WEEK)
        )
        return int((await session.exec(query)).one())


async def claim(db: Database, sub: SubscriberRow, now: datetime) -> bool:
    """Mark the nudge as taken before sending; False if another worker took it."""
    async with db.session() as session:
        result = await session.exec(
            update(SubscriberRow)
            .where(
                col(SubscriberRow.id) == sub.id,
                or_(
                    col(SubscriberRow.last_nudge_at).is_(None),
                    col(SubscriberRow.last_nudge_at) <= now - WEEK,
                ),
            )
            .values(last_nudge_at=now)
        )
        return bool(result.rowcount)


async def send_nudges(
    db: Database,
    now: datetime,
    *,
    tz: ZoneInfo,
    telegram: TelegramPort | None,
    email: EmailFactory | None,
    build_email: NudgeEmailBuilder | None = None,
) -> NudgeReport:
    """Send this hour's nudges by Telegram (and email through ``build_email``)."""
    report = NudgeReport()
    subs = await due_for_nudge(db, now, tz)
    report.due = len(subs)
    if not subs:
        return report
    checked = await notices_checked(db, now)
    for sub in subs:
        if not await claim(db, sub, now):
            continue
        try:
            if telegram is not None and sub.telegram_active and sub.telegram_chat_id:
                await telegram.send(sub.telegram_chat_id, render.nudge_telegram(checked))
                report.sent += 1
            elif email is not None and build_email and sub.email_active and sub.email:
                async with email() as sender:
                    await sender.send(build_email(sub, checked))
                report.sent += 1
        except SendError as exc:
            report.failed += 1
            log.info("nudge for subscriber %s not sent: %s (next week)", sub.id, exc)
    return report
