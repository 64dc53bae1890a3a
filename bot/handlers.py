"""Telegram update handlers: the alert buttons, the catch-alls and the error handler.

Subscribers' commands (/start, /help, /settings, ...) live in :mod:`bot.chat`; /ask, /stats and
the advisers' commands in :mod:`bot.enquiries`.

Why it is shaped like this:

* Callback data can be forged (any client can send any bytes), so every press is checked
  against the database: the delivery must belong to the subscriber whose chat the button
  was pressed in. A refused press changes nothing and logs no personal data.
* Every callback query is answered, even garbage, or the user's button keeps spinning.
* The message is edited in place to show the choice (a status line and a restyled
  keyboard), and an edit that would change nothing is skipped, because Telegram answers
  it with "message is not modified".
* Handlers keep no state of their own (the database holds it), so they are idempotent and
  can run in several workers behind a webhook.
* Every user string goes out HTML-escaped; no exception escapes (the error handler logs
  the failure with the bot token redacted and tells the user something went wrong).
"""

from __future__ import annotations

import contextlib
import html
import logging
import re
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    CallbackContext,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

import bot.chat
import bot.enquiries
from bot.config import Config
from bot.render import (
    ACTION_MUTE,
    ACTION_NOT_RELEVANT,
    ACTION_RELEVANT,
    ACTION_REMIND,
    ACTION_UNDO,
    TELEGRAM_TEXT_LIMIT,
    callback,
    parse_callback,
    visible_length,
)
from storage.db import Database
from storage.feedback import (
    Owned,
    active_channels,
    delivery_for_chat,
    mute_keyword,
    record_feedback,
    schedule_reminders,
    unmute_keyword,
)
from storage.types import utcnow

log = logging.getLogger(__name__)

STATE_KEY = "bestbot.handlers"
AnyApplication = Application[Any, Any, Any, Any, Any, Any]
Context = CallbackContext[Any, Any, Any, Any]

# --- what users read ---------------------------------------------------------------------------

NOT_YOURS = "That button isn't yours."
GARBLED = "Sorry, I didn't understand that button. It may be from an older message."
FAILED = "Sorry, something went wrong. Please try again in a minute."
NOT_SUBSCRIBED = (
    "You're not subscribed yet, so there is nothing to change here.\n"
    "Send /start to set up contract alerts for your enterprise — it takes under a minute."
)
NON_TEXT = "I can only read text. Send /help to see what I can do."
UNKNOWN_COMMAND = "Sorry, I don't know {command}. Send /help to see what I can do."

STATUS_MARK = "▸"
_STATUS_HTML = f"\n\n<i>{STATUS_MARK} "
_CHECK = "✓ "
_QUOTED = re.compile(r"“(.*)”")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


# --- state -------------------------------------------------------------------------------------


@dataclass
class HandlerState:
    """What the handlers share: the database and a few settings from the config."""

    db: Database
    owns_db: bool
    timezone: ZoneInfo
    remind_before: tuple[timedelta, ...]
    admin_ids: frozenset[int]
    secrets: tuple[str, ...]
    clock: Callable[[], datetime] = utcnow
    #: The whole config, for feature packages (secret key, bot username, SMTP settings).
    config: Config | None = None


def install_handlers(
    app: AnyApplication,
    config: Config,
    *,
    db: Database | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Register bestbot's handlers on ``app``; opens a database unless ``db`` is given."""
    state = HandlerState(
        db=db if db is not None else Database(config.database.url),
        owns_db=db is None,
        timezone=ZoneInfo(config.alerts.timezone),
        remind_before=tuple(config.alerts.remind_before),
        admin_ids=frozenset(config.telegram.admin_ids),
        secrets=tuple(s for s in (config.telegram.token,) if s),
        clock=clock,
        config=config,
    )
    app.bot_data[STATE_KEY] = state
    # Feature packages first: their commands and buttons win over the defaults below.
    bot.chat.install(app, state)
    bot.enquiries.install(app, state)
    # /start, /help, the settings commands (bot.chat) and /stats, /ask... (bot.enquiries) are
    # theirs; what is left here are the alert buttons and the catch-alls
    app.add_handler(CallbackQueryHandler(on_callback))
    app.add_handler(MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, on_unknown_command))
    # Free text and everything else: the chat package knows whether a conversation (e.g.
    # onboarding's "What does your enterprise do?") is waiting for it.
    app.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE, on_plain_text)
    )
    app.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & filters.ChatType.GROUPS, on_group_text)
    )
    app.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & ~filters.TEXT & filters.ChatType.PRIVATE, on_non_text
        )
    )
    app.add_error_handler(on_error)


async def close_handlers(app: AnyApplication) -> None:
    """Release what :func:`install_handlers` opened (call after ``app.shutdown()``)."""
    state = app.bot_data.pop(STATE_KEY, None)
    if isinstance(state, HandlerState) and state.owns_db:
        await state.db.dispose()


def _state(context: Context) -> HandlerState:
    state = context.bot_data[STATE_KEY]
    assert isinstance(state, HandlerState)
    return state


# --- alert buttons -----------------------------------------------------------------------------

Restyle = Callable[[str, str], tuple[str, str]]  # (text, data) -> (text, data)


@dataclass(frozen=True)
class Outcome:
    """What a press did: the toast (callback answer), a status line, keyboard changes."""

    answer: str
    status: str | None = None
    restyle: dict[str, Restyle] | None = None  # by callback data


Action = Callable[[AsyncSession, Owned, str, HandlerState], Awaitable[Outcome]]


async def on_callback(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None:
        return
    state = _state(context)
    parsed = parse_callback(query.data)
    action = ACTIONS.get(parsed[0]) if parsed is not None else None
    if parsed is None or action is None:
        log.info("unreadable callback data answered")
        await _answer(query, GARBLED)
        return
    name, delivery_id, arg = parsed
    chat_id = _chat_of(query)
    async with state.db.session() as session:
        owned = await delivery_for_chat(session, delivery_id, chat_id)
        if owned is None:
            log.warning("refused %r press for delivery %s: not this chat's", name, delivery_id)
            outcome = Outcome(NOT_YOURS)
        else:
            outcome = await action(session, owned, arg, state)
    await _answer(query, outcome.answer)
    if outcome.status is not None or outcome.restyle:
        await _show(query, outcome)


def _chat_of(query: CallbackQuery) -> int:
    """The chat the button was pressed in (a group subscriber's members may all press)."""
    message = query.message
    if message is not None and message.is_accessible:
        return message.chat.id
    return query.from_user.id


async def _answer(query: CallbackQuery, text: str) -> None:
    try:
        await query.answer(text[:200])
    except TelegramError as exc:  # too old, or answered already: nothing to do
        log.info("callback answer failed: %s", type(exc).__name__)


async def _feedback(relevant: bool, session: AsyncSession, owned: Owned) -> Outcome:
    sub_id, delivery = owned.subscriber.id, owned.delivery
    assert sub_id is not None and delivery.id is not None
    await record_feedback(session, sub_id, delivery.notice_id, relevant)
    word = "relevant" if relevant else "not relevant"
    up, down = callback(ACTION_RELEVANT, delivery.id), callback(ACTION_NOT_RELEVANT, delivery.id)
    return Outcome(
        f"Thanks — marked {word}",
        status=f"Marked {word} — thanks, this helps us improve your matches.",
        restyle={up: _checked(relevant), down: _checked(not relevant)},
    )


async def on_relevant(session: AsyncSession, owned: Owned, arg: str, _: HandlerState) -> Outcome:
    return await _feedback(True, session, owned)


async def on_not_relevant(
    session: AsyncSession, owned: Owned, arg: str, _: HandlerState
) -> Outcome:
    return await _feedback(False, session, owned)


def _checked(on: bool) -> Restyle:
    def restyle(text: str, data: str) -> tuple[str, str]:
        bare = text.removeprefix(_CHECK)
        return (_CHECK + bare if on else bare), data

    return restyle


def _keyword(owned: Owned, arg: str) -> str | None:
    if not arg.isdigit():
        return None
    index = int(arg)
    keywords = owned.delivery.keywords or []
    if index >= len(keywords) or not str(keywords[index]).strip():
        return None
    return str(keywords[index])


def _label(text: str, keyword: str) -> str:
    found = _QUOTED.search(text)
    if found:
        return found.group(1)
    return keyword if len(keyword) <= 24 else keyword[:23] + "…"


async def on_mute(session: AsyncSession, owned: Owned, arg: str, _: HandlerState) -> Outcome:
    keyword = _keyword(owned, arg)
    if keyword is None:
        return Outcome(GARBLED)
    assert owned.subscriber.id is not None and owned.delivery.id is not None
    removed = await mute_keyword(session, owned.subscriber.id, keyword)
    undo = callback(ACTION_UNDO, owned.delivery.id, arg)

    def restyle(text: str, data: str) -> tuple[str, str]:
        return f"↩️ Undo mute “{_label(text, keyword)}”", undo

    answer = (
        f"Muted “{keyword}”: no more alerts for it. Tap Undo to put it back."
        if removed
        else f"“{keyword}” is already muted."
    )
    return Outcome(
        answer,
        status=f"Muted “{keyword}” — you won't get alerts for it any more.",
        restyle={callback(ACTION_MUTE, owned.delivery.id, arg): restyle},
    )


async def on_undo(session: AsyncSession, owned: Owned, arg: str, _: HandlerState) -> Outcome:
    keyword = _keyword(owned, arg)
    if keyword is None:
        return Outcome(GARBLED)
    assert owned.subscriber.id is not None and owned.delivery.id is not None
    added = await unmute_keyword(session, owned.subscriber.id, keyword)
    mute = callback(ACTION_MUTE, owned.delivery.id, arg)

    def restyle(text: str, data: str) -> tuple[str, str]:
        return f"🔕 Mute “{_label(text, keyword)}”", mute

    answer = (
        f"“{keyword}” is back in your keywords."
        if added
        else f"“{keyword}” is already in your keywords."
    )
    return Outcome(
        answer,
        status=f"“{keyword}” is back in your keywords.",
        restyle={callback(ACTION_UNDO, owned.delivery.id, arg): restyle},
    )


def _day(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}"


def _and(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


async def on_remind(session: AsyncSession, owned: Owned, arg: str, state: HandlerState) -> Outcome:
    if not active_channels(owned.subscriber):
        return Outcome("Your alerts are switched off, so I can't send reminders.")
    plan = await schedule_reminders(session, owned, state.clock(), state.remind_before)
    if plan.deadline is None:
        return Outcome("This notice has no closing date, so there is nothing to remind you of.")
    if plan.closed:
        return Outcome("This opportunity has already closed.")
    if not plan.times:
        return Outcome("It closes within a day — too soon for a reminder. Good luck!")
    when = _and([_day(t, state.timezone) for t in plan.times])
    text = f"I'll remind you on {when}"
    if owned.subscriber.paused:
        text += " (if your alerts are on again by then: send /resume)"
    assert owned.delivery.id is not None
    remind = callback(ACTION_REMIND, owned.delivery.id)
    return Outcome(
        text if plan.created else f"Already set: {text[0].lower()}{text[1:]}",
        status=f"{text}.",
        restyle={remind: lambda _text, data: ("⏰ Reminder set ✓", data)},
    )


ACTIONS: dict[str, Action] = {
    ACTION_RELEVANT: on_relevant,
    ACTION_NOT_RELEVANT: on_not_relevant,
    ACTION_MUTE: on_mute,
    ACTION_UNDO: on_undo,
    ACTION_REMIND: on_remind,
}


def _restyled(
    markup: InlineKeyboardMarkup | None, changes: dict[str, Restyle]
) -> InlineKeyboardMarkup | None:
    if markup is None:
        return None
    rows = []
    for row in markup.inline_keyboard:
        new_row = []
        for button in row:
            data = button.callback_data
            change = changes.get(data) if isinstance(data, str) else None
            if change is None:
                new_row.append(button)
                continue
            assert isinstance(data, str)
            text, new_data = change(button.text, data)
            new_row.append(InlineKeyboardButton(text, callback_data=new_data))
        rows.append(new_row)
    return InlineKeyboardMarkup(rows)


def _base_html(message: Message) -> str:
    """The message's HTML without an earlier status line of ours."""
    text = message.text_html
    head, sep, tail = text.rpartition(_STATUS_HTML)
    if sep and tail.endswith("</i>") and "\n" not in tail:
        return head
    return text


_TAG = re.compile(r"<[^>]*>")


def _plain(telegram_html: str) -> str:
    """What the user sees of ``telegram_html`` (tags dropped, entities decoded)."""
    return html.unescape(_TAG.sub("", telegram_html))


def _markup_dict(markup: InlineKeyboardMarkup | None) -> Any:
    return markup.to_dict() if markup is not None else None


async def _show(query: CallbackQuery, outcome: Outcome) -> None:
    """Edit the pressed message: status line and keyboard, unless nothing would change."""
    message = query.message
    if not isinstance(message, Message):
        return  # too old to edit (inaccessible)
    old_markup = message.reply_markup
    markup = _restyled(old_markup, outcome.restyle or {})
    try:
        if message.text is not None and outcome.status is not None:
            text = f"{_base_html(message)}{_STATUS_HTML}{_esc(outcome.status)}</i>"
            if visible_length(text) <= TELEGRAM_TEXT_LIMIT:
                same_markup = _markup_dict(markup) == _markup_dict(old_markup)
                if same_markup and _plain(text) == message.text:
                    return  # Telegram would answer "message is not modified"
                await query.edit_message_text(
                    text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    link_preview_options=_NO_PREVIEW,
                )
                return
        if _markup_dict(markup) != _markup_dict(old_markup):
            await query.edit_message_reply_markup(reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            log.warning("could not edit an alert after a press: %s", exc.message)
    except TelegramError as exc:
        log.warning("could not edit an alert after a press: %s", type(exc).__name__)


# --- commands ----------------------------------------------------------------------------------


async def _reply(update: Update, text: str) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_html(text, link_preview_options=_NO_PREVIEW)


def _chat_id(update: Update) -> int | None:
    chat = update.effective_chat
    return chat.id if chat is not None else None


async def on_unknown_command(update: Update, context: Context) -> None:
    message = update.effective_message
    word = (message.text or "/").split()[0] if message is not None else "/"
    word = word if len(word) <= 40 else word[:39] + "…"
    await _reply(update, _esc(UNKNOWN_COMMAND.format(command=word)))


async def on_plain_text(update: Update, context: Context) -> None:
    await bot.chat.on_text(update, context)


async def on_group_text(update: Update, context: Context) -> None:
    await bot.chat.on_group_text(update, context)


async def on_non_text(update: Update, context: Context) -> None:
    await bot.chat.on_non_text(update, context)


# --- errors ------------------------------------------------------------------------------------


def _redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


async def on_error(update: object, context: Context) -> None:
    """Log a failed update without secrets or message content, and tell the user."""
    error = context.error
    state = context.bot_data.get(STATE_KEY)
    secrets = state.secrets if isinstance(state, HandlerState) else ()
    update_id = update.update_id if isinstance(update, Update) else None
    if error is not None:
        detail = "".join(traceback.format_exception(error))
        log.error("update %s failed: %s", update_id, _redact(detail, secrets))
    if not isinstance(update, Update):
        return
    with contextlib.suppress(Exception):
        if update.callback_query is not None:
            await update.callback_query.answer(FAILED)
        elif update.effective_chat is not None and update.effective_chat.type == "private":
            await _reply(update, _esc(FAILED))
