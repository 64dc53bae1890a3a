"""Wires the registered chat commands and settings buttons into the PTB Application."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, TypeHandler

# Importing the modules registers their commands and buttons.
from bot.chat import email_link, keywords, onboarding, privacy, settings  # noqa: F401
from bot.chat.account import NotSubscribed
from bot.chat.core import (
    BUTTONS,
    COMMANDS,
    NOT_ADMIN,
    OPTIONS_KEY,
    PREFIX,
    ChatOptions,
    CommandSpec,
    Context,
    turn_for,
)
from bot.chat.throttle import check_flood
from bot.telegram_filters import NEW_MESSAGES

log = logging.getLogger(__name__)

GARBLED = "Sorry, I didn't understand that button. It may be from an older message."


def _command(spec: CommandSpec) -> Any:
    async def handle(update: Update, context: Context) -> None:
        turn = turn_for(update, context)
        if turn is None:
            return
        if spec.admin and not await turn.is_admin():
            await turn.reply(NOT_ADMIN)
            return
        with contextlib.suppress(NotSubscribed):  # already told "not subscribed yet"
            await spec.fn(turn)

    return handle


async def on_button(update: Update, context: Context) -> None:
    turn = turn_for(update, context, with_args=False)
    query = update.callback_query
    if turn is None or query is None:
        return
    try:
        raw = query.data if isinstance(query.data, str) else ""
        parts = raw[len(PREFIX) :].split(":")
        fn = BUTTONS.get(parts[0])
        if fn is None:
            await turn.answer(GARBLED)
            return
        if not await turn.is_admin():
            await turn.answer(NOT_ADMIN)
            return
        with contextlib.suppress(NotSubscribed):  # already answered "not subscribed yet"
            await fn(turn, parts[1:])
    finally:
        await turn.answer()  # every press is answered, whatever happened above


#: Before every other handler group (enquiries use -2), so floods are stopped everywhere.
FLOOD_GROUP = -10


def install(app: Any, state: Any) -> None:
    app.bot_data.setdefault(OPTIONS_KEY, ChatOptions())
    app.add_handler(TypeHandler(Update, check_flood), group=FLOOD_GROUP)
    app.add_handler(CallbackQueryHandler(on_button, pattern=f"^{PREFIX}"))
    for name, spec in COMMANDS.items():
        app.add_handler(CommandHandler(name, _command(spec), filters=NEW_MESSAGES))
