"""Telegram commands of market intelligence: ``/report`` (advisers and admins) and
``/partners`` (advisers: enterprises open to bidding together).

Who may use them is looked up on every update: an admin is in ``[telegram] admin_ids``, an
adviser is an active adviser whose Telegram account is linked. Anyone else, and any group
chat, gets the unknown-command answer, so the commands stay invisible to enterprises.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType

from bot.reports.weekly import send_latest
from bot.telegram import replies
from bot.telegram.context import BotContext
from storage.enquiries import adviser_by_telegram

__all__ = ["on_report", "role_of"]

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
