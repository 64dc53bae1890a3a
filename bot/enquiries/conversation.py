"""Plain messages that reach a person: no Reply gesture needed.

People type their answer; few think of Telegram's Reply. So in a private chat:

* an **enterprise** with one open enquiry: its message goes to that enquiry's adviser
  ("Sent to your adviser about ENQ-000123"); with several, the message is kept as a draft
  (a row, so nothing is lost on a restart) and the enterprise picks the enquiry by button;
* an **adviser** with enquiries in hand: the same, towards the enterprise;
* an adviser who chose ↪️ Pass on → a colleague: their next message is the note for them;
* a photo, sticker or file while an enquiry is open gets a clear answer (only text is
  passed on; a caption is);
* with nothing open — or while the chat is in the middle of another step (onboarding,
  ``/add``, a code) — the message passes on untouched to the usual handlers, which keep
  today's helpful answer.

Groups are left alone: chatter in a group is not meant for an adviser (the Reply gesture
still works there). Every refusal is checked in the database, never from memory.
"""

from __future__ import annotations

import html
import logging

from telegram import Message, Update
from telegram.constants import ChatType

from bot.enquiries import menus, texts
from bot.enquiries.model import PASS_NOTE_STEP, Actor
from bot.enquiries.service import EnquiryService
from bot.telegram import replies
from bot.telegram.context import BotContext
from storage.chat import get_state, take_state
from storage.models import EnquiryRow

log = logging.getLogger(__name__)

__all__ = ["on_non_text", "on_plain_text", "take_pass_note"]

NOT_TEXT = (
    "I can only pass on text to {whom}, so that {what} wasn't sent. Please type your "
    "message here (you can describe what it shows)."
)
CAPTION_ONLY = "(The {what} itself can't be passed on — only its caption was sent.)"


def _what(message: Message) -> str:
    if message.photo:
        return "photo"
    if message.sticker:
        return "sticker"
    if message.voice or message.audio:
        return "voice message"
    if message.video or message.video_note or message.animation:
        return "video"
    if message.document:
        return "file"
    return "message"


async def _say(update: Update, text: str) -> None:
    chat = update.effective_chat
    if chat is not None:
        await replies.send_html(
            update.get_bot(), chat.id, f"<i>{html.escape(text, quote=False)}</i>"
        )


async def _adviser(service: EnquiryService, update: Update) -> Actor | None:
    user = update.effective_user
    actor = await service.actor_for(user.id) if user is not None else None
    return actor if actor is not None and actor.adviser is not None else None


async def take_pass_note(update: Update, context: BotContext, text: str) -> bool:
    """The note an adviser was asked for after choosing whom to pass an enquiry to."""
    chat = update.effective_chat
    service = context.services.enquiries
    if chat is None or chat.type != ChatType.PRIVATE:
        return False
    async with service.db.session() as session:
        data = await take_state(session, chat.id, PASS_NOTE_STEP, service.clock())
    if data is None:
        return False
    actor = await _adviser(service, update)
    enquiry_id, to = data.get("enquiry"), data.get("to")
    if actor is None or not isinstance(enquiry_id, int) or not isinstance(to, int):
        return False
    outcome = await service.pass_to(enquiry_id, actor, to or None, text.strip())
    await _say(update, outcome.message)
    picker = data.get("message")
    if outcome.ok and isinstance(picker, int):
        try:
            await update.get_bot().edit_message_reply_markup(chat.id, picker, reply_markup=None)
        except Exception as exc:  # an old or deleted message: its buttons refuse anyway
            log.info("could not clear the pass-on buttons: %s", type(exc).__name__)
    return True


async def on_plain_text(update: Update, context: BotContext, text: str) -> bool:
    """Send a plain message to the person on the other side of the sender's open enquiry;
    True when it was used (sent, or kept while the sender picks which enquiry)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type != ChatType.PRIVATE or not text.strip():
        return False
    service = context.services.enquiries
    async with service.db.session() as session:
        pending = await get_state(session, chat.id)
    if pending is not None and (pending.expires_at is None or pending.expires_at > service.clock()):
        return False  # the chat is answering another question of ours (onboarding, /add…)
    actor = await _adviser(service, update)
    if actor is not None:
        assert actor.adviser is not None and actor.adviser.id is not None
        live = await service.open_for_adviser(actor.adviser.id)
        if not live:
            return False
        if len(live) == 1:
            outcome = await service.relay_from_adviser(live[0].id or 0, actor, text)
            await _say(update, outcome.message)
            return True
    else:
        live = await service.open_for_chat(chat.id)
        if not live:
            return False
        if len(live) == 1:
            outcome = await service.relay_from_enterprise(live[0].id or 0, chat.id, text)
            await _say(update, outcome.message)
            return True
    await _ask_which(update, context, text, live, for_adviser=actor is not None)
    return True


async def _ask_which(
    update: Update, context: BotContext, text: str, live: list[EnquiryRow], for_adviser: bool
) -> None:
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    service = context.services.enquiries
    draft = await service.keep_draft(chat.id, user.id, text)
    n = len(live)
    ask = (
        f"You have {n} open enquiries. Which enterprise is this for?"
        if for_adviser
        else f"You have {n} open questions with our advisers. Which one is this about?"
    )
    quoted = texts.one_line(text, 300)
    keyboard = menus.which_keyboard(
        context.services.signer.button_key(), chat.id, draft, live, for_adviser
    )
    await replies.send_html(
        update.get_bot(),
        chat.id,
        f"{html.escape(ask, quote=False)}\n<blockquote>{texts.esc(quoted)}</blockquote>",
        keyboard,
    )


async def on_non_text(update: Update, context: BotContext) -> bool:
    """A photo, sticker, voice note or file while an enquiry is open: its caption is passed
    on (and the sender told the rest wasn't); without one, a clear answer. True when used."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None or chat.type != ChatType.PRIVATE:
        return False
    service = context.services.enquiries
    actor = await _adviser(service, update)
    if actor is not None:
        assert actor.adviser is not None and actor.adviser.id is not None
        live = await service.open_for_adviser(actor.adviser.id)
        whom = "the enterprise"
    else:
        live = await service.open_for_chat(chat.id)
        whom = "your adviser"
    if not live:
        return False
    what = _what(message)
    caption = (message.caption or "").strip()
    if caption and await on_plain_text(update, context, caption):
        await _say(update, CAPTION_ONLY.format(what=what))
        return True
    await _say(update, NOT_TEXT.format(whom=whom, what=what))
    return True
