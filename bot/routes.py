"""Every Telegram handler, installed in order, explicitly — the one map of the bot.

Handler groups run in order and within a group the first matching handler wins:

* group -10 — flood protection (:func:`bot.chat.throttle.check_flood`): one polite reply,
  then silence, for anyone sending faster than a person types;
* group -2 — conversations that reach a person (:func:`bot.enquiries.telegram.on_text`): a
  reply to an enquiry message, an awaited question, a pass-on note, and a plain message
  from someone with an open enquiry (:mod:`bot.enquiries.conversation`); photos and files
  for an open enquiry get a clear answer; it stops the update when it used it;
* group 0 — commands (subscribers', advisers', admins'), buttons by callback-data family,
  then the catch-alls (unknown command, free text, group text, non-text).

Nothing registers itself by being imported: adding a command means adding a line here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.chat import (
    alert_buttons,
    email_link,
    keywords,
    kinds_menu,
    onboarding,
    partners,
    preview_search,
    previews,
    privacy,
    reminders,
    settings,
    terms,
    throttle,
)
from bot.chat.account import NotSubscribed
from bot.chat.core import SETTINGS_ACTION, Turn, turn_for
from bot.enquiries import telegram as enquiries
from bot.enquiries.model import ENQUIRY_ACTION
from bot.render.telegram import (
    ACTION_ASK,
    ACTION_MUTE,
    ACTION_NOT_RELEVANT,
    ACTION_PARTNER,
    ACTION_RELEVANT,
    ACTION_REMIND,
    ACTION_UNDO,
)
from bot.reports import telegram as market
from bot.services import Services
from bot.telegram import replies
from bot.telegram.context import BotApplication, BotContext
from bot.telegram.errors import on_error
from bot.telegram.wording import GARBLED, NOT_ADMIN

__all__ = ["CHAT_COMMANDS", "SETTINGS_BUTTONS", "install"]

CommandFn = Callable[[Turn], Awaitable[None]]
ButtonFn = Callable[[Turn, list[str]], Awaitable[None]]
Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]

#: Commands react to new messages only: PTB also fires on *edited* messages by default, so
#: correcting a typo in an old ``/forget`` would run it again.
NEW_MESSAGES = filters.UpdateType.MESSAGE
FLOOD_GROUP, CONVERSATION_GROUP = -10, -2


@dataclass(frozen=True)
class ChatCommand:
    names: tuple[str, ...]
    fn: CommandFn
    #: Changes something: in a group, admins only.
    admin: bool = True


CHAT_COMMANDS: tuple[ChatCommand, ...] = (
    ChatCommand(("start",), onboarding.on_start),
    ChatCommand(("help",), onboarding.on_help, admin=False),
    ChatCommand(("cancel",), onboarding.on_cancel),
    ChatCommand(("settings",), settings.on_settings, admin=False),
    ChatCommand(("keywords",), keywords.on_keywords, admin=False),
    ChatCommand(("add",), onboarding.on_add),
    ChatCommand(("preview",), previews.on_preview, admin=False),
    ChatCommand(("remove",), keywords.on_remove),
    ChatCommand(("exclude",), keywords.on_exclude),
    ChatCommand(("cpv",), keywords.on_cpv),
    ChatCommand(("regions",), settings.on_regions),
    ChatCommand(("value",), settings.on_value),
    ChatCommand(("vcse",), settings.on_vcse),
    ChatCommand(("sme",), settings.on_sme),
    ChatCommand(("frequency",), settings.on_frequency),
    ChatCommand(("quiet",), settings.on_quiet),
    ChatCommand(("pause",), settings.on_pause),
    ChatCommand(("resume",), settings.on_resume),
    ChatCommand(("stop",), settings.on_stop),
    ChatCommand(("email",), email_link.on_email),
    ChatCommand(("verify",), email_link.on_verify),
    ChatCommand(("reminders",), reminders.on_reminders, admin=False),
    ChatCommand(("types",), kinds_menu.on_types, admin=False),
    ChatCommand(("privacy",), privacy.on_privacy, admin=False),
    ChatCommand(("mydata",), privacy.on_mydata),
    ChatCommand(("forget",), privacy.on_forget),
)

#: Settings buttons: ``s:<step>[:<arg>…]``.
SETTINGS_BUTTONS: dict[str, ButtonFn] = {
    "st": settings.on_settings_button,
    "tg": settings.on_toggle,
    "qh": settings.on_quiet_button,
    "dh": settings.on_digest_hour_button,
    "rgm": settings.on_regions_menu,
    "rg": settings.on_region_toggle,
    "rgok": settings.on_regions_done,
    "fq": settings.on_frequency_button,
    "ch": settings.on_channel,
    "kw": keywords.on_keywords_button,
    "kx": keywords.on_keyword_remove,
    "ex": keywords.on_exclusion_remove,
    "cpa": keywords.on_cpv_add,
    "cpx": keywords.on_cpv_remove,
    "fg": privacy.on_forget_button,
    reminders.CANCEL_STEP: reminders.on_cancel_reminder,
    "ks": keywords.on_shorter,
    "tt": terms.on_term_toggle,
    "tm": onboarding.on_terms_more,
    "tn": onboarding.on_terms_next,
    "nm": onboarding.on_name_button,
    "pv": previews.on_preview_button,
    "bfs": previews.on_send_button,
    "bfx": previews.on_withdraw_button,
    kinds_menu.STEP: kinds_menu.on_types_button,
}

#: Advisers' and admins' commands (each checks the sender's role itself).
ROLE_COMMANDS: tuple[tuple[str, Handler], ...] = (
    ("ask", enquiries.on_ask),
    ("queue", enquiries.on_queue),
    ("away", enquiries.on_away),
    ("back", enquiries.on_back),
    ("stats", enquiries.on_stats),
    ("report", market.on_report),
    ("partners", market.on_partners),
)

ALERT_ACTIONS = (ACTION_RELEVANT, ACTION_NOT_RELEVANT, ACTION_MUTE, ACTION_UNDO, ACTION_REMIND)


def _chat_command(spec: ChatCommand) -> Handler:
    async def handle(update: Update, context: BotContext) -> None:
        turn = turn_for(update, context)
        if turn is None:
            return
        if spec.admin and not await turn.is_admin():
            await turn.reply(NOT_ADMIN)
            return
        with contextlib.suppress(NotSubscribed):  # already told "not subscribed yet"
            await spec.fn(turn)

    return handle


async def on_settings_button(update: Update, context: BotContext) -> None:
    turn = turn_for(update, context, with_args=False)
    query = update.callback_query
    if turn is None or query is None:
        return
    try:
        raw = query.data if isinstance(query.data, str) else ""
        parts = raw.split(":")[1:]
        fn = SETTINGS_BUTTONS.get(parts[0]) if parts else None
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


async def on_unknown_button(update: Update, context: BotContext) -> None:
    if update.callback_query is not None:
        await replies.answer(update.callback_query, GARBLED)


async def _adviser_invite(update: Update, context: BotContext, payload: str) -> bool:
    """``/start adv-<token>``: the roster invite (enquiries), then the adviser's own menu."""
    await enquiries.on_invite(update, context, payload.removeprefix("adv-"))
    await onboarding.after_invite(update, context)
    return True


def install(app: BotApplication, services: Services) -> None:
    """Put ``services`` on the application and install every handler, in order (and the
    caches to warm when it starts receiving)."""
    app.bot_data.services = services
    app.bot_data.warmups = [lambda: preview_search.warm_quietly(services)]
    app.bot_data.start_payloads = {"adv-": _adviser_invite}
    app.add_handler(TypeHandler(Update, throttle.check_flood), group=FLOOD_GROUP)
    app.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, enquiries.on_text),
        group=CONVERSATION_GROUP,
    )
    app.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & ~filters.TEXT & filters.ChatType.PRIVATE,
            enquiries.on_non_text,
        ),
        group=CONVERSATION_GROUP,
    )
    for spec in CHAT_COMMANDS:
        app.add_handler(CommandHandler(spec.names, _chat_command(spec), filters=NEW_MESSAGES))
    for name, handler in ROLE_COMMANDS:
        app.add_handler(CommandHandler(name, handler, filters=NEW_MESSAGES))
    app.add_handler(CallbackQueryHandler(on_settings_button, pattern=f"^{SETTINGS_ACTION}:"))
    app.add_handler(
        CallbackQueryHandler(enquiries.on_enquiry_button, pattern=f"^{ENQUIRY_ACTION}:")
    )
    app.add_handler(CallbackQueryHandler(enquiries.on_ask_button, pattern=f"^{ACTION_ASK}:"))
    app.add_handler(CallbackQueryHandler(partners.on_callback, pattern=f"^{ACTION_PARTNER}:"))
    alert_pattern = "^(" + "|".join(a.replace("+", r"\+") for a in ALERT_ACTIONS) + "):"
    app.add_handler(CallbackQueryHandler(alert_buttons.on_callback, pattern=alert_pattern))
    app.add_handler(CallbackQueryHandler(on_unknown_button))
    private = filters.ChatType.PRIVATE
    app.add_handler(MessageHandler(filters.COMMAND & private, onboarding.on_unknown_command))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & private, onboarding.on_text))
    app.add_handler(
        MessageHandler(
            filters.TEXT & ~filters.COMMAND & filters.ChatType.GROUPS, onboarding.on_group_text
        )
    )
    app.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & ~filters.TEXT & private, onboarding.on_non_text)
    )
    app.add_error_handler(on_error)
