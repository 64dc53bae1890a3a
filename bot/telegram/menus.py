"""The bot's profile and command menus: what the screen before Start says, and the commands
each role sees.

* ``setMyDescription`` / ``setMyShortDescription``: the text a person reads before pressing
  Start (and on the bot's profile), so they know what the bot is for before they talk to it.
* ``setMyCommands``: enterprises get a short default menu with /help first; each adviser and
  admin gets their own menu in their private chat (``BotCommandScopeChat``), set at start for
  everyone known, and again when someone's role is recognised (an adviser opening their
  invite link, an admin's /start).

A menu that Telegram refuses for one chat (the person never opened the bot: "chat not
found") is logged and skipped; it is set when they first write.
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot.chat.roles import ADMIN, ADVISER, ENTERPRISE, Role, menu_for
from bot.services import Services
from storage.roles import adviser_telegram_ids

log = logging.getLogger(__name__)

__all__ = ["DESCRIPTION", "SHORT_DESCRIPTION", "install_menus", "set_role_menu"]

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


async def install_menus(bot: Bot, services: Services) -> None:
    """At start: the description, the enterprises' default menu, every known adviser's and
    admin's own menu."""
    for call, what in (
        (bot.set_my_description(DESCRIPTION), "description"),
        (bot.set_my_short_description(SHORT_DESCRIPTION), "short description"),
    ):
        try:
            await call
        except TelegramError as exc:
            log.warning("bot %s not set: %s", what, type(exc).__name__)
    await bot.set_my_commands(_commands(ENTERPRISE), scope=BotCommandScopeDefault())
    async with services.db.session() as session:
        advisers = await adviser_telegram_ids(session)
    for user_id in advisers:
        if user_id not in services.admin_ids:
            await set_role_menu(bot, user_id, ADVISER)
    for user_id in sorted(services.admin_ids):
        await set_role_menu(bot, user_id, ADMIN)
