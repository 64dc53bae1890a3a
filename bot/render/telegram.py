"""Telegram messages: a single alert with its buttons, grouped alerts, digests, nudges.

Telegram refuses a text longer than 4096 characters after entity parsing. Each field has a
cap, and lists (grouped alerts, digests) are fitted to the limit by showing fewer items;
what is not shown is named in :attr:`TelegramMessage.shown` so the delivery loop sends it
next time instead of marking it sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.callbacks import pack
from bot.kinds import follow_up_of, is_withdrawn
from bot.render.model import AlertView, Button, ForecastView, TelegramMessage
from bot.render.phrases import (
    CLOSING_SOON,
    FORECAST_HEADING,
    FORECAST_NOTE,
    MAYBE_HEADING,
    aware,
    change_phrases,
    changes_in_words,
    closing_key,
    counts,
    deadline_phrase,
    deadline_short,
    digest_parts,
    expected_phrase,
    forecast_phrase,
    is_cancelled,
    kind_line,
    later_deadline_phrase,
    lot_phrase,
    lots_more,
    maybe_part,
    nudge_text,
    period_title,
    reasons_line,
    region_names,
    reminder_lead,
    reserved_phrase,
    suitability,
    value_phrase,
    why_short,
)
from bot.render.text import TELEGRAM_TEXT_LIMIT, clean, esc, fit, link, visible_length

if TYPE_CHECKING:
    from storage.feedback import FeedbackTotals

__all__ = [
    "ACTION_ASK",
    "ACTION_MUTE",
    "ACTION_NOT_RELEVANT",
    "ACTION_RELEVANT",
    "ACTION_REMIND",
    "ACTION_UNDO",
    "feedback_lines",
    "nudge_telegram",
    "telegram_alert",
    "telegram_digest",
    "telegram_group",
]

ACTION_RELEVANT = "fb+"
ACTION_NOT_RELEVANT = "fb-"
ACTION_MUTE = "mute"
ACTION_UNDO = "undo"
ACTION_REMIND = "rem"
ACTION_ASK = "ask"  # ❓ Ask an adviser (handled by bot.enquiries)
ACTION_PARTNER = "ptn"  # 🤝 Open to partners (handled by bot.chat.partners)

# Caps in characters of *raw* text, before escaping.
_TITLE_MAX = 300
_TITLE_LINE_MAX = 110  # one line of a group or digest
_BUYER_MAX = 150
_ITEM_BUYER_MAX = 70
_ITEM_PLACES = 2
_DESCRIPTION_LINE_MAX = 160
_KEYWORD_LABEL_MAX = 24
_MUTE_BUTTONS = 2
_GROUP_FEEDBACK_ROWS = 5


def _title_html(view: AlertView, limit: int) -> str:
    title = clean(view.title, limit) or "Untitled notice"
    return link(view.url, esc(title))


_FOLLOW_UP_LEADS = {
    "out_now": ("🚀", "Out now"),
    "open_now": ("🚪", "Open now"),
    "cancelled": ("❌", "Cancelled"),
    "closed": ("❌", "Closed"),
    "changed": ("🔄", "Update"),
}


def _kind_icon(view: AlertView) -> str:
    if view.kind == "update":
        return _FOLLOW_UP_LEADS[follow_up_of(view.changes)][0]
    if view.kind == "reminder":
        return "⏰"
    return "🔔"


def _update_lead(view: AlertView) -> str:
    """ "🔄 Update", "🚀 Out now", "❌ Cancelled"... (HTML-safe)."""
    icon, word = _FOLLOW_UP_LEADS[follow_up_of(view.changes)]
    return f"{icon} {word}"


def _alert_buttons(view: AlertView, now: datetime) -> tuple[tuple[Button, ...], ...]:
    rows: list[tuple[Button, ...]] = [
        (
            Button("👍 Relevant", pack(ACTION_RELEVANT, view.delivery_id)),
            Button("👎 Not relevant", pack(ACTION_NOT_RELEVANT, view.delivery_id)),
        )
    ]
    mutes: list[Button] = []
    for index, keyword in enumerate(view.keywords):
        label = clean(keyword, _KEYWORD_LABEL_MAX)
        if not label:
            continue
        mutes.append(Button(f"🔕 Mute “{label}”", pack(ACTION_MUTE, view.delivery_id, index)))
        if len(mutes) == _MUTE_BUTTONS:
            break
    if mutes:
        rows.append(tuple(mutes))
    if _remindable(view, now):
        rows.append((Button("⏰ Remind me", pack(ACTION_REMIND, view.delivery_id)),))
    ask = Button("❓ Ask an adviser", pack(ACTION_ASK, view.delivery_id))
    if view.kind == "alert":
        rows.append((ask, Button("🤝 Open to partners", pack(ACTION_PARTNER, view.delivery_id))))
    else:
        rows.append((ask,))
    return tuple(rows)


def description_line(view: AlertView) -> str:
    """One line of the description, unless it only repeats the title."""
    text = clean(view.description, _DESCRIPTION_LINE_MAX)
    title = clean(view.title).casefold()
    if not text or text.rstrip("…").casefold() in title:
        return ""
    return text


_LOTS_SHOWN = 2


def when_line(view: AlertView, now: datetime, tz: ZoneInfo) -> str:
    """The 📅 line: the first deadline, or a pipeline or planned notice's expected dates."""
    expected = expected_phrase(view, now, tz)
    if expected and view.deadline is None:
        return f"📅 {esc(expected)}"
    text = deadline_phrase(view.deadline, now, tz)
    later = later_deadline_phrase(view, now, tz)
    return f"📅 {esc(text)}" + (f" ({esc(later)})" if later else "")


def lot_lines(view: AlertView, shown: int = _LOTS_SHOWN) -> list[str]:
    """🧩 the lots that fitted ("Lot 3 — Day support, £120,000, suitable for VCSEs")."""
    lines = [f"🧩 {esc(lot_phrase(lot))}" for lot in view.lots[:shown]]
    more = lots_more(view, min(shown, len(view.lots)))
    if more:
        lines.append(f"🧩 {esc(more)}")
    if not view.lots and view.lot_count > 1:
        lines.append(f"🧩 {view.lot_count} lots")
    return lines


def _alert_lines(view: AlertView, now: datetime, tz: ZoneInfo) -> list[str]:
    lines = [
        f"🔔 {esc(kind_line(view, now, tz))}",
        f"<b>{_title_html(view, _TITLE_MAX)}</b>",
    ]
    about = description_line(view)
    if about:
        lines.append(f"<i>{esc(about)}</i>")
    buyer = clean(view.buyer, _BUYER_MAX)
    if buyer:
        lines.append(f"🏛 {esc(buyer)}")
    value = value_phrase(view.value_amount, view.value_min, view.currency)
    if view.lots and value != "value not stated":
        value += " in all"
    lines.append(f"💷 {esc(value)}")
    lines.append(when_line(view, now, tz))
    regions = region_names(view.regions)
    if regions:
        lines.append(f"📍 {esc(regions)}")
    lines.extend(lot_lines(view))
    reserved = reserved_phrase(view.reserved)
    if reserved:
        lines.append(f"🔒 {esc(reserved)}")
    suited = suitability(view)
    if suited and not view.lots:
        lines.append(esc(suited))
    reasons = reasons_line(view.reasons)
    if reasons:
        lines.append(f"<i>Why: {esc(reasons)}</i>")
    return lines


def _update_lines(view: AlertView, now: datetime, tz: ZoneInfo) -> list[str]:
    what = "; ".join(change_phrases(view, now, tz))
    lines = [f"{_update_lead(view)}: <b>{_title_html(view, _TITLE_MAX)}</b> — {esc(what)}"]
    if not is_cancelled(view) and (view.deadline is not None or expected_phrase(view, now, tz)):
        lines.append(when_line(view, now, tz))
    return lines


def _strike(lines: list[str]) -> list[str]:
    """Each line struck through (each is balanced HTML, so wrapping it stays valid)."""
    return [f"<s>{line}</s>" if line else line for line in lines]


def _edited_lines(view: AlertView, now: datetime, tz: ZoneInfo) -> tuple[list[str], bool]:
    """An alert already sent, shown again after its procurement moved on: 📝 what changed
    above it, or ❌ withdrawn with the alert struck through. True when withdrawn."""
    assert view.edit is not None
    what = esc("; ".join(changes_in_words(view.edit, now, tz)))
    lines = _alert_lines(view, now, tz)
    if is_withdrawn(view.edit):
        word = "Closed" if follow_up_of(view.edit) == "closed" else "Withdrawn"
        return [f"❌ <b>{word}</b>: {what}", *_strike(lines)], True
    return [f"📝 <b>Changed</b>: {what}", *lines], False


def _reminder_lines(view: AlertView, now: datetime, tz: ZoneInfo) -> list[str]:
    lead = reminder_lead(view, now, tz)
    lines = [f"⏰ {lead}: <b>{_title_html(view, _TITLE_MAX)}</b>"]
    if view.deadline is not None:
        lines.append(f"📅 {esc(deadline_phrase(view.deadline, now, tz))}")
    return lines


def telegram_alert(view: AlertView, now: datetime, tz: ZoneInfo) -> TelegramMessage:
    """One notice as one message: an alert with buttons, or a short update or reminder."""
    if view.kind == "update":
        return TelegramMessage(fit("\n".join(_update_lines(view, now, tz))), ())
    if view.kind == "reminder":
        return TelegramMessage(fit("\n".join(_reminder_lines(view, now, tz))), ())
    if view.edit is not None:
        lines, withdrawn = _edited_lines(view, now, tz)
        buttons = () if withdrawn else _alert_buttons(view, now)
        return TelegramMessage(fit("\n".join(lines)), buttons)
    return TelegramMessage(fit("\n".join(_alert_lines(view, now, tz))), _alert_buttons(view, now))


def _line(view: AlertView, now: datetime, tz: ZoneInfo, number: int | None = None) -> str:
    """One notice as an item of a group or digest. An update or a reminder is one line; a
    new opportunity keeps what makes an alert useful — the buyer, the place, the closing
    date and value, and its one-line "why" — on three short lines under its title."""
    prefix = f"{number}. " if number is not None else "• "
    title = _title_html(view, _TITLE_LINE_MAX)
    if view.kind == "update":
        what = clean("; ".join(change_phrases(view, now, tz)), 160)
        return f"{prefix}{_update_lead(view)}: {title} — {esc(what)}"
    if view.kind == "reminder":
        return f"{prefix}⏰ {reminder_lead(view, now, tz)}: {title}"
    lines = [f"{prefix}{esc(kind_line(view, now, tz))}", f"{_INDENT}<b>{title}</b>"]
    who = [
        f"🏛 {esc(buyer)}" if (buyer := clean(view.buyer, _ITEM_BUYER_MAX)) else "",
        f"📍 {esc(place)}" if (place := region_names(view.regions, _ITEM_PLACES)) else "",
    ]
    if any(who):
        lines.append(_INDENT + " · ".join(w for w in who if w))
    value = value_phrase(view.value_amount, view.value_min, view.currency)
    when = expected_phrase(view, now, tz) if view.deadline is None else ""
    when = when or deadline_short(view.deadline, now, tz)
    lines.append(f"{_INDENT}📅 {esc(when)} · 💷 {esc(value)}")
    lines.extend(f"{_INDENT}{line}" for line in lot_lines(view, shown=1))
    why = why_short(view.reasons)
    if why:
        lines.append(f"{_INDENT}<i>Why: {esc(why)}</i>")
    if view.edit is not None:
        what = esc(clean("; ".join(changes_in_words(view.edit, now, tz)), 160))
        if is_withdrawn(view.edit):
            lines = [*_strike(lines), f"{_INDENT}❌ <b>Withdrawn</b>: {what}"]
        else:
            lines.append(f"{_INDENT}📝 <b>Changed</b>: {what}")
    return "\n".join(lines)


_INDENT = "    "


@dataclass
class _Section:
    heading: str  # HTML, may be empty
    lines: list[str]  # HTML, one item each
    shown: int = field(init=False)

    def __post_init__(self) -> None:
        self.shown = len(self.lines)


def _more(n: int) -> str:
    """What did not fit is not marked sent: it comes in the next message, and says so."""
    return f"…and {n:,} more in my next message"


def _assemble(header: str, sections: list[_Section], footer: str = "") -> str:
    parts = [header]
    for section in sections:
        if not section.lines:
            continue
        items = section.lines[: section.shown]
        if section.shown < len(section.lines):
            items.append(_more(len(section.lines) - section.shown))
        # items of several lines read apart with a blank line between them
        gap = "\n\n" if any("\n" in item for item in items) else "\n"
        body = gap.join(items)
        parts.append(f"{section.heading}\n{body}" if section.heading else body)
    if footer:
        parts.append(footer)
    return "\n\n".join(parts)


def _fit_sections(header: str, sections: list[_Section], footer: str = "") -> str:
    """Show as many items as fit in one Telegram message, trimming the longest list first."""
    lengths = [[visible_length(line) + 2 for line in s.lines] for s in sections]
    fixed = visible_length(header) + visible_length(footer) + 4
    fixed += sum(visible_length(s.heading) + 2 for s in sections if s.lines)

    size = fixed + sum(sum(lens) for lens in lengths)
    budget = TELEGRAM_TEXT_LIMIT - 16  # slack for separators
    while size > budget:
        index = max(range(len(sections)), key=lambda i: sections[i].shown)
        section = sections[index]
        if section.shown == 0:
            break
        if section.shown == len(section.lines):  # from now on it needs a "…and N more" line
            size += len(_more(len(section.lines))) + 1
        section.shown -= 1
        size -= lengths[index][section.shown]
    return fit(_assemble(header, sections, footer))


def telegram_group(views: Sequence[AlertView], now: datetime, tz: ZoneInfo) -> TelegramMessage:
    """Several deliveries in one message, one line each, closing soon first.

    Each new opportunity keeps its buyer, place, closing date, value and "why"; the first
    few get numbered 👍/👎/⏰/❓ buttons so feedback stays one tap.
    """
    if len(views) == 1:
        return telegram_alert(views[0], now, tz)
    ordered = sorted(views, key=lambda v: closing_key(v, now))
    lines = [_line(v, now, tz, number=i) for i, v in enumerate(ordered, start=1)]
    header = f"🔔 <b>{esc(counts(ordered))}</b>"
    section = _Section("", lines)
    text = _fit_sections(header, [section])
    shown = ordered[: section.shown]
    return TelegramMessage(
        text,
        _feedback_rows(enumerate(shown, start=1), now),
        shown=tuple(v.delivery_id for v in shown),
    )


def _feedback_rows(
    numbered: Iterable[tuple[int, AlertView]], now: datetime
) -> tuple[tuple[Button, ...], ...]:
    """Numbered 👍/👎/⏰/❓ for the first few opportunities shown (not updates nor
    reminders): the number is the item's, and each press's answer names the notice."""
    rows: list[tuple[Button, ...]] = []
    for number, view in numbered:
        if view.kind in ("update", "reminder"):
            continue
        row = [
            Button(f"👍 {number}", pack(ACTION_RELEVANT, view.delivery_id)),
            Button(f"👎 {number}", pack(ACTION_NOT_RELEVANT, view.delivery_id)),
        ]
        if _remindable(view, now):
            row.append(Button(f"⏰ {number}", pack(ACTION_REMIND, view.delivery_id)))
        row.append(Button(f"❓ {number}", pack(ACTION_ASK, view.delivery_id)))
        rows.append(tuple(row))
        if len(rows) == _GROUP_FEEDBACK_ROWS:
            break
    return tuple(rows)


def _remindable(view: AlertView, now: datetime) -> bool:
    """A reminder makes sense only for a deadline more than a day away."""
    return view.deadline is not None and aware(view.deadline) - aware(now) > timedelta(days=1)


FORECASTS_SHOWN = 3


def forecast_block(forecasts: Sequence[ForecastView], tz: ZoneInfo) -> str:
    """The weekly digest's "coming up for re-tender" section (Telegram HTML), or ""."""
    if not forecasts:
        return ""
    lines = [f"<b>🔮 {esc(FORECAST_HEADING)}</b>", f"<i>{esc(FORECAST_NOTE)}</i>"]
    for item in forecasts[:FORECASTS_SHOWN]:
        title = esc(clean(item.title, 120))
        linked = link(item.url, title)
        buyer = f" — {esc(clean(item.buyer, 80))}" if item.buyer else ""
        held = esc(forecast_phrase(clean(item.supplier, 80) or None, item.end_date, tz, item.value))
        lines.append(f"• {linked}{buyer}: {held}")
    return "\n".join(lines)


def telegram_digest(
    views: Sequence[AlertView],
    now: datetime,
    tz: ZoneInfo,
    period: str,
    closing_soon: timedelta = CLOSING_SOON,
    forecasts: Sequence[ForecastView] = (),
) -> TelegramMessage:
    """A digest: Closing soon, New, Updated; fitted to one message; a weekly digest may end
    with contracts coming up for re-tender (``forecasts``, labelled as a forecast).

    Opportunities are numbered, keep their buyer, place and "why", and the first few get
    numbered buttons, as in a group message: feedback from digest readers counts as much as
    from instant ones."""
    soon, new, updated = digest_parts(views, now, closing_soon)
    header = f"📬 <b>{esc(period_title(period))}</b> — {esc(counts(views))}"
    footer = forecast_block(forecasts, tz)
    if not views:
        body = f"{header}\n\nNothing new matched your keywords."
        return TelegramMessage(fit(f"{body}\n\n{footer}" if footer else body), ())
    maybe = maybe_part(views, now)
    opportunities = list(enumerate([*soon, *new, *maybe], start=1))
    soon_numbered = opportunities[: len(soon)]
    new_numbered = opportunities[len(soon) : len(soon) + len(new)]
    maybe_numbered = opportunities[len(soon) + len(new) :]
    sections = [
        _Section("<b>⏳ Closing soon</b>", [_line(v, now, tz, n) for n, v in soon_numbered]),
        _Section("<b>🆕 New</b>", [_line(v, now, tz, n) for n, v in new_numbered]),
        _Section("<b>🔄 Updated</b>", [_line(v, now, tz) for v in updated]),
        # "worth a look": weaker matches, with their reasons; 👍/👎 on them teach the profile
        _Section(
            f"<b>💡 {esc(MAYBE_HEADING)}</b>", [_line(v, now, tz, n) for n, v in maybe_numbered]
        ),
    ]
    text = _fit_sections(header, sections, footer)
    shown = (
        soon_numbered[: sections[0].shown]
        + new_numbered[: sections[1].shown]
        + maybe_numbered[: sections[3].shown]
    )
    ids = [v.delivery_id for _, v in shown] + [v.delivery_id for v in updated[: sections[2].shown]]
    return TelegramMessage(text, _feedback_rows(shown, now), shown=tuple(ids))


def feedback_lines(totals: FeedbackTotals) -> list[str]:
    """The alert-feedback part of /stats (Telegram HTML): totals, the share found relevant,
    the notices with most answers, and the keywords behind most 👎 (what to help change)."""
    lines = [
        f"<b>Feedback</b>: {totals.relevant} 👍, {totals.not_relevant} 👎 "
        f"on {len(totals.notices)} notices"
    ]
    if totals.total:
        share = round(100 * totals.relevant / totals.total)
        lines.append(f"Alerts people found relevant: {share}% of {totals.total} answers")
    for item in totals.notices[:10]:
        title = esc(clean(item.title, 80))
        lines.append(f"• {title} — {item.relevant} 👍, {item.not_relevant} 👎")
    noisy = [k for k in totals.keywords if k.not_relevant][:5]
    if noisy:
        lines.append("<b>Keywords behind most 👎</b>")
        for word in noisy:
            keyword = esc(clean(word.keyword, 60))
            lines.append(f"• “{keyword}” — {word.not_relevant} 👎, {word.relevant} 👍")
    return lines


def nudge_telegram(checked: int) -> TelegramMessage:
    return TelegramMessage(
        f"🔍 {nudge_text(checked)}\nSend /keywords to see and change them, or /settings.", ()
    )
