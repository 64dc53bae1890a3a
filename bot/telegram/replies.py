"""Replying and editing in place, the one way every handler does it.

* Every reply is HTML (user strings escaped by the caller) fitted to Telegram's limit, with
  link previews off; a Telegram failure is logged, never raised at the user.
* A pressed message is edited in place to show the outcome — a status line under the text
  (:func:`with_status`, which replaces our earlier status line rather than stacking them)
  and/or a changed keyboard — and an edit that would change nothing is skipped, because
  Telegram answers it with "message is not modified".
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from telegram import (
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.render.text import TELEGRAM_TEXT_LIMIT, esc, fit, plain, visible_length

log = logging.getLogger(__name__)

__all__ = [
    "NO_PREVIEW",
    "Restyle",
    "answer",
    "edit_in_place",
    "restyled",
    "send_html",
    "with_status",
]

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
STATUS_MARK = "▸"
_STATUS_HTML = f"\n\n<i>{STATUS_MARK} "

Restyle = Callable[[str, str], tuple[str, str]]  # (button text, data) -> (text, data)
Markup = InlineKeyboardMarkup | ForceReply | None


async def send_html(
    bot: object, chat_id: int, text_html: str, markup: Markup = None
) -> Message | None:
    """Send ``text_html`` to a chat; None (logged) when Telegram refuses."""
    try:
        sent: Message = await bot.send_message(  # type: ignore[attr-defined]
            chat_id,
            fit(text_html),
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            link_preview_options=NO_PREVIEW,
        )
        return sent
    except TelegramError as exc:
        log.warning("reply failed: %s", type(exc).__name__)
        return None


async def answer(query: CallbackQuery, text: str = "") -> None:
    """Answer a button press (a toast when ``text`` is given); errors are logged only."""
    try:
        await query.answer(text[:200] or None)
    except TelegramError as exc:  # too old, or answered already: nothing to do
        log.info("callback answer failed: %s", type(exc).__name__)


def with_status(message: Message, status: str) -> str:
    """The message's HTML with ``status`` as its (one) status line."""
    base = message.text_html
    head, sep, tail = base.rpartition(_STATUS_HTML)
    if sep and tail.endswith("</i>") and "\n" not in tail:
        base = head
    return f"{base}{_STATUS_HTML}{esc(status)}</i>"


def restyled(
    markup: InlineKeyboardMarkup | None, changes: dict[str, Restyle]
) -> InlineKeyboardMarkup | None:
    """The keyboard with some buttons changed (found by their callback data)."""
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


def _markup_dict(markup: InlineKeyboardMarkup | None) -> object:
    return markup.to_dict() if markup is not None else None


async def edit_in_place(
    query: CallbackQuery,
    text_html: str | None,
    markup: InlineKeyboardMarkup | None,
    *,
    keep_markup: bool = False,
) -> None:
    """Put ``text_html`` (None: keep the text) and ``markup`` on the pressed message.

    ``keep_markup`` keeps the message's buttons as they are. A message too old to edit
    (inaccessible) is left alone."""
    message = query.message
    if not isinstance(message, Message):
        return
    old = message.reply_markup
    new = old if keep_markup else markup
    try:
        if text_html is not None and message.text is not None:
            text_html = fit(text_html)
            same_text = plain(text_html) == message.text
            if same_text and _markup_dict(new) == _markup_dict(old):
                return
            if not same_text and visible_length(text_html) <= TELEGRAM_TEXT_LIMIT:
                await query.edit_message_text(
                    text_html,
                    parse_mode=ParseMode.HTML,
                    reply_markup=new,
                    link_preview_options=NO_PREVIEW,
                )
                return
        if _markup_dict(new) != _markup_dict(old):
            await query.edit_message_reply_markup(reply_markup=new)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            log.warning("could not edit a message after a press: %s", exc.message)
    except TelegramError as exc:
        log.warning("could not edit a message after a press: %s", type(exc).__name__)
