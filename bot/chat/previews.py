"""Previews in the chat: what the settings find now, and the open notices offered at once.

* After onboarding and after every keyword change the bot says how many currently open
  notices the profile matches and names the best three (:func:`after_change`). The ones with
  time left to bid are queued in the alert outbox — the one delivery path — due a minute
  later (``[alerts] backfill_delay``), so "✖ Don't send them" can still withdraw them; they
  then arrive as one grouped message, like any alerts that come together.
* ``/preview`` (and 🔎 on /settings) shows what the settings found in the last 30 days, with
  the count each keyword brought in and each filter kept out (:func:`on_preview`), and offers
  the open ones with a 📬 button.

The numbers come from :func:`bot.chat.preview_search.preview`, which the web settings page uses too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import InlineKeyboardMarkup

from bot.chat.account import subscribed
from bot.chat.core import Turn, data, esc, kb
from bot.chat.preview_search import Preview, PreviewItem, preview
from bot.render.phrases import deadline_short
from bot.render.text import link, truncate
from bot.services import Services
from storage.outbox import NewDelivery, enqueue
from storage.previews import withdraw_backfill
from storage.subscribers import profile_data, recipients

__all__ = [
    "after_change",
    "on_preview",
    "on_preview_button",
    "on_send_button",
    "on_withdraw_button",
    "open_count",
    "summary",
]

DAYS = 30
BEST = 3


def _line(n: int, item: PreviewItem, services: Services) -> str:
    title = esc(truncate(item.title, 90))
    when = deadline_short(item.deadline, services.clock(), services.timezone)
    buyer = f" — {esc(truncate(item.buyer, 50))}" if item.buyer else ""
    return f"{n}. {link(item.url, title)}{buyer}, {esc(when)}"


def summary(found: Preview, services: Services) -> str:
    """ "🔎 5 open notices match right now. The best: 1. … 2. … 3. …" (HTML)."""
    if found.problem is not None:
        return ""
    n = len(found.open)
    if n == 0:
        return (
            "🔎 Nothing open matches right now — that's common for a specialist trade, and "
            "I'll tell you as soon as something does. /preview shows what these settings "
            f"found in the last {found.days} days."
        )
    noun = "notice matches" if n == 1 else "notices match"
    head = f"🔎 <b>{n} open {noun} right now.</b>"
    lines = [head, "The best:" if n > 1 else ""]
    lines += [_line(i, item, services) for i, item in enumerate(found.best(BEST), start=1)]
    return "\n".join(line for line in lines if line)


def _sending(n: int, open_now: int, later: bool) -> str:
    """ "📬 Sending it to you in a minute." and its variants."""
    if n == open_now:
        what = "it to you" if n == 1 else "them to you"
    else:
        what = "you " + ("the one" if n == 1 else f"the {n}") + " with time left to bid"
    when = "in a minute" if later else "now"
    together = ", in one message" if n > 1 else ""
    return f"📬 Sending {what} {when}{together}."


def _stamp(due: datetime) -> int:
    return int(due.timestamp() * 1000)


def _from_stamp(ms: str) -> datetime | None:
    if not ms.isdigit():
        return None
    return datetime.fromtimestamp(int(ms) / 1000, UTC)


async def _enqueue(services: Services, subscriber_id: int, items: tuple[PreviewItem, ...],
                   due: datetime) -> int:  # fmt: skip
    async with services.db.session() as session:
        people = await recipients(session, [subscriber_id])
        who = people.get(subscriber_id)
        if who is None:
            return 0
        rows = [
            NewDelivery(
                subscriber_id=subscriber_id,
                notice_id=item.notice_id,
                version=item.version,
                channel=channel,
                due_at=due,
                score=item.score,
                reasons=item.reasons,
                keywords=item.keywords,
            )
            for item in items
            for channel in who.channels
        ]
        return await enqueue(session, rows)


async def open_count(services: Services, profile: dict[str, Any]) -> int:
    """How many currently open notices ``profile`` matches (for a button's toast)."""
    return len((await preview(services, profile, DAYS)).open)


async def after_change(
    turn: Turn,
    subscriber_id: int,
    profile: dict[str, Any],
    lead: str = "",
    rows: list[list[tuple[str, str]]] | None = None,
    *,
    since: datetime | None = None,
) -> None:
    """Reply with ``lead``, what the profile finds open now, and the default-on backfill
    (plus any button ``rows`` the caller adds); with ``since``, only notices first seen
    since then are sent (what opened during a /pause)."""
    services = turn.services
    found = await preview(services, profile, DAYS)
    text = "\n\n".join(p for p in (lead, summary(found, services)) if p)
    buttons = list(rows or [])
    to_send = tuple(i for i in found.to_send if since is None or i.first_seen >= since)
    if to_send:
        delay = services.config.alerts.backfill_delay
        due = services.clock() + delay
        due = due.replace(microsecond=due.microsecond // 1000 * 1000)
        queued = await _enqueue(services, subscriber_id, to_send, due)
        if queued:
            text += "\n\n" + _sending(len(to_send), len(found.open), delay > timedelta(0))
            if delay > timedelta(0):
                label = "✖ Don't send it" if len(to_send) == 1 else "✖ Don't send them"
                buttons.append([(label, data("bfx", _stamp(due)))])
    markup: InlineKeyboardMarkup | None = kb(buttons) if buttons else None
    await turn.reply(text, markup)


def details(found: Preview, services: Services) -> str:
    """The /preview screen (HTML)."""
    if found.problem is not None:
        return esc(f"I couldn't read your settings: {found.problem}.")
    n = len(found.found)
    lines = [
        f"🔎 <b>What your settings found in the last {found.days} days</b>",
        f"{n} of the {found.seen} notices I saw"
        + (f" ({sum(1 for i in found.found if i.open)} still open)" if n else "")
        + ".",
    ]
    counted = [(k, c) for k, c in found.by_keyword]
    if counted:
        lines.append("\n<b>By keyword</b>")
        lines += [f"• {esc(k)}: {c}" for k, c in counted[:20]]
        if len(counted) > 20:
            lines.append(f"…and {len(counted) - 20} more keywords")
        if found.by_cpv:
            lines.append(f"• CPV codes alone: {found.by_cpv}")
        idle = [k for k, c in counted if c == 0]
        if idle and len(idle) < len(counted):
            lines.append(
                f"<i>{len(idle)} keyword{'s' if len(idle) > 1 else ''} found nothing: a "
                "shorter or more common word may do better.</i>"
            )
    if found.filters:
        lines.append("\n<b>Kept out by your filters</b>")
        lines += [f"• {esc(f.label)}: {f.removed}" for f in found.filters]
    best = found.best(BEST)
    if best:
        lines.append("\n<b>Open now</b>" if found.open else "\n<b>The best</b>")
        lines += [_line(i, item, services) for i, item in enumerate(best, start=1)]
    if n == 0 and not found.open:
        lines.append(
            "\nNothing yet. Try a broader or shorter keyword (/add), or more regions (/regions)."
        )
    lines.append("\nChange them with /add, /remove, /regions or /settings.")
    return "\n".join(lines)


async def _show(turn: Turn) -> None:
    async with subscribed(turn) as acc:
        sub_id, profile = acc.id, profile_data(acc.profile)
    found = await preview(turn.services, profile, DAYS)
    to_send = found.to_send
    markup = None
    if to_send:
        label = f"📬 Send me the {len(to_send)} open one{'s' if len(to_send) > 1 else ''}"
        markup = kb([[(label, data("bfs"))]])
    del sub_id
    await turn.reply(details(found, turn.services), markup)


async def on_preview(turn: Turn) -> None:
    await _show(turn)


async def on_preview_button(turn: Turn, args: list[str]) -> None:
    await turn.answer()
    await _show(turn)


async def on_send_button(turn: Turn, args: list[str]) -> None:
    """📬 under /preview: queue the open matches with time to bid, due now."""
    async with subscribed(turn) as acc:
        sub_id, profile = acc.id, profile_data(acc.profile)
    found = await preview(turn.services, profile, DAYS)
    queued = await _enqueue(turn.services, sub_id, found.to_send, turn.services.clock())
    await turn.answer(
        f"Sending {queued} notice{'s' if queued != 1 else ''} now."
        if queued
        else "Nothing new to send: you have them all."
    )
    if turn.query is not None and turn.query.message is not None:
        await turn.show(getattr(turn.query.message, "text_html", "") or "🔎", None)


async def on_withdraw_button(turn: Turn, args: list[str]) -> None:
    """✖ Don't send them: the offered backfill is withdrawn while it still waits."""
    due = _from_stamp(args[0]) if args else None
    if due is None:
        await turn.answer("Sorry, I didn't understand that button.")
        return
    async with subscribed(turn) as acc:
        gone = await withdraw_backfill(acc.session, acc.id, due)
    if not gone:
        await turn.answer("They've gone out already.")
        return
    await turn.answer("OK, nothing will be sent.")
    message = turn.query.message if turn.query is not None else None
    text = getattr(message, "text_html", "") or ""
    cut = text.split("\n\n📬")[0]
    await turn.show(f"{cut}\n\n<i>OK, nothing will be sent. /preview lists what's open.</i>", None)
