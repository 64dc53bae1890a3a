"""The plumbing every chat command and settings button shares.

* A :class:`Turn` is one update as the chat package sees it: who, which chat, the text after
  the command, and helpers to reply, answer a button and edit the pressed message in place.
* :func:`command` and :func:`button` register handlers in :data:`COMMANDS` / :data:`BUTTONS`;
  :func:`bot.chat.install` turns them into PTB handlers. Settings buttons carry callback data
  ``s:<action>[:<arg>...]`` so they can never be mistaken for alert buttons.
* In a group, commands and buttons that change something are checked against
  ``getChatMember`` on every update (callback data can be forged; admin lists change).
* Replies are HTML with every user string escaped; an edit that would change nothing is
  skipped (Telegram refuses it with "message is not modified").
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram import (
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import CallbackContext

from bot.handlers import STATE_KEY, HandlerState
from bot.render import TELEGRAM_TEXT_LIMIT, visible_length
from storage.settings import get_or_create

log = logging.getLogger(__name__)

Context = CallbackContext[Any, Any, Any, Any]
OPTIONS_KEY = "bestbot.chat.options"
PREFIX = "s:"
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

NOT_ADMIN = "Only this group's admins can change my settings here."


@dataclass
class ChatOptions:
    """Tunables of the chat package (tests change them through ``app.bot_data``)."""

    flood_limit: int = 30  # updates per user per window; more are throttled
    flood_window: timedelta = timedelta(seconds=10)
    code_ttl: timedelta = timedelta(minutes=15)
    code_tries: int = 5
    code_resend_after: timedelta = timedelta(seconds=60)


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def kb(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """An inline keyboard from rows of (label, callback data)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t, callback_data=d) for t, d in row] for row in rows if row]
    )


def label(text: str, limit: int = 28) -> str:
    """A button label: one line, at most ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_TAG = re.compile(r"<[^>]*>")


def plain(telegram_html: str) -> str:
    return html.unescape(_TAG.sub("", telegram_html))


def fit(text: str) -> str:
    """Keep a reply within Telegram's limit (only lists can get long; cut at a line)."""
    if visible_length(text) <= TELEGRAM_TEXT_LIMIT:
        return text
    lines = text.split("\n")
    while lines and visible_length("\n".join([*lines, "…"])) > TELEGRAM_TEXT_LIMIT:
        lines.pop()
    return "\n".join([*lines, "…"])


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
    def state(self) -> HandlerState:
        state = self.context.bot_data[STATE_KEY]
        assert isinstance(state, HandlerState)
        return state

    @property
    def options(self) -> ChatOptions:
        found = self.context.bot_data.get(OPTIONS_KEY)
        return found if isinstance(found, ChatOptions) else ChatOptions()

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
        try:
            sent: Message = await self.context.bot.send_message(
                self.chat_id,
                fit(text),
                parse_mode=ParseMode.HTML,
                reply_markup=reply_markup,
                link_preview_options=_NO_PREVIEW,
            )
            return sent
        except TelegramError as exc:
            log.warning("chat reply failed: %s", type(exc).__name__)
            return None

    async def answer(self, text: str = "") -> None:
        """Answer the pressed button (once); a toast when ``text`` is given."""
        if self.query is None or self.answered:
            return
        self.answered = True
        try:
            await self.query.answer(text[:200] or None)
        except TelegramError as exc:
            log.info("callback answer failed: %s", type(exc).__name__)

    async def show(self, text: str, markup: InlineKeyboardMarkup | None) -> None:
        """Put ``text`` and ``markup`` on the pressed message (or reply, for a command)."""
        message = self.query.message if self.query is not None else None
        if not isinstance(message, Message):
            await self.reply(text, markup)
            return
        text = fit(text)
        old = message.reply_markup.to_dict() if message.reply_markup is not None else None
        new = markup.to_dict() if markup is not None else None
        same_text = message.text is not None and plain(text) == message.text
        try:
            if same_text and old == new:
                return
            if same_text:
                await self.query.edit_message_reply_markup(reply_markup=markup)  # type: ignore[union-attr]
            else:
                await self.query.edit_message_text(  # type: ignore[union-attr]
                    text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    link_preview_options=_NO_PREVIEW,
                )
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                log.warning("could not edit a settings message: %s", exc.message)
        except TelegramError as exc:
            log.warning("could not edit a settings message: %s", type(exc).__name__)

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

    async def secret_key(self) -> str | None:
        """The HMAC key for link tokens: the configured one, else the one kept in the DB."""
        config = self.state.config
        if config is None:
            return None
        if not config.secret_key_generated:
            return config.secret_key
        async with self.state.db.session() as session:
            return await get_or_create(session, "secret_key", config.secret_key)


CommandFn = Callable[[Turn], Awaitable[None]]
ButtonFn = Callable[[Turn, list[str]], Awaitable[None]]


@dataclass(frozen=True)
class CommandSpec:
    fn: CommandFn
    admin: bool  # changes something: group admins only


COMMANDS: dict[str, CommandSpec] = {}
BUTTONS: dict[str, ButtonFn] = {}


def command(*names: str, admin: bool = True) -> Callable[[CommandFn], CommandFn]:
    def register(fn: CommandFn) -> CommandFn:
        for name in names:
            COMMANDS[name] = CommandSpec(fn, admin)
        return fn

    return register


def button(action: str) -> Callable[[ButtonFn], ButtonFn]:
    def register(fn: ButtonFn) -> ButtonFn:
        BUTTONS[action] = fn
        return fn

    return register


def data(action: str, *args: str | int) -> str:
    """Callback data ``s:action:arg...`` (checked against Telegram's 64-byte limit)."""
    text = ":".join([PREFIX + action, *(str(a) for a in args)])
    if len(text.encode()) > 64:
        raise ValueError(f"callback data too long: {text!r}")
    return text


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
