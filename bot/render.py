"""What a subscriber reads: alerts, updates, reminders and digests, for Telegram and email.

Pure functions from :class:`AlertView` values to text, so the dispatcher, the demo and the
tests all see exactly the same messages.

Why it is this careful:

* Every string from a feed or a user is hostile until proven otherwise. It is *cleaned*
  first (control characters, bidi overrides and lone surrogates removed, whitespace
  collapsed), then *truncated as raw text*, and only then escaped, so a cut can never land
  inside a tag or an ``&amp;`` entity and Telegram never answers "can't parse entities".
* Telegram refuses a text longer than 4096 characters *after* entity parsing. Each field has
  a cap, and lists (grouped alerts, digests) are fitted to the limit by showing fewer items
  and summarising the rest ("…and 37 more"), never by cutting the HTML.
* Times are shown in the subscriber's own time zone, in plain UK English ("Fri 13 Feb").
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from matchers.regions import NUTS_NAMES

if TYPE_CHECKING:
    from storage.feedback import FeedbackTotals

__all__ = [
    "ACTION_ASK",
    "ACTION_MUTE",
    "ACTION_NOT_RELEVANT",
    "ACTION_RELEVANT",
    "ACTION_REMIND",
    "ACTION_UNDO",
    "TELEGRAM_TEXT_LIMIT",
    "AlertView",
    "Button",
    "RenderedEmail",
    "TelegramMessage",
    "callback",
    "change_phrases",
    "deadline_phrase",
    "email_alert",
    "email_digest",
    "feedback_lines",
    "nudge_email",
    "nudge_telegram",
    "nudge_text",
    "parse_callback",
    "region_name",
    "telegram_alert",
    "telegram_digest",
    "telegram_group",
    "value_phrase",
    "visible_length",
]

TELEGRAM_TEXT_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64

ACTION_RELEVANT = "fb+"
ACTION_NOT_RELEVANT = "fb-"
ACTION_MUTE = "mute"
ACTION_UNDO = "undo"
ACTION_REMIND = "rem"
ACTION_ASK = "ask"  # ❓ Ask an adviser (handled by bot.enquiries)

# Caps in characters of *raw* text, before escaping.
_TITLE_MAX = 300
_TITLE_LINE_MAX = 110  # one line of a group or digest
_BUYER_MAX = 150
_REASON_MAX = 160
_REASONS_SHOWN = 5
_REGIONS_SHOWN = 4
_KEYWORD_LABEL_MAX = 24
_MUTE_BUTTONS = 2
_GROUP_FEEDBACK_ROWS = 5
_EMAIL_TITLE_MAX = 1000
_SUBJECT_MAX = 120
_CLOSING_SOON = timedelta(days=7)


# --- values -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertView:
    """One notice as one subscriber sees it, for one delivery."""

    delivery_id: int
    notice_id: int
    kind: str  # "alert" | "update" | "reminder"
    title: str
    url: str | None
    buyer: str | None
    value_amount: float | None
    value_min: float | None
    currency: str | None
    deadline: datetime | None  # aware
    regions: tuple[str, ...]  # NUTS codes
    suitable_sme: bool | None
    suitable_vcse: bool | None
    reasons: tuple[str, ...]  # the matcher's short reasons
    keywords: tuple[str, ...]  # the subscriber's keywords that matched
    changes: Mapping[str, tuple[Any, Any]]  # kind == "update": field -> (old, new)
    days_before: int | None = None  # kind == "reminder"


@dataclass(frozen=True)
class Button:
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class TelegramMessage:
    text: str  # HTML, for parse_mode=HTML
    buttons: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True)
class RenderedEmail:
    subject: str  # one line, no CR/LF
    text: str
    html: str


# --- cleaning -------------------------------------------------------------------------------

# Bidi embeddings/overrides/isolates and marks: they can make a title display backwards or
# hide text; nothing in a contract notice needs them.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SPACE_LIKE = frozenset("\t\n\r\x0b\x0c\x85\u2028\u2029")
_WS_RE = re.compile(r"\s+")


def _clean(value: object, limit: int | None = None) -> str:
    """One line of safe plain text: no control/bidi/surrogate characters, ``limit`` long."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    out: list[str] = []
    for ch in text:
        if ch in _SPACE_LIKE:
            out.append(" ")
            continue
        if ch in _BIDI or ch == "\ufeff":
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs", "Co", "Cn") and ch not in "\u200d":
            continue
        out.append(ch)
    text = _WS_RE.sub(" ", "".join(out)).strip()
    if limit is not None:
        text = _truncate(text, limit)
    return text


def _truncate(text: str, limit: int) -> str:
    """Cut plain text to at most ``limit`` characters, at a word boundary when one is near."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return "…"[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= max(1, limit - 20):
        cut = cut[:space]
    # don't leave a joiner or a combining mark dangling at the end
    while cut and (cut[-1] == "\u200d" or unicodedata.combining(cut[-1])):
        cut = cut[:-1]
    return cut.rstrip(" ,;:-–—") + "…"


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _safe_url(url: object) -> str | None:
    """The URL if it is a plain http(s) link without spaces or controls, else None."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or len(url) > 2048:
        return None
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def _link(url: object, text_html: str) -> str:
    safe = _safe_url(url)
    if safe is None:
        return text_html
    return f'<a href="{html.escape(safe, quote=True)}">{text_html}</a>'


_TAG_RE = re.compile(r"<[^>]*>")


def visible_length(telegram_html: str) -> int:
    """Length of ``telegram_html`` as Telegram counts it: tags removed, entities decoded.

    Counted in UTF-16 code units (an emoji outside the BMP counts twice), which is what the
    Bot API measures and never less than the number of characters.
    """
    plain = html.unescape(_TAG_RE.sub("", telegram_html))
    return len(plain.encode("utf-16-le", "surrogatepass")) // 2


# --- regions ----------------------------------------------------------------------------------

#: One table for the whole project (the matcher's); alerts show East Midlands areas in
#: detail and the rest of the UK by region.
_NUTS_NAMES = NUTS_NAMES


def region_name(code: str) -> str:
    """A readable name for a NUTS (or ITL) code; East Midlands in detail, elsewhere NUTS1.

    An unknown code is shown as it is (cleaned), so nothing silently disappears.
    """
    raw = _clean(code, 40)
    norm = raw.upper().replace(" ", "")
    if norm.startswith("TL") and len(norm) >= 3:  # ITL codes name the same areas
        norm = "UK" + norm[2:]
    if not norm.startswith("UK"):
        return raw
    if norm.startswith("UKF"):
        for size in range(len(norm), 2, -1):
            name = _NUTS_NAMES.get(norm[:size])
            if name is not None:
                return name
        return raw
    if norm == "UK":
        return _NUTS_NAMES["UK"]
    return _NUTS_NAMES.get(norm[:3], raw)


def _region_names(codes: Iterable[str], shown: int = _REGIONS_SHOWN) -> str:
    names: list[str] = []
    for code in codes:
        name = region_name(code)
        if name and name not in names:
            names.append(name)
    if len(names) > shown:
        return ", ".join(names[:shown]) + f" and {len(names) - shown} more"
    return ", ".join(names)


# --- values, dates ------------------------------------------------------------------------------

_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    if not math.isfinite(number) or number < 0:
        return None
    return number


def _money(amount: float, currency: str | None) -> str:
    whole = abs(amount - round(amount)) < 0.005
    digits = f"{round(amount):,}" if whole else f"{amount:,.2f}"
    code = _clean(currency, 3).upper() if currency else "GBP"
    symbol = _SYMBOLS.get(code)
    return f"{symbol}{digits}" if symbol else f"{digits} {code}"


def value_phrase(amount: object, minimum: object, currency: str | None) -> str:
    """ "£250,000", "£10,000–£50,000", "from £10,000" or "value not stated"."""
    high = _number(amount)
    low = _number(minimum)
    if high == 0:
        high = None  # Contracts Finder writes 0 when the buyer gave no value
    if low == 0:
        low = None
    if high is None and low is None:
        return "value not stated"
    if high is None:
        assert low is not None
        return f"from {_money(low, currency)}"
    if low is None or _money(low, currency) == _money(high, currency):
        return _money(high, currency)
    low, high = min(low, high), max(low, high)
    return f"{_money(low, currency)}–{_money(high, currency)}"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _day_month(local: datetime, now_local: datetime, weekday: bool = True) -> str:
    text = f"{local.day} {_MONTHS[local.month - 1]}"
    if weekday:
        text = f"{_DAYS[local.weekday()]} {text}"
    if local.year != now_local.year:
        text += f" {local.year}"
    return text


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def deadline_phrase(deadline: datetime | None, now: datetime, tz: ZoneInfo) -> str:
    """ "closes Fri 13 Feb, 12:00 — 9 days left", "closes today, 17:00", "closed"...

    Days are counted between calendar dates in the subscriber's time zone, so a deadline at
    09:00 tomorrow is "1 day left" even at 23:00 today.
    """
    if deadline is None:
        return "no closing date given"
    due = _aware(deadline).astimezone(tz)
    now_local = _aware(now).astimezone(tz)
    if due <= now_local:
        return "closed"
    clock = f"{due:%H:%M}"
    days = (due.date() - now_local.date()).days
    if days == 0:
        return f"closes today, {clock}"
    if days == 1:
        return f"closes tomorrow, {clock}"
    return f"closes {_day_month(due, now_local)}, {clock} — {_days(days)} left"


def _deadline_short(deadline: datetime | None, now: datetime, tz: ZoneInfo) -> str:
    if deadline is None:
        return "no closing date"
    due = _aware(deadline).astimezone(tz)
    now_local = _aware(now).astimezone(tz)
    if due <= now_local:
        return "closed"
    days = (due.date() - now_local.date()).days
    if days == 0:
        return f"closes today {due:%H:%M}"
    if days == 1:
        return f"closes tomorrow {due:%H:%M}"
    return f"closes {_day_month(due, now_local)} ({_days(days)})"


def _suitability(view: AlertView) -> str:
    parts: list[str] = []
    for flag, who in ((view.suitable_sme, "SMEs"), (view.suitable_vcse, "VCSEs")):
        if flag is True:
            parts.append(f"suitable for {who} ✓")
        elif flag is False:
            parts.append(f"not marked as suitable for {who}")
    return " · ".join(parts)


def _reasons(reasons: Sequence[str]) -> str:
    cleaned = [r for r in (_clean(x, _REASON_MAX) for x in reasons) if r]
    if len(cleaned) > _REASONS_SHOWN:
        extra = len(cleaned) - _REASONS_SHOWN
        cleaned = [*cleaned[:_REASONS_SHOWN], f"and {extra} more"]
    return "; ".join(cleaned)


# --- updates -----------------------------------------------------------------------------------


def _parse_when(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return _aware(value)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return _aware(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
    except ValueError:
        return None


def _short_date(moment: datetime, other: datetime | None, now: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    now_local = _aware(now).astimezone(tz)
    text = _day_month(local, now_local, weekday=False)
    if other is not None and other.astimezone(tz).date() == local.date():
        text += f", {local:%H:%M}"
    return text


def _value_of(raw: object) -> str | None:
    if not isinstance(raw, Mapping):
        return None
    currency = raw.get("currency")
    phrase = value_phrase(
        raw.get("amount"), raw.get("min"), currency if isinstance(currency, str) else None
    )
    return None if phrase == "value not stated" else phrase


_STAGE_WORDS = {"award": "has been awarded", "complete": "is complete"}


def _is_cancelled(view: AlertView) -> bool:
    stage = view.changes.get("stage")
    return stage is not None and len(stage) == 2 and stage[1] == "cancelled"


def change_phrases(view: AlertView, now: datetime, tz: ZoneInfo) -> list[str]:
    """What changed, in words: "deadline moved from 12 Mar to 19 Mar", "was cancelled"..."""
    phrases: list[str] = []
    changes = view.changes
    if _is_cancelled(view):
        phrases.append("was cancelled")
    for name, pair in changes.items():
        try:
            old, new = pair
        except (TypeError, ValueError):
            phrases.append(f"{_clean(name, 30)} changed")
            continue
        if name == "stage":
            if new == "cancelled":
                continue
            words = _STAGE_WORDS.get(str(new))
            phrases.append(words or f"moved to the {_clean(new, 30)} stage")
        elif name == "deadline":
            before, after = _parse_when(old), _parse_when(new)
            if before is not None and after is not None:
                phrases.append(
                    f"deadline moved from {_short_date(before, after, now, tz)} "
                    f"to {_short_date(after, before, now, tz)}"
                )
            elif after is not None:
                phrases.append(f"closing date set to {_short_date(after, None, now, tz)}")
            elif before is not None and new is None:
                phrases.append("closing date removed")
            else:
                phrases.append("deadline changed")
        elif name == "value":
            before_v, after_v = _value_of(old), _value_of(new)
            if before_v and after_v and before_v != after_v:
                phrases.append(f"value changed from {before_v} to {after_v}")
            elif after_v and not before_v:
                phrases.append(f"value now {after_v}")
            elif before_v and not after_v:
                phrases.append("value no longer stated")
            else:
                phrases.append("value changed")
        elif name == "title":
            was = _clean(old, 80)
            phrases.append(f"title changed (was “{was}”)" if was else "title changed")
        else:
            phrases.append(f"{_clean(name, 30)} changed")
    return phrases or ["details changed"]


def _reminder_days(view: AlertView, now: datetime, tz: ZoneInfo) -> int | None:
    if view.days_before is not None and view.days_before >= 0:
        return view.days_before
    if view.deadline is None:
        return None
    due = _aware(view.deadline).astimezone(tz)
    return max(0, (due.date() - _aware(now).astimezone(tz).date()).days)


def _reminder_lead(view: AlertView, now: datetime, tz: ZoneInfo) -> str:
    if view.deadline is not None and _aware(view.deadline) <= _aware(now):
        return "Closed"
    days = _reminder_days(view, now, tz)
    if days is None:
        return "Closing soon"
    if days == 0:
        return "Closes today"
    return f"Closes in {_days(days)}"


# --- callback data ----------------------------------------------------------------------------

_ACTION_RE = re.compile(r"[a-z][a-z0-9_+\-]{0,11}")
_ARG_RE = re.compile(r"[A-Za-z0-9_.\-]{0,32}")
_CALLBACK_RE = re.compile(
    r"(?P<action>[a-z][a-z0-9_+\-]{0,11}):(?P<id>0|[1-9][0-9]{0,18})(?::(?P<arg>[A-Za-z0-9_.\-]{1,32}))?"
)


def callback(action: str, delivery_id: int, arg: str = "") -> str:
    """Callback data for an inline button, e.g. ``"fb+:123"`` or ``"mute:123:0"``.

    Telegram allows 1-64 bytes, so keywords travel as their index, never as text. Raises
    ``ValueError`` for an action, id or argument that could not be parsed back.
    """
    if not _ACTION_RE.fullmatch(action):
        raise ValueError(f"bad callback action {action!r}")
    if isinstance(delivery_id, bool) or not 0 <= delivery_id < 10**19:
        raise ValueError(f"bad delivery id {delivery_id!r}")
    if not _ARG_RE.fullmatch(arg):
        raise ValueError(f"bad callback argument {arg!r}")
    data = f"{action}:{delivery_id}" + (f":{arg}" if arg else "")
    assert len(data.encode()) <= CALLBACK_DATA_LIMIT
    return data


def parse_callback(data: object) -> tuple[str, int, str] | None:
    """``(action, delivery_id, arg)`` from callback data, or None for anything malformed."""
    if not isinstance(data, str) or len(data) > CALLBACK_DATA_LIMIT:
        return None
    match = _CALLBACK_RE.fullmatch(data)
    if match is None:
        return None
    return match["action"], int(match["id"]), match["arg"] or ""


# --- Telegram -----------------------------------------------------------------------------------


def _title_html(view: AlertView, limit: int) -> str:
    title = _clean(view.title, limit) or "Untitled notice"
    return _link(view.url, _esc(title))


def _kind_icon(view: AlertView) -> str:
    if view.kind == "update":
        return "❌" if _is_cancelled(view) else "🔄"
    if view.kind == "reminder":
        return "⏰"
    return "🔔"


def _alert_buttons(view: AlertView, now: datetime) -> tuple[tuple[Button, ...], ...]:
    rows: list[tuple[Button, ...]] = [
        (
            Button("👍 Relevant", callback(ACTION_RELEVANT, view.delivery_id)),
            Button("👎 Not relevant", callback(ACTION_NOT_RELEVANT, view.delivery_id)),
        )
    ]
    mutes: list[Button] = []
    for index, keyword in enumerate(view.keywords):
        label = _clean(keyword, _KEYWORD_LABEL_MAX)
        if not label:
            continue
        mutes.append(
            Button(f"🔕 Mute “{label}”", callback(ACTION_MUTE, view.delivery_id, str(index)))
        )
        if len(mutes) == _MUTE_BUTTONS:
            break
    if mutes:
        rows.append(tuple(mutes))
    if view.deadline is not None and _aware(view.deadline) - _aware(now) > timedelta(days=1):
        rows.append((Button("⏰ Remind me", callback(ACTION_REMIND, view.delivery_id)),))
    rows.append((Button("❓ Ask an adviser", callback(ACTION_ASK, view.delivery_id)),))
    return tuple(rows)


def _alert_lines(view: AlertView, now: datetime, tz: ZoneInfo) -> list[str]:
    lines = [f"🔔 <b>{_title_html(view, _TITLE_MAX)}</b>"]
    buyer = _clean(view.buyer, _BUYER_MAX)
    if buyer:
        lines.append(f"🏛 {_esc(buyer)}")
    lines.append(f"💷 {_esc(value_phrase(view.value_amount, view.value_min, view.currency))}")
    lines.append(f"📅 {_esc(deadline_phrase(view.deadline, now, tz))}")
    regions = _region_names(view.regions)
    if regions:
        lines.append(f"📍 {_esc(regions)}")
    suitability = _suitability(view)
    if suitability:
        lines.append(_esc(suitability))
    reasons = _reasons(view.reasons)
    if reasons:
        lines.append(f"<i>Why: {_esc(reasons)}</i>")
    return lines


def _update_lines(view: AlertView, now: datetime, tz: ZoneInfo) -> list[str]:
    what = "; ".join(change_phrases(view, now, tz))
    lines = [f"{_kind_icon(view)} Update: <b>{_title_html(view, _TITLE_MAX)}</b> — {_esc(what)}"]
    if not _is_cancelled(view) and view.deadline is not None:
        lines.append(f"📅 {_esc(deadline_phrase(view.deadline, now, tz))}")
    return lines


def _reminder_lines(view: AlertView, now: datetime, tz: ZoneInfo) -> list[str]:
    lead = _reminder_lead(view, now, tz)
    lines = [f"⏰ {lead}: <b>{_title_html(view, _TITLE_MAX)}</b>"]
    if view.deadline is not None:
        lines.append(f"📅 {_esc(deadline_phrase(view.deadline, now, tz))}")
    return lines


def _fit(html_text: str) -> str:
    """Last line of defence: never hand Telegram more than it accepts."""
    if visible_length(html_text) <= TELEGRAM_TEXT_LIMIT:
        return html_text
    # Drop whole lines from the end (each line is balanced HTML) until it fits.
    lines = html_text.split("\n")
    while len(lines) > 1 and visible_length("\n".join([*lines, "…"])) > TELEGRAM_TEXT_LIMIT:
        lines.pop()
    return "\n".join([*lines, "…"])


def telegram_alert(view: AlertView, now: datetime, tz: ZoneInfo) -> TelegramMessage:
    """One notice as one message: an alert with buttons, or a short update or reminder."""
    if view.kind == "update":
        return TelegramMessage(_fit("\n".join(_update_lines(view, now, tz))), ())
    if view.kind == "reminder":
        return TelegramMessage(_fit("\n".join(_reminder_lines(view, now, tz))), ())
    return TelegramMessage(_fit("\n".join(_alert_lines(view, now, tz))), _alert_buttons(view, now))


def _closing_key(view: AlertView, now: datetime) -> tuple[int, datetime]:
    """Sort key: open deadlines soonest first, then no deadline, then already closed."""
    far = datetime.max.replace(tzinfo=UTC)
    if view.deadline is None:
        return (1, far)
    due = _aware(view.deadline)
    if due <= _aware(now):
        return (2, due)
    return (0, due)


def _line(view: AlertView, now: datetime, tz: ZoneInfo, number: int | None = None) -> str:
    """One notice on one line, for groups and digests."""
    prefix = f"{number}. " if number is not None else "• "
    title = _title_html(view, _TITLE_LINE_MAX)
    if view.kind == "update":
        what = _clean("; ".join(change_phrases(view, now, tz)), 160)
        return f"{prefix}{_kind_icon(view)} Update: {title} — {_esc(what)}"
    if view.kind == "reminder":
        return f"{prefix}⏰ {_reminder_lead(view, now, tz)}: {title}"
    value = value_phrase(view.value_amount, view.value_min, view.currency)
    when = _deadline_short(view.deadline, now, tz)
    return f"{prefix}{title} — {_esc(when)} · {_esc(value)}"


def _counts(views: Sequence[AlertView]) -> str:
    new = sum(1 for v in views if v.kind not in ("update", "reminder"))
    updates = sum(1 for v in views if v.kind == "update")
    reminders = sum(1 for v in views if v.kind == "reminder")
    parts: list[str] = []
    if new:
        parts.append("1 new opportunity" if new == 1 else f"{new:,} new opportunities")
    if updates:
        parts.append("1 update" if updates == 1 else f"{updates:,} updates")
    if reminders:
        parts.append("1 reminder" if reminders == 1 else f"{reminders:,} reminders")
    return ", ".join(parts) or "nothing new"


@dataclass
class _Section:
    heading: str  # HTML, may be empty
    lines: list[str]  # HTML, one item each
    shown: int = field(init=False)

    def __post_init__(self) -> None:
        self.shown = len(self.lines)


def _more(n: int) -> str:
    return f"…and {n:,} more"


def _assemble(header: str, sections: list[_Section], footer: str = "") -> str:
    parts = [header]
    for section in sections:
        if not section.lines:
            continue
        block = [section.heading] if section.heading else []
        block.extend(section.lines[: section.shown])
        if section.shown < len(section.lines):
            block.append(_more(len(section.lines) - section.shown))
        parts.append("\n".join(block))
    if footer:
        parts.append(footer)
    return "\n\n".join(parts)


def _fit_sections(header: str, sections: list[_Section], footer: str = "") -> str:
    """Show as many items as fit in one Telegram message, trimming the longest list first."""
    lengths = [[visible_length(line) + 1 for line in s.lines] for s in sections]
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
    return _fit(_assemble(header, sections, footer))


def telegram_group(views: Sequence[AlertView], now: datetime, tz: ZoneInfo) -> TelegramMessage:
    """Several deliveries in one message, one line each, closing soon first.

    The first few new opportunities get numbered 👍/👎/❓ buttons so feedback stays one tap.
    """
    if len(views) == 1:
        return telegram_alert(views[0], now, tz)
    ordered = sorted(views, key=lambda v: _closing_key(v, now))
    lines = [_line(v, now, tz, number=i) for i, v in enumerate(ordered, start=1)]
    header = f"🔔 <b>{_esc(_counts(ordered))}</b>"
    section = _Section("", lines)
    text = _fit_sections(header, [section])
    return TelegramMessage(text, _feedback_rows(enumerate(ordered[: section.shown], start=1)))


def _feedback_rows(numbered: Iterable[tuple[int, AlertView]]) -> tuple[tuple[Button, ...], ...]:
    """Numbered 👍/👎/❓ for the first few opportunities shown (not updates nor reminders)."""
    rows: list[tuple[Button, ...]] = []
    for number, view in numbered:
        if view.kind in ("update", "reminder"):
            continue
        rows.append(
            (
                Button(f"👍 {number}", callback(ACTION_RELEVANT, view.delivery_id)),
                Button(f"👎 {number}", callback(ACTION_NOT_RELEVANT, view.delivery_id)),
                Button(f"❓ {number}", callback(ACTION_ASK, view.delivery_id)),
            )
        )
        if len(rows) == _GROUP_FEEDBACK_ROWS:
            break
    return tuple(rows)


def _digest_parts(
    views: Sequence[AlertView], now: datetime
) -> tuple[list[AlertView], list[AlertView], list[AlertView]]:
    """Closing soon (open, <= 7 days; reminders too), new, updated."""
    soon: list[AlertView] = []
    new: list[AlertView] = []
    updated: list[AlertView] = []
    moment = _aware(now)
    for view in views:
        if view.kind == "update":
            updated.append(view)
            continue
        due = _aware(view.deadline) if view.deadline is not None else None
        if view.kind == "reminder" or (due is not None and moment < due <= moment + _CLOSING_SOON):
            soon.append(view)
        else:
            new.append(view)
    soon.sort(key=lambda v: _closing_key(v, now))
    new.sort(key=lambda v: _closing_key(v, now))
    return soon, new, updated


def _period_title(period: str) -> str:
    """ "Your daily digest"; alerts that simply arrived together are not a digest."""
    label = _clean(period, 30) or "daily"
    if label == "instant":
        return "New opportunities for you"
    return f"Your {label} digest"


def telegram_digest(
    views: Sequence[AlertView], now: datetime, tz: ZoneInfo, period: str
) -> TelegramMessage:
    """A digest: Closing soon (≤ 7 days), New, Updated; fitted to one message.

    Opportunities are numbered, and the first few get numbered 👍/👎 buttons, as in a group
    message: feedback from digest readers counts as much as from instant ones."""
    soon, new, updated = _digest_parts(views, now)
    header = f"📬 <b>{_esc(_period_title(period))}</b> — {_esc(_counts(views))}"
    if not views:
        return TelegramMessage(f"{header}\n\nNothing new matched your keywords.", ())
    opportunities = list(enumerate([*soon, *new], start=1))
    soon_numbered, new_numbered = opportunities[: len(soon)], opportunities[len(soon) :]
    sections = [
        _Section("<b>⏳ Closing soon</b>", [_line(v, now, tz, n) for n, v in soon_numbered]),
        _Section("<b>🆕 New</b>", [_line(v, now, tz, n) for n, v in new_numbered]),
        _Section("<b>🔄 Updated</b>", [_line(v, now, tz) for v in updated]),
    ]
    text = _fit_sections(header, sections)
    shown = soon_numbered[: sections[0].shown] + new_numbered[: sections[1].shown]
    return TelegramMessage(text, _feedback_rows(shown))


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
        title = _esc(_clean(item.title, 80))
        lines.append(f"• {title} — {item.relevant} 👍, {item.not_relevant} 👎")
    noisy = [k for k in totals.keywords if k.not_relevant][:5]
    if noisy:
        lines.append("<b>Keywords behind most 👎</b>")
        for word in noisy:
            keyword = _esc(_clean(word.keyword, 60))
            lines.append(f"• “{keyword}” — {word.not_relevant} 👎, {word.relevant} 👍")
    return lines


def nudge_text(checked: int) -> str:
    """The weekly "nothing matched" nudge. Plain text that is also safe Telegram HTML."""
    count = max(0, int(checked))
    noun = "notice" if count == 1 else "notices"
    return f"We checked {count:,} {noun} this week; none matched — widen your keywords?"


def nudge_telegram(checked: int) -> TelegramMessage:
    return TelegramMessage(
        f"🔍 {nudge_text(checked)}\nSend /keywords to see and change them, or /settings.", ()
    )


# --- email ---------------------------------------------------------------------------------------


def _subject(text: str) -> str:
    """One header-safe line of at most ~120 characters."""
    return _clean(text, _SUBJECT_MAX)


def _email_title(view: AlertView) -> str:
    return _clean(view.title, _EMAIL_TITLE_MAX) or "Untitled notice"


def _href(url: str | None) -> str | None:
    safe = _safe_url(url)
    return html.escape(safe, quote=True) if safe is not None else None


def _alert_subject(view: AlertView, now: datetime, tz: ZoneInfo) -> str:
    title = _clean(view.title, _SUBJECT_MAX) or "Untitled notice"
    if view.kind == "update":
        lead = "Cancelled" if _is_cancelled(view) else "Update"
    elif view.kind == "reminder":
        lead = _reminder_lead(view, now, tz)
    else:
        lead = "New opportunity"
    return _subject(f"{lead}: {title}")


def _facts(view: AlertView, now: datetime, tz: ZoneInfo) -> list[tuple[str, str]]:
    facts: list[tuple[str, str]] = []
    buyer = _clean(view.buyer, 300)
    if buyer:
        facts.append(("Buyer", buyer))
    facts.append(("Value", value_phrase(view.value_amount, view.value_min, view.currency)))
    facts.append(("Deadline", deadline_phrase(view.deadline, now, tz)))
    regions = _region_names(view.regions, shown=8)
    if regions:
        facts.append(("Region", regions))
    suitability = _suitability(view)
    if suitability:
        facts.append(("Suitability", suitability))
    return facts


_FOOTER_WHY = (
    "You are getting this because you signed up for opportunity alerts from "
    "BEST Procurement (Social Enterprise East Midlands)."
)


def _footer_text(unsubscribe_url: str, manage_url: str | None) -> str:
    lines = ["-- ", _FOOTER_WHY]
    if manage_url:
        lines.append(f"Change your alerts: {_clean(manage_url)}")
    lines.append(f"Unsubscribe: {_clean(unsubscribe_url)}")
    return "\n".join(lines)


_P_SMALL = 'style="color:#555;font-size:13px"'


def _footer_html(unsubscribe_url: str, manage_url: str | None) -> str:
    links: list[str] = []
    manage = _href(manage_url)
    if manage:
        links.append(f'<a href="{manage}">Change your alerts</a>')
    unsub = _href(unsubscribe_url)
    if unsub:
        links.append(f'<a href="{unsub}">Unsubscribe</a>')
    else:
        links.append(f"Unsubscribe: {_esc(_clean(unsubscribe_url))}")
    return (
        f'<hr style="border:none;border-top:1px solid #ddd">'
        f"<p {_P_SMALL}>{_esc(_FOOTER_WHY)}<br>{' · '.join(links)}</p>"
    )


def _html_page(subject: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        f"<title>{_esc(subject)}</title></head>\n"
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;'
        'line-height:1.45;color:#222;max-width:640px">\n'
        f"{body}\n</body></html>\n"
    )


def _title_block_html(view: AlertView, title: str) -> str:
    href = _href(view.url)
    return f'<a href="{href}">{_esc(title)}</a>' if href else _esc(title)


def email_alert(
    view: AlertView,
    now: datetime,
    tz: ZoneInfo,
    *,
    unsubscribe_url: str,
    manage_url: str | None,
) -> RenderedEmail:
    """One notice by email: plain text and HTML with the same content and footer."""
    subject = _alert_subject(view, now, tz)
    title = _email_title(view)
    url = _safe_url(view.url)
    text: list[str] = []
    body: list[str] = []
    if view.kind == "update":
        what = "; ".join(change_phrases(view, now, tz))
        text += [
            f"Update: {title}",
            f"This notice {what}." if _is_cancelled(view) else f"What changed: {what}",
        ]
        body += [
            f'<h2 style="font-size:18px">Update: {_title_block_html(view, title)}</h2>',
            f"<p>This notice {_esc(what)}.</p>"
            if _is_cancelled(view)
            else f"<p>What changed: {_esc(what)}</p>",
        ]
    elif view.kind == "reminder":
        lead = _reminder_lead(view, now, tz)
        text += [f"{lead}: {title}"]
        body += [f'<h2 style="font-size:18px">{_esc(lead)}: {_title_block_html(view, title)}</h2>']
    else:
        text += ["A new opportunity matches your keywords:", "", title]
        body += [
            "<p>A new opportunity matches your keywords:</p>",
            f'<h2 style="font-size:18px">{_title_block_html(view, title)}</h2>',
        ]
    if url:
        text.append(url)
    text.append("")
    facts = _facts(view, now, tz)
    if _is_cancelled(view):
        facts = [f for f in facts if f[0] != "Deadline"]
    text += [f"{label}: {value}" for label, value in facts]
    rows = "".join(
        f'<tr><td style="padding:2px 12px 2px 0;color:#555">{_esc(label)}</td>'
        f"<td>{_esc(value)}</td></tr>"
        for label, value in facts
    )
    body.append(f"<table>{rows}</table>")
    reasons = _reasons(view.reasons)
    if reasons and view.kind not in ("update", "reminder"):
        text += ["", f"Why: {reasons}"]
        body.append(f"<p><i>Why: {_esc(reasons)}</i></p>")
    if url:
        body.append(f'<p><a href="{_href(url)}">Read the full notice</a></p>')
    text += ["", _footer_text(unsubscribe_url, manage_url)]
    body.append(_footer_html(unsubscribe_url, manage_url))
    return RenderedEmail(subject, "\n".join(text) + "\n", _html_page(subject, "\n".join(body)))


def _digest_subject(views: Sequence[AlertView]) -> str:
    new = sum(1 for v in views if v.kind not in ("update", "reminder"))
    updates = sum(1 for v in views if v.kind == "update")
    reminders = sum(1 for v in views if v.kind == "reminder")
    if new:
        subject = "1 new opportunity" if new == 1 else f"{new:,} new opportunities"
        if updates:
            subject += ", 1 update" if updates == 1 else f", {updates:,} updates"
        return subject
    if updates:
        return "1 update to a notice you follow" if updates == 1 else f"{updates:,} updates"
    if reminders:
        return "1 opportunity closing soon" if reminders == 1 else f"{reminders:,} closing soon"
    return "No new opportunities"


def _email_line(view: AlertView, now: datetime, tz: ZoneInfo) -> tuple[str, str]:
    """(plain, html) for one notice in a digest."""
    title = _clean(view.title, 300) or "Untitled notice"
    url = _safe_url(view.url)
    if view.kind == "update":
        what = "; ".join(change_phrases(view, now, tz))
        plain = f"- Update: {title} — {what}"
        rich = f"Update: {_title_block_html(view, title)} — {_esc(what)}"
    elif view.kind == "reminder":
        lead = _reminder_lead(view, now, tz)
        plain = f"- {lead}: {title}"
        rich = f"{_esc(lead)}: {_title_block_html(view, title)}"
    else:
        details = [
            _clean(view.buyer, 150),
            value_phrase(view.value_amount, view.value_min, view.currency),
            deadline_phrase(view.deadline, now, tz),
        ]
        detail = " · ".join(d for d in details if d)
        plain = f"- {title}\n  {detail}"
        rich = f"{_title_block_html(view, title)}<br><span {_P_SMALL}>{_esc(detail)}</span>"
    if url:
        plain += f"\n  {url}"
    return plain, rich


def email_digest(
    views: Sequence[AlertView],
    now: datetime,
    tz: ZoneInfo,
    *,
    unsubscribe_url: str,
    manage_url: str | None,
    period: str,
) -> RenderedEmail:
    """A digest email with the same sections as Telegram's; subject "5 new opportunities"."""
    subject = _subject(_digest_subject(views))
    title = _period_title(period)
    soon, new, updated = _digest_parts(views, now)
    text = [f"{title}: {_counts(views)}", ""]
    body = [f'<h2 style="font-size:18px">{_esc(title)}</h2>', f"<p>{_esc(_counts(views))}</p>"]
    for heading, items in (("Closing soon", soon), ("New", new), ("Updated", updated)):
        if not items:
            continue
        rendered = [_email_line(v, now, tz) for v in items]
        text += [heading, *(p for p, _ in rendered), ""]
        lis = "".join(f'<li style="margin-bottom:8px">{h}</li>' for _, h in rendered)
        body.append(f'<h3 style="font-size:16px">{_esc(heading)}</h3><ul>{lis}</ul>')
    if not views:
        text += ["Nothing new matched your keywords.", ""]
        body.append("<p>Nothing new matched your keywords.</p>")
    text.append(_footer_text(unsubscribe_url, manage_url))
    body.append(_footer_html(unsubscribe_url, manage_url))
    return RenderedEmail(subject, "\n".join(text) + "\n", _html_page(subject, "\n".join(body)))


def nudge_email(checked: int, *, unsubscribe_url: str, manage_url: str | None) -> RenderedEmail:
    """The weekly nudge as an email."""
    line = nudge_text(checked)
    subject = "No matches this week — widen your keywords?"
    text = f"{line}\n\n{_footer_text(unsubscribe_url, manage_url)}\n"
    body = f"<p>{_esc(line)}</p>\n{_footer_html(unsubscribe_url, manage_url)}"
    return RenderedEmail(subject, text, _html_page(subject, body))
