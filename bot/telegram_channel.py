"""Sending rendered messages through the Bot API, with errors sorted by what to do next.

The dispatcher only needs to know three things about a failure: try again later
(network trouble, 429 flood control, 5xx), give up on this message (a 400 the
retry won't fix), or stop writing to this chat altogether (the user blocked the
bot, or the chat is gone). This module turns python-telegram-bot's exceptions
into those three.
"""

from __future__ import annotations

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.render import Button, TelegramMessage


class SendError(Exception):
    """Base of the channel errors; ``str()`` is safe to store and log."""


class TemporaryError(SendError):
    """Try again later; ``retry_after`` seconds when the server said so (429)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentError(SendError):
    """This message can never be delivered as it is; mark it failed."""


class RecipientGone(SendError):
    """The chat can no longer receive messages (blocked, kicked, deleted)."""


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
        """Send and return the Telegram message id, or raise a :class:`SendError`."""
        try:
            sent = await self.bot.send_message(
                chat_id=chat_id,
                text=message.text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(message.buttons),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except RetryAfter as exc:
            raise TemporaryError("flood control (429)", _seconds(exc.retry_after)) from exc
        except Forbidden as exc:
            raise RecipientGone(f"forbidden: {exc.message}") from exc
        except ChatMigrated as exc:
            raise RecipientGone(f"chat migrated to {exc.new_chat_id}") from exc
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                raise RecipientGone("chat not found") from exc
            raise PermanentError(f"bad request: {exc.message}") from exc
        except TelegramError as exc:  # NetworkError, TimedOut, 5xx
            raise TemporaryError(f"{type(exc).__name__}: {exc.message}") from exc
        return sent.message_id


def _seconds(value: object) -> float:
    total_seconds = getattr(value, "total_seconds", None)
    if callable(total_seconds):
        return float(total_seconds())
    return float(value)  # type: ignore[arg-type]
