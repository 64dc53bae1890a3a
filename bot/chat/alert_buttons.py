"""The buttons under an alert: 👍/👎, 🔕 mute a keyword (with undo), ⏰ remind me.

(❓ Ask an adviser is the enquiries' button: :mod:`bot.enquiries.telegram`.)

* Callback data can be forged (any client can send any bytes), so every press is checked
  against the database: the delivery must belong to the subscriber whose chat the button
  was pressed in, and in a group the presser must be one of its admins — exactly the check
  commands make, because these buttons change the group's subscription.
* Every callback query is answered, even garbage, or the user's button keeps spinning.
* The message is edited in place to show the choice (a status line and a restyled
  keyboard), through :func:`bot.telegram.replies.edit_in_place`.
* Handlers keep no state of their own (the database holds it), so they are idempotent and
  can run in several workers behind a webhook.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import CallbackQuery, Message, Update

from bot.callbacks import pack, unpack
from bot.chat.core import turn_for
from bot.render.telegram import (
    ACTION_MUTE,
    ACTION_NOT_RELEVANT,
    ACTION_RELEVANT,
    ACTION_REMIND,
    ACTION_UNDO,
)
from bot.render.text import clean
from bot.services import Services
from bot.telegram import replies
from bot.telegram.context import BotContext
from bot.telegram.wording import GARBLED, NOT_ADMIN, NOT_YOURS
from storage.feedback import (
    Owned,
    active_channels,
    delivery_for_chat,
    mute_keyword,
    notice_title,
    record_feedback,
    schedule_reminders,
    unmute_keyword,
)

log = logging.getLogger(__name__)

_CHECK = "✓ "
_TITLE_SHOWN = 80
_QUOTED = re.compile(r"“(.*)”")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --- alert buttons -----------------------------------------------------------------------------

Restyle = replies.Restyle


@dataclass(frozen=True)
class Outcome:
    """What a press did: the toast (callback answer), a status line, keyboard changes."""

    answer: str
    status: str | None = None
    restyle: dict[str, Restyle] | None = None  # by callback data


Action = Callable[[AsyncSession, Owned, str, Services], Awaitable[Outcome]]


async def on_callback(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None:
        return
    services = context.services
    parsed = unpack(query.data)
    action = ACTIONS.get(parsed.action) if parsed is not None else None
    delivery_id = parsed.id(0) if parsed is not None else None
    if parsed is None or action is None or delivery_id is None:
        log.info("unreadable callback data answered")
        await replies.answer(query, GARBLED)
        return
    turn = turn_for(update, context, with_args=False)
    if turn is not None and not await turn.is_admin():
        log.warning("refused %r press in group %s: not an admin", parsed.action, turn.chat_id)
        await replies.answer(query, NOT_ADMIN)
        return
    chat_id = _chat_of(query)
    async with services.db.session() as session:
        owned = await delivery_for_chat(session, delivery_id, chat_id)
        if owned is None:
            log.warning(
                "refused %r press for delivery %s: not this chat's", parsed.action, delivery_id
            )
            outcome = Outcome(NOT_YOURS)
        else:
            outcome = await action(session, owned, parsed.arg(1), services)
    await replies.answer(query, outcome.answer)
    if outcome.status is not None or outcome.restyle:
        await _show(query, outcome)


def _chat_of(query: CallbackQuery) -> int:
    """The chat the button was pressed in (a group subscriber's members may all press)."""
    message = query.message
    if message is not None and message.is_accessible:
        return message.chat.id
    return query.from_user.id


async def _named(session: AsyncSession, owned: Owned) -> str:
    """The notice a press acts on, quoted for its answer: several notices may share the
    pressed message (a group, a digest), so the answer says which one it was."""
    title = clean(await notice_title(session, owned.delivery.notice_id), _TITLE_SHOWN)
    return f"“{title}”" if title else "this notice"


async def _feedback(relevant: bool, session: AsyncSession, owned: Owned) -> Outcome:
    sub_id, delivery = owned.subscriber.id, owned.delivery
    assert sub_id is not None and delivery.id is not None
    await record_feedback(session, sub_id, delivery.notice_id, relevant)
    word = "relevant" if relevant else "not relevant"
    up, down = pack(ACTION_RELEVANT, delivery.id), pack(ACTION_NOT_RELEVANT, delivery.id)
    named = await _named(session, owned)
    return Outcome(
        f"Thanks — marked {word}: {named}",
        status=f"Marked {named} {word} — thanks, this helps us improve your matches.",
        restyle={up: _checked(relevant), down: _checked(not relevant)},
    )


async def on_relevant(session: AsyncSession, owned: Owned, arg: str, _: Services) -> Outcome:
    return await _feedback(True, session, owned)


async def on_not_relevant(session: AsyncSession, owned: Owned, arg: str, _: Services) -> Outcome:
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


async def on_mute(session: AsyncSession, owned: Owned, arg: str, _: Services) -> Outcome:
    keyword = _keyword(owned, arg)
    if keyword is None:
        return Outcome(GARBLED)
    assert owned.subscriber.id is not None and owned.delivery.id is not None
    removed = await mute_keyword(session, owned.subscriber.id, keyword)
    undo = pack(ACTION_UNDO, owned.delivery.id, arg)

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
        restyle={pack(ACTION_MUTE, owned.delivery.id, arg): restyle},
    )


async def on_undo(session: AsyncSession, owned: Owned, arg: str, _: Services) -> Outcome:
    keyword = _keyword(owned, arg)
    if keyword is None:
        return Outcome(GARBLED)
    assert owned.subscriber.id is not None and owned.delivery.id is not None
    added = await unmute_keyword(session, owned.subscriber.id, keyword)
    mute = pack(ACTION_MUTE, owned.delivery.id, arg)

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
        restyle={pack(ACTION_UNDO, owned.delivery.id, arg): restyle},
    )


def _day(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}"


def _and(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


async def on_remind(session: AsyncSession, owned: Owned, arg: str, services: Services) -> Outcome:
    if not active_channels(owned.subscriber):
        return Outcome("Your alerts are switched off, so I can't send reminders.")
    plan = await schedule_reminders(session, owned, services.clock(), services.remind_before)
    if plan.deadline is None:
        return Outcome("This notice has no closing date, so there is nothing to remind you of.")
    if plan.closed:
        return Outcome("This opportunity has already closed.")
    if not plan.times:
        return Outcome("It closes within a day — too soon for a reminder. Good luck!")
    when = _and([_day(t, services.timezone) for t in plan.times])
    text = f"I'll remind you on {when} about {await _named(session, owned)}"
    if owned.subscriber.paused:
        text += " (if your alerts are on again by then: send /resume)"
    assert owned.delivery.id is not None
    remind = pack(ACTION_REMIND, owned.delivery.id)
    return Outcome(
        text if plan.created else f"Already set: {text[0].lower()}{text[1:]}",
        status=f"{text}.",
        restyle={remind: _reminder_set},
    )


def _reminder_set(text: str, data: str) -> tuple[str, str]:
    """⏰ Remind me → ⏰ Reminder set ✓; a numbered ⏰ 2 → ⏰ 2 ✓ (it still says which)."""
    if text == "⏰ Remind me":
        return "⏰ Reminder set ✓", data
    return (text if text.endswith("✓") else f"{text} ✓"), data


ACTIONS: dict[str, Action] = {
    ACTION_RELEVANT: on_relevant,
    ACTION_NOT_RELEVANT: on_not_relevant,
    ACTION_MUTE: on_mute,
    ACTION_UNDO: on_undo,
    ACTION_REMIND: on_remind,
}


async def _show(query: CallbackQuery, outcome: Outcome) -> None:
    """Edit the pressed message: status line and keyboard, unless nothing would change."""
    message = query.message
    if not isinstance(message, Message):
        return  # too old to edit (inaccessible)
    markup = replies.restyled(message.reply_markup, outcome.restyle or {})
    text = replies.with_status(message, outcome.status) if outcome.status is not None else None
    await replies.edit_in_place(query, text, markup)
