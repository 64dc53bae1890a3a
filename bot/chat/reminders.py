"""``/reminders``: the notices a subscriber asked to be reminded of, and a way to cancel.

⏰ under an alert (or ⏰ 2 on a grouped message) queues reminders before the notice closes
(:func:`storage.feedback.schedule_reminders`); this lists the ones still to come, one item
per notice with its closing date and the reminder days, each with a ✖️ Cancel button
(``s:rmx:<notice id>``). A press only ever cancels the pressing chat's own reminders: the
notice id comes from the button, the subscriber from the chat.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup

from bot.chat.account import subscribed
from bot.chat.core import Turn, data, kb
from bot.render.phrases import day_month, deadline_phrase
from bot.render.text import clean, esc, link
from storage.feedback import PendingReminder, cancel_reminders, pending_reminders

__all__ = ["CANCEL_STEP", "on_cancel_reminder", "on_reminders"]

CANCEL_STEP = "rmx"
SHOWN = 10
_TITLE_MAX = 110

NONE_SET = (
    "You have no reminders set. Press ⏰ <b>Remind me</b> under an alert (or ⏰ and its number "
    "on a message with several) and I'll remind you 3 days and 1 day before it closes."
)


def _times(times: tuple[datetime, ...], now: datetime, tz: ZoneInfo) -> str:
    days = [day_month(t.astimezone(tz), now.astimezone(tz)) for t in times]
    return days[0] if len(days) == 1 else ", ".join(days[:-1]) + " and " + days[-1]


def listing(
    items: list[PendingReminder], now: datetime, tz: ZoneInfo
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The /reminders message (HTML) and its cancel buttons, numbered like the list."""
    if not items:
        return NONE_SET, None
    lines = [f"⏰ <b>Your reminders ({len(items)})</b>"]
    buttons: list[tuple[str, str]] = []
    for number, item in enumerate(items[:SHOWN], start=1):
        title = link(item.url, esc(clean(item.title, _TITLE_MAX) or "Untitled notice"))
        lines.append(
            f"\n{number}. {title}\n"
            f"    📅 {esc(deadline_phrase(item.deadline, now, tz))}\n"
            f"    ⏰ reminding you on {esc(_times(item.times, now, tz))}"
        )
        buttons.append((f"✖️ Cancel {number}", data(CANCEL_STEP, item.notice_id)))
    if len(items) > SHOWN:
        lines.append(f"\n…and {len(items) - SHOWN} more (cancel some to see them).")
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return "\n".join(lines), kb(rows)


async def on_reminders(turn: Turn) -> None:
    services = turn.services
    async with subscribed(turn) as acc:
        items = await pending_reminders(acc.session, acc.id)
    text, markup = listing(items, services.clock(), services.timezone)
    await turn.reply(text, markup)


async def on_cancel_reminder(turn: Turn, args: list[str]) -> None:
    """✖️ Cancel n: cancel that notice's reminders for this chat, show the list again."""
    services = turn.services
    notice_id = int(args[0]) if args and args[0].isdigit() else None
    if notice_id is None:
        await turn.answer("Sorry, I didn't understand that button.")
        return
    async with subscribed(turn) as acc:
        before = {i.notice_id: i for i in await pending_reminders(acc.session, acc.id)}
        cancelled = await cancel_reminders(acc.session, acc.id, notice_id)
        items = await pending_reminders(acc.session, acc.id)
    gone = before.get(notice_id)
    if cancelled and gone is not None:
        await turn.answer(f"Reminder cancelled: “{clean(gone.title, 80)}”")
    else:
        await turn.answer("That reminder was already sent or cancelled.")
    text, markup = listing(items, services.clock(), services.timezone)
    await turn.show(text, markup)
