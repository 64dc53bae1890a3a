"""What every chat command and settings button shares: the :class:`Turn`.

* A :class:`Turn` is one update as the chat handlers see it: who, which chat, the text after
  the command, and helpers to reply, answer a button and edit the pressed message in place
  (:mod:`bot.telegram.replies`).
* In a group, commands and buttons that change something are checked against
  ``getChatMember`` on every update (callback data can be forged; admin lists change).
* Settings buttons carry callback data ``s:<action>[:<arg>...]`` (:func:`data`), so they can
  never be mistaken for alert buttons. Which function handles which command or button is
  listed, explicitly, in :mod:`bot.routes`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telegram import (
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from bot.callbacks import pack
from bot.render.text import esc, fit, plain
from bot.services import Services
from bot.telegram import replies
from bot.telegram.context import BotContext, ChatOptions

log = logging.getLogger(__name__)

Context = BotContext
PREFIX = "s:"
SETTINGS_ACTION = "s"
__all__ = ["ChatOptions", "Context", "Turn", "data", "esc", "fit", "kb", "label", "plain"]

NOT_ADMIN = "Only this group's admins can change my settings here."


def kb(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """An inline keyboard from rows of (label, callback data)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t, callback_data=d) for t, d in row] for row in rows if row]
    )


def label(text: str, limit: int = 28) -> str:
    """A button label: one line, at most ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass
class Turn:
    """One update for a chat command or a settings button."""

    update: Update
    context: Context
    chat_id: int
    user_id: int | None
    chat_type: str
    args: str = ""
    query: CallbackQuery | None = None
    answered: bool = field(default=False)

    @property
    def services(self) -> Services:
        return self.context.services

    @property
    def options(self) -> ChatOptions:
        return self.context.options

    @property
    def is_group(self) -> bool:
        return self.chat_type in (ChatType.GROUP, ChatType.SUPERGROUP)

    @property
    def first_name(self) -> str:
        user = self.update.effective_user
        return user.first_name if user is not None and user.first_name else ""

    @property
    def chat_title(self) -> str | None:
        chat = self.update.effective_chat
        return chat.title if chat is not None and chat.title else None

    async def reply(
        self,
        text: str,
        markup: InlineKeyboardMarkup | None = None,
        *,
        force_reply: bool = False,
    ) -> Message | None:
        """Send ``text`` (HTML) to the chat; never raises for Telegram errors."""
        reply_markup: InlineKeyboardMarkup | ForceReply | None = markup
        if force_reply and markup is None:
            reply_markup = ForceReply(selective=True)
        return await replies.send_html(self.context.bot, self.chat_id, text, reply_markup)

    async def answer(self, text: str = "") -> None:
        """Answer the pressed button (once); a toast when ``text`` is given."""
        if self.query is None or self.answered:
            return
        self.answered = True
        await replies.answer(self.query, text)

    async def show(self, text: str, markup: InlineKeyboardMarkup | None) -> None:
        """Put ``text`` and ``markup`` on the pressed message (or reply, for a command)."""
        message = self.query.message if self.query is not None else None
        if self.query is None or not isinstance(message, Message):
            await self.reply(text, markup)
            return
        await replies.edit_in_place(self.query, text, markup)

    async def is_admin(self) -> bool:
        """Whether the sender may change settings here (always, in a private chat)."""
        if not self.is_group:
            return True
        message = self.update.effective_message
        if (
            self.query is None
            and message is not None
            and message.sender_chat is not None
            and message.sender_chat.id == self.chat_id
        ):
            return True  # an anonymous admin posts as the group itself
        if self.user_id is None:
            return False
        try:
            member = await self.context.bot.get_chat_member(self.chat_id, self.user_id)
        except TelegramError as exc:
            log.info("getChatMember failed: %s", type(exc).__name__)
            return False
        return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


CommandFn = Callable[[Turn], Awaitable[None]]
ButtonFn = Callable[[Turn, list[str]], Awaitable[None]]


def data(action: str, *args: str | int) -> str:
    """Callback data ``s:action:arg...`` of a settings button (:mod:`bot.callbacks`)."""
    return pack(SETTINGS_ACTION, action, *args)


def args_of(message: Message | None) -> str:
    """The text after ``/command`` (new lines kept, so lists can be one per line)."""
    if message is None or not message.text:
        return ""
    text = message.text
    first = text.split(maxsplit=1)
    if not first or not first[0].startswith("/"):
        return text
    return text[text.index(first[0]) + len(first[0]) :].strip()


def turn_for(update: Update, context: Context, *, with_args: bool = True) -> Turn | None:
    chat = update.effective_chat
    if chat is None:
        return None
    user = update.effective_user
    return Turn(
        update=update,
        context=context,
        chat_id=chat.id,
        user_id=user.id if user is not None else None,
        chat_type=chat.type,
        args=args_of(update.effective_message) if with_args else "",
        query=update.callback_query,
    )
