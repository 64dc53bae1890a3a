"""Telegram commands of market intelligence: ``/report`` (advisers and admins) and
``/partners`` (advisers: enterprises open to bidding together).

Who may use them is looked up on every update: an admin is in ``[telegram] admin_ids``, an
adviser is an active adviser whose Telegram account is linked. Anyone else, and any group
chat, gets the unknown-command answer, so the commands stay invisible to enterprises.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.constants import ChatType

from bot.render.phrases import deadline_short
from bot.render.text import clean, esc, link
from bot.reports.weekly import send_latest
from bot.telegram import replies
from bot.telegram.context import BotContext
from feeds.notice import Notice, first_deadline, still_open
from storage.enquiries import adviser_by_telegram
from storage.partners import Partner, PartnerNotice, partner_notices

__all__ = ["on_partners", "on_report", "partners_text", "role_of"]

log = logging.getLogger(__name__)

PREPARING = "Preparing the latest market report…"


async def _unknown(update: Update, context: BotContext) -> None:
    from bot.chat.onboarding import on_unknown_command

    await on_unknown_command(update, context)


async def role_of(update: Update, context: BotContext) -> str | None:
    """``"admin"``, ``"adviser"`` or None, for a private chat; None in any group."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != ChatType.PRIVATE:
        return None
    services = context.services
    if user.id in services.admin_ids:
        return "admin"
    async with services.db.session() as session:
        adviser = await adviser_by_telegram(session, user.id)
    return "adviser" if adviser is not None else None


async def on_report(update: Update, context: BotContext) -> None:
    """``/report``: the latest market report (summary and charts) to this adviser or admin."""
    chat, message = update.effective_chat, update.effective_message
    role = await role_of(update, context)
    if role is None or chat is None or message is None:
        await _unknown(update, context)
        return
    await replies.send_html(message.get_bot(), chat.id, PREPARING)
    stored = await send_latest(context.services, chat.id, role)
    log.info("report %s sent on demand to an %s", stored.key, role)


#: Interest older than this, on a notice that gives no deadline, is no longer "current".
STALE = timedelta(days=180)
SHOWN = 20
NO_PARTNERS = (
    "🤝 No enterprise is open to partners for a current notice yet. Alerts carry a "
    "“🤝 Open to partners” button; who presses it (and agrees) is listed here."
)


def _current(entry: PartnerNotice, now: datetime) -> bool:
    """Still open; and, for a notice with no deadline, asked about in the last six months."""
    notice = Notice.from_json_dict({"source": "", "ocid": "", **entry.data})
    if not still_open(notice, now):
        return False
    return first_deadline(notice) is not None or now - max(p.since for p in entry.partners) <= STALE


def _partner_line(partner: Partner) -> str:
    name = esc(clean(partner.name, 80) or f"Subscriber {partner.subscriber_id}")
    ways = []
    if partner.telegram_chat_id is not None and partner.telegram_chat_id > 0:
        ways.append(f'<a href="tg://user?id={partner.telegram_chat_id}">Telegram</a>')
    elif partner.telegram_chat_id is not None:
        ways.append("a Telegram group")
    if partner.email:
        ways.append(esc(partner.email))
    contact = " · ".join(ways) or "no contact on file"
    return f"  • {name} — {contact} (since {partner.since:%-d %b})"


def partners_text(entries: list[PartnerNotice], now: datetime, tz: ZoneInfo) -> str:
    """The /partners message: each current notice with the enterprises open to partners."""
    current = [e for e in entries if _current(e, now)]
    if not current:
        return NO_PARTNERS
    current.sort(key=lambda e: (-len(e.partners), e.notice_id))
    lines = [f"🤝 <b>Open to partners</b> — {len(current)} current notices"]
    for number, entry in enumerate(current[:SHOWN], start=1):
        data = entry.data
        title = link(data.get("url"), esc(clean(data.get("title"), 100) or "Untitled notice"))
        buyer = esc(clean(data.get("buyer"), 60)) or "buyer not stated"
        notice = Notice.from_json_dict({"source": "", "ocid": "", **data})
        due = deadline_short(notice.deadline, now, tz) if notice.deadline else "no deadline"
        count = len(entry.partners)
        together = f"{count} enterprises" if count > 1 else "1 enterprise"
        lines += ["", f"<b>{number}.</b> {title} — {buyer} ({due}): {together}"]
        lines += [_partner_line(p) for p in entry.partners[:10]]
    if len(current) > SHOWN:
        lines.append(f"\n…and {len(current) - SHOWN} more.")
    return "\n".join(lines)


async def on_partners(update: Update, context: BotContext) -> None:
    """``/partners`` (advisers, admins): who is open to bidding together, and for what."""
    chat, message = update.effective_chat, update.effective_message
    role = await role_of(update, context)
    if role is None or chat is None or message is None:
        await _unknown(update, context)
        return
    services = context.services
    async with services.db.session() as session:
        entries = await partner_notices(session)
    text = partners_text(entries, services.clock(), services.timezone)
    await replies.send_html(message.get_bot(), chat.id, text)
