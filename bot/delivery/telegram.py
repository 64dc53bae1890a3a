"""Sending rendered messages through the Bot API, failures sorted by what to do next.

python-telegram-bot's exceptions become the delivery vocabulary (:mod:`bot.delivery.errors`):
network trouble, 429 flood control and 5xx → :class:`RetryLater`; a 400 that a retry won't
fix → :class:`Undeliverable`; a blocked bot, a kicked bot, a deleted or migrated chat →
:class:`RecipientGone`. The sender never raises anything else for a Telegram failure.
"""

from __future__ import annotations

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    LinkPreviewOptions,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.delivery.errors import RecipientGone, RetryLater, Undeliverable
from bot.render.model import Button, Photo, TelegramMessage

__all__ = ["TelegramSender", "keyboard"]

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def keyboard(buttons: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """PTB's markup for our button rows (None when there are none)."""
    rows = [
        [
            InlineKeyboardButton(b.text, url=b.url)
            if b.url
            else InlineKeyboardButton(b.text, callback_data=b.callback_data)
            for b in row
        ]
        for row in buttons
        if row
    ]
    return InlineKeyboardMarkup(rows) if rows else None


class TelegramSender:
    """Sends :class:`TelegramMessage` values to chats through one PTB ``Bot``."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: int, message: TelegramMessage) -> int:
        """Send and return the Telegram message id, or raise a delivery error. A message
        with ``edit_of`` replaces that message's buttons instead (and its text too, with
        ``edit_text``).

        A message with photos is its text, then the photos (one, or an album of up to ten).
        A failure after the text was sent is retried whole, so the text may arrive twice —
        the courier's rule: a message in flight may repeat, none is lost.
        """
        if message.edit_of is not None and message.edit_text:
            await self.edit(chat_id, message.edit_of, message)
            return message.edit_of
        if message.edit_of is not None:
            await self.set_buttons(chat_id, message.edit_of, message)
            return message.edit_of
        try:
            sent = await self.bot.send_message(
                chat_id=chat_id,
                text=message.text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(message.buttons),
                link_preview_options=_NO_PREVIEW,
            )
            await self._photos(chat_id, message.photos[:10])
        except TelegramError as exc:
            raise _translate(exc) from exc
        return sent.message_id

    async def set_buttons(self, chat_id: int, message_id: int, message: TelegramMessage) -> None:
        """Replace an earlier message's buttons (none: remove them); "not modified" is
        success."""
        try:
            await self.bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=keyboard(message.buttons)
            )
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return
            raise _translate(exc) from exc
        except TelegramError as exc:
            raise _translate(exc) from exc

    async def _photos(self, chat_id: int, photos: tuple[Photo, ...]) -> None:
        if len(photos) == 1:
            [photo] = photos
            await self.bot.send_photo(
                chat_id=chat_id,
                photo=photo.data,
                filename=photo.filename,
                caption=photo.caption or None,
            )
        elif photos:
            album = [
                InputMediaPhoto(p.data, caption=p.caption or None, filename=p.filename)
                for p in photos
            ]
            await self.bot.send_media_group(chat_id=chat_id, media=album)

    async def edit(self, chat_id: int, message_id: int, message: TelegramMessage) -> None:
        """Replace an earlier message's text and buttons; "not modified" is success."""
        try:
            await self.bot.edit_message_text(
                chat_id=chat_id,
                message_id=message_id,
                text=message.text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(message.buttons),
                link_preview_options=_NO_PREVIEW,
            )
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return
            raise _translate(exc) from exc
        except TelegramError as exc:
            raise _translate(exc) from exc


def _translate(exc: TelegramError) -> Exception:
    if isinstance(exc, RetryAfter):
        return RetryLater("flood control (429)", _seconds(exc.retry_after))
    if isinstance(exc, Forbidden):
        return RecipientGone(f"forbidden: {exc.message}")
    if isinstance(exc, ChatMigrated):
        return RecipientGone(f"chat migrated to {exc.new_chat_id}")
    if isinstance(exc, BadRequest):
        text = exc.message.lower()
        if "chat not found" in text or "user is deactivated" in text:
            return RecipientGone(exc.message)
        return Undeliverable(f"bad request: {exc.message}")
    return RetryLater(f"{type(exc).__name__}: {exc.message}")  # NetworkError, TimedOut, 5xx


def _seconds(value: object) -> float:
    total_seconds = getattr(value, "total_seconds", None)
    if callable(total_seconds):
        return float(total_seconds())
    return float(value)  # type: ignore[arg-type]
