"""The bot's profile and command menus: what the screen before Start says, and the commands
each role sees.

* ``setMyDescription`` / ``setMyShortDescription``: the text a person reads before pressing
  Start (and on the bot's profile), so they know what the bot is for before they talk to it.
* ``setMyCommands``: enterprises get a short default menu with /help first; each adviser and
  admin gets their own menu in their private chat (``BotCommandScopeChat``), set when the
  bot first hears from them in this process (their /start, /help, any message or unknown
  command; an adviser opening the invite link) — a chat scope needs a chat that exists, and
  an adviser in the roster may never have opened the bot ("chat not found").
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot.roles import ENTERPRISE, Role, menu_for
from bot.telegram.context import BotContext

log = logging.getLogger(__name__)

__all__ = [
    "DESCRIPTION",
    "SHORT_DESCRIPTION",
    "ensure_role_menu",
    "install_menus",
    "set_role_menu",
]

#: At most 512 characters: the screen before Start.
DESCRIPTION = (
    "Free alerts about public contracts that fit your social enterprise, from BEST "
    "Procurement at Social Enterprise East Midlands.\n\n"
    "I watch Find a Tender and Contracts Finder every day. Tell me in your own words what "
    "your enterprise does and where, and I'll send you the council, NHS and school "
    "contracts worth a look — and put you in touch with an adviser when you have a "
    "question.\n\nPress Start: setting up takes under a minute."
)
#: At most 120 characters: the bot's profile and shared links.
SHORT_DESCRIPTION = (
    "Free public-contract alerts for East Midlands social enterprises, from BEST Procurement."
)


def _commands(role: Role) -> list[BotCommand]:
    return [BotCommand(name, text) for name, text in menu_for(role)]


async def set_role_menu(bot: Bot, chat_id: int, role: Role) -> bool:
    """Give one private chat its role's menu (enterprises: the default one); False when
    Telegram refused."""
    try:
        if role == ENTERPRISE:
            await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id))
        else:
            await bot.set_my_commands(_commands(role), scope=BotCommandScopeChat(chat_id))
    except TelegramError as exc:
        log.info("command menu for a %s chat not set: %s", role, type(exc).__name__)
        return False
    return True


async def ensure_role_menu(context: BotContext, chat_id: int, role: Role) -> None:
    """Set ``role``'s menu in this private chat unless this process did already."""
    known = context.bot_data.menus.get(chat_id)
    if known == role or (known is None and role == ENTERPRISE):
        return
    if await set_role_menu(context.bot, chat_id, role):
        context.bot_data.menus[chat_id] = role


async def install_menus(bot: Bot) -> None:
    """At start: the description, the short description and the enterprises' default menu
    (advisers' and admins' own menus follow when they write)."""
    for call, what in (
        (bot.set_my_description(DESCRIPTION), "description"),
        (bot.set_my_short_description(SHORT_DESCRIPTION), "short description"),
    ):
        try:
            await call
        except TelegramError as exc:
            log.warning("bot %s not set: %s", what, type(exc).__name__)
    await bot.set_my_commands(_commands(ENTERPRISE), scope=BotCommandScopeDefault())
