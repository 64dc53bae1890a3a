"""Email: alerts, digests, nudges and plain messages, from Jinja2 templates.

The HTML templates (``bot/render/templates/email/*.html``) are autoescaped, so every string
from a feed or a person is escaped by the template engine, not by hand; the plain-text
twins (``*.txt``) carry the same content. This module only prepares the values: cleaned,
truncated as raw text, links checked (:mod:`bot.render.text`), phrases in plain English
(:mod:`bot.render.phrases`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.kinds import follow_up_of
from bot.render.model import AlertView, Brand, ForecastView, RenderedEmail
from bot.render.phrases import (
    CLOSING_SOON,
    FORECAST_HEADING,
    FORECAST_NOTE,
    MAYBE_HEADING,
    aware,
    change_phrases,
    counts,
    day_month,
    deadline_phrase,
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
)
from bot.render.text import clean, safe_url

__all__ = [
    "Actions",
    "Footer",
    "alert_subject",
    "email_alert",
    "email_digest",
    "email_message",
    "nudge_email",
]

DEFAULT_BRAND = Brand()

#: Per delivery id, the action links shown under that notice: ``(label, url)`` pairs
#: ("Relevant", "Not relevant", "Remind me", "Ask an adviser about this").
Actions = Mapping[int, Sequence[tuple[str, str]]]

_SUBJECT_MAX = 120
_EMAIL_TITLE_MAX = 1000
_DESCRIPTION_MAX = 300


def footer_why(brand: Brand) -> str:
    return (
        f"You are getting this because you signed up for {brand.name}: opportunity alerts "
        "from BEST Procurement (Social Enterprise East Midlands)."
    )


@dataclass(frozen=True)
class Footer:
    """The links under every list mail: why you get it, manage, Telegram, unsubscribe.

    ``manage_url`` is the signed settings page on bestbot's web server ("Manage your
    alerts"); ``telegram_url`` the deep link that moves the subscription into a chat."""

    unsubscribe_url: str
    manage_url: str | None = None
    telegram_url: str | None = None
    brand: Brand = field(default_factory=Brand)

    def context(self) -> dict[str, Any]:
        links = []
        if self.manage_url:
            links.append(_link_item("Manage your alerts", self.manage_url))
        if self.telegram_url:
            links.append(_link_item("Get alerts on Telegram", self.telegram_url))
        links.append(_link_item("Unsubscribe", self.unsubscribe_url))
        return {"why": footer_why(self.brand), "links": links, "brand": self.brand.name}


def _link_item(label: str, url: str) -> dict[str, Any]:
    return {"label": label, "href": safe_url(url), "text": clean(url)}


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("bot.render", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _render(name: str, subject: str, **context: Any) -> RenderedEmail:
    env = _environment()
    html = env.get_template(f"email/{name}.html").render(subject=subject, **context)
    text = env.get_template(f"email/{name}.txt").render(subject=subject, **context)
    return RenderedEmail(subject, _tidy(text), html)


def _tidy(text: str) -> str:
    """Plain text with at most one blank line in a row and one final newline."""
    lines: list[str] = []
    for line in text.splitlines():
        if not line.strip() and lines and not lines[-1].strip():
            continue
        lines.append(line.rstrip() if line != "-- " else line)
    return "\n".join(lines).strip("\n") + "\n"


def _subject(text: str) -> str:
    """One header-safe line of at most ~120 characters."""
    return clean(text, _SUBJECT_MAX)


def _closes(view: AlertView, now: datetime, tz: ZoneInfo) -> str:
    """ "closes 12 Mar", "closes today", "closes tomorrow"; "" without an open deadline."""
    if view.deadline is None:
        return ""
    due = aware(view.deadline).astimezone(tz)
    local_now = aware(now).astimezone(tz)
    if due <= local_now:
        return ""
    days = (due.date() - local_now.date()).days
    if days == 0:
        return "closes today"
    if days == 1:
        return "closes tomorrow"
    return f"closes {day_month(due, local_now, weekday=False)}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def alert_subject(
    view: AlertView, now: datetime, tz: ZoneInfo, brand: Brand = DEFAULT_BRAND
) -> str:
    """ "SEEM alert: School meals for 14 Nottingham primaries — closes 12 Mar".

    The brand says who it is from, the title what it is about and the tail why it is
    urgent; the title is shortened to fit, never the tail."""
    if view.kind == "update":
        lead = "update"
        if is_cancelled(view):
            tail = "closed" if follow_up_of(view.changes) == "closed" else "cancelled"
        else:
            changes = change_phrases(view, now, tz)
            tail = changes[0] if changes else ""
    elif view.kind == "reminder":
        lead = "reminder"
        tail = _lower_first(reminder_lead(view, now, tz))
    else:
        lead = "alert"
        tail = _closes(view, now, tz) if view.notice_kind == "tender" else _kind_lead(view, now, tz)
    head = f"{clean(brand.short, 40)} {lead}: "
    tail = f" — {clean(tail, 50)}" if tail else ""
    room = max(20, _SUBJECT_MAX - len(head) - len(tail))
    title = clean(view.title, room) or "Untitled notice"
    return _subject(f"{head}{title}{tail}")


def _kind_lead(view: AlertView, now: datetime, tz: ZoneInfo) -> str:
    """The action half of the kind line, for a subject ("have your say by 12 Mar")."""
    return _lower_first(kind_line(view, now, tz).split(" — ")[0])


def _when(view: AlertView, now: datetime, tz: ZoneInfo) -> tuple[str, str]:
    """("Deadline", "closes …") or, for a pipeline or planned notice, ("Expected", "…")."""
    expected = expected_phrase(view, now, tz)
    if expected and view.deadline is None:
        return "Expected", expected
    later = later_deadline_phrase(view, now, tz)
    text = deadline_phrase(view.deadline, now, tz)
    return "Deadline", f"{text} ({later})" if later else text


def _lots(view: AlertView) -> list[str]:
    lines = [lot_phrase(lot) for lot in view.lots[:3]]
    more = lots_more(view, min(3, len(view.lots)))
    if more:
        lines.append(more)
    if not view.lots and view.lot_count > 1:
        lines.append(f"{view.lot_count} lots")
    return lines


def _facts(view: AlertView, now: datetime, tz: ZoneInfo) -> list[tuple[str, str]]:
    facts: list[tuple[str, str]] = []
    buyer = clean(view.buyer, 300)
    if buyer:
        facts.append(("Buyer", buyer))
    value = value_phrase(view.value_amount, view.value_min, view.currency)
    if view.lots and value != "value not stated":
        value += " in all"
    facts.append(("Value", value))
    if not is_cancelled(view):
        facts.append(_when(view, now, tz))
    regions = region_names(view.regions, shown=8)
    if regions:
        facts.append(("Region", regions))
    lots = _lots(view) if view.kind not in ("update", "reminder") else []
    for index, line in enumerate(lots):
        facts.append(("Lots that fit" if index == 0 and view.lots else "", line))
    reserved = reserved_phrase(view.reserved)
    if reserved:
        facts.append(("Reserved", reserved))
    suited = suitability(view)
    if suited and not view.lots:
        facts.append(("Suitability", suited))
    return facts


def _notice(
    view: AlertView,
    now: datetime,
    tz: ZoneInfo,
    title_max: int,
    actions: Actions | None = None,
) -> dict[str, Any]:
    """One notice's values for a template, with its action links."""
    links = [_link_item(label, url) for label, url in (actions or {}).get(view.delivery_id, ())]
    return {
        "actions": [link for link in links if link["href"]],
        "kind": view.kind if view.kind in ("update", "reminder") else "alert",
        "title": clean(view.title, title_max) or "Untitled notice",
        "url": safe_url(view.url),
        "href": safe_url(view.url),
        "description": clean(view.description, _DESCRIPTION_MAX),
        "cancelled": is_cancelled(view),
        "changes": "; ".join(change_phrases(view, now, tz)) if view.kind == "update" else "",
        "lead": reminder_lead(view, now, tz) if view.kind == "reminder" else "",
        "reasons": reasons_line(view.reasons) if view.kind not in ("update", "reminder") else "",
        "kind_line": kind_line(view, now, tz),
        "lots": _lots(view)[:2],
        "detail": " · ".join(
            d
            for d in (
                clean(view.buyer, 150),
                region_names(view.regions, 2),
                value_phrase(view.value_amount, view.value_min, view.currency),
                _when(view, now, tz)[1],
            )
            if d
        ),
    }


def email_alert(
    view: AlertView,
    now: datetime,
    tz: ZoneInfo,
    *,
    unsubscribe_url: str,
    manage_url: str | None,
    telegram_url: str | None = None,
    brand: Brand = DEFAULT_BRAND,
    actions: Actions | None = None,
) -> RenderedEmail:
    """One notice by email: plain text and HTML with the same content, actions and footer."""
    return _render(
        "alert",
        alert_subject(view, now, tz, brand),
        notice=_notice(view, now, tz, _EMAIL_TITLE_MAX, actions),
        facts=_facts(view, now, tz),
        footer=Footer(unsubscribe_url, manage_url, telegram_url, brand).context(),
    )


def _digest_subject(views: Sequence[AlertView], period: str, brand: Brand) -> str:
    """ "SEEM daily digest: 4 new opportunities"; alerts sent together: "SEEM alerts: …"."""
    label = clean(period, 30)
    what = f"{label} digest" if label in ("daily", "weekly") else "alerts"
    return f"{clean(brand.short, 40)} {what}: {_digest_counts(views)}"


def _digest_counts(views: Sequence[AlertView]) -> str:
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


def email_digest(
    views: Sequence[AlertView],
    now: datetime,
    tz: ZoneInfo,
    *,
    unsubscribe_url: str,
    manage_url: str | None,
    period: str,
    closing_soon: timedelta = CLOSING_SOON,
    telegram_url: str | None = None,
    brand: Brand = DEFAULT_BRAND,
    actions: Actions | None = None,
    forecasts: Sequence[ForecastView] = (),
) -> RenderedEmail:
    """A digest email with the same sections as Telegram's; each item keeps its "why" and
    its action links. A weekly digest may end with contracts coming up for re-tender,
    labelled a forecast."""
    soon, new, updated = digest_parts(views, now, closing_soon)
    parts = (
        ("Closing soon", soon),
        ("New", new),
        ("Updated", updated),
        (MAYBE_HEADING, maybe_part(views, now)),
    )
    sections = [
        {"heading": heading, "entries": [_notice(v, now, tz, 300, actions) for v in items]}
        for heading, items in parts
        if items
    ]
    return _render(
        "digest",
        _subject(_digest_subject(views, period, brand)),
        title=period_title(period),
        summary=counts(views),
        sections=sections,
        forecasts=[_forecast(f, tz) for f in forecasts],
        forecast_heading=FORECAST_HEADING,
        forecast_note=FORECAST_NOTE,
        footer=Footer(unsubscribe_url, manage_url, telegram_url, brand).context(),
    )


def _forecast(item: ForecastView, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "title": clean(item.title, _EMAIL_TITLE_MAX),
        "href": safe_url(item.url),
        "url": safe_url(item.url) or "",
        "buyer": clean(item.buyer, 200),
        "held": forecast_phrase(clean(item.supplier, 200) or None, item.end_date, tz, item.value),
    }


def nudge_email(
    checked: int,
    *,
    unsubscribe_url: str,
    manage_url: str | None,
    telegram_url: str | None = None,
    brand: Brand = DEFAULT_BRAND,
) -> RenderedEmail:
    """The weekly nudge as an email."""
    return email_message(
        f"{clean(brand.short, 40)}: no matches this week — widen your keywords?",
        nudge_text(checked),
        footer=Footer(unsubscribe_url, manage_url, telegram_url, brand),
    )


def email_message(subject: str, text: str, *, footer: Footer | None = None) -> RenderedEmail:
    """A plain message (an enquiry reply, a verification code, a nudge) as text + HTML:
    paragraphs and line breaks kept, everything escaped."""
    paragraphs = [block.split("\n") for block in text.strip().split("\n\n") if block.strip()]
    return _render(
        "message",
        _subject(subject),
        text=text.strip(),
        paragraphs=paragraphs,
        footer=footer.context() if footer is not None else None,
    )
