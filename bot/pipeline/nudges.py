"""The weekly "nothing matched — widen your keywords?" nudge.

Silence is ambiguous: a subscriber who hears nothing for weeks can't tell a quiet market
from keywords that are too narrow. Once a week, at their digest hour, a subscriber who got
no alert in the last 7 days is told how many notices were checked. It can be switched off
per subscriber (``nudge``) or for everyone (``[alerts] nudge = false``).

Taking the nudge (``last_nudge_at``, a conditional update, safe with several workers) and
queueing its message happen in one transaction; the message outbox then sends it with the
same retries and failure rules as every other message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.delivery.mail import Mailer
from bot.render.telegram import nudge_telegram
from storage.db import Database
from storage.messages import NewMessage, queue_message
from storage.nudges import notices_checked, quiet_subscribers, take_nudge
from storage.subscribers import Recipient

log = logging.getLogger(__name__)


@dataclass
class NudgeReport:
    due: int = 0
    queued: int = 0


async def queue_nudges(db: Database, now: datetime, tz: ZoneInfo, mailer: Mailer) -> NudgeReport:
    """Queue this hour's nudges (one per subscriber, on Telegram if they have it)."""
    report = NudgeReport()
    async with db.session() as session:
        quiet = [s for s in await quiet_subscribers(session, now) if s.channels]
        due = [s for s in quiet if now.astimezone(tz).hour == s.digest_hour]
        report.due = len(due)
        if not due:
            return report
        checked = await notices_checked(session, now)
    for sub in due:
        async with db.write_session() as session:
            if not await take_nudge(session, sub.id, now):
                continue
            queue_message(session, _nudge(sub, checked, now, mailer))
            report.queued += 1
    return report


def _nudge(sub: Recipient, checked: int, now: datetime, mailer: Mailer) -> NewMessage:
    if sub.reachable("telegram"):
        message = nudge_telegram(checked)
        return NewMessage(
            channel="telegram",
            purpose="nudge",
            recipient="subscriber",
            subscriber_id=sub.id,
            chat_id=sub.telegram_chat_id,
            body=message.text,
            due_at=now,
        )
    rendered = mailer.nudge(sub, checked, now)
    return NewMessage(
        channel="email",
        purpose="nudge",
        recipient="subscriber",
        subscriber_id=sub.id,
        email_to=sub.email,
        subject=rendered.subject,
        body=rendered.text,
        body_html=rendered.html,
        headers={"list": mailer.list_headers(sub)},
        due_at=now,
    )
