"""What enterprises and advisers read about enquiries: Telegram HTML and email text.

Every user string (question, names, subjects, notice titles) is cleaned of control and bidi
characters and HTML-escaped here, and nothing else builds enquiry messages. Advisers are
shown to enterprises by their role name only, never by a Telegram handle or address.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.render.email import email_message
from bot.render.text import clean_lines, fit

__all__ = [
    "QUESTION_MAX",
    "TOPIC_NAMES",
    "Brief",
    "ack_text",
    "adviser_email",
    "adviser_telegram",
    "age",
    "clean",
    "email_html",
    "esc",
    "fit",
    "one_line",
    "relay_to_adviser",
    "relay_to_enterprise",
    "subject_for",
    "topic_name",
    "when",
]

TOPIC_NAMES = {
    "tendering": "Tendering and bids",
    "legal": "Legal and contracts",
    "finance": "Finance",
    "funding": "Funding and investment",
    "social_value": "Social value",
    "start_up": "Starting up",
    "employment": "Employment and HR",
    "general": "General",
}
QUESTION_MAX = 3000
NOTE_MAX = 1000
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def clean(text: str | None, limit: int | None = None) -> str:
    """Plain text with its line breaks, without control, bidi or private characters."""
    return clean_lines(text, limit)


def one_line(text: str | None, limit: int = 120) -> str:
    return " ".join(clean(text, limit * 2).split())[:limit]


def esc(text: str | None, limit: int | None = None) -> str:
    return html.escape(clean(text, limit), quote=False)


def topic_name(topic: str) -> str:
    return TOPIC_NAMES.get(topic, topic.replace("_", " ").capitalize())


def when(moment: datetime, tz: ZoneInfo, now: datetime) -> str:
    """ "today 15:00", "tomorrow 10:00", "Monday 10:00" or "Mon 1 Dec 10:00"."""
    local, today = moment.astimezone(tz), now.astimezone(tz).date()
    clock = local.strftime("%H:%M")
    days = (local.date() - today).days
    if days <= 0:
        return f"today {clock}"
    if days == 1:
        return f"tomorrow {clock}"
    if days < 7:
        return f"{_DAYS[local.weekday()]} {clock}"
    return f"{_DAYS[local.weekday()][:3]} {local.day} {_MONTHS[local.month - 1]} {clock}"


def when_past(moment: datetime, tz: ZoneInfo, now: datetime) -> str:
    """A moment that has passed: "today 15:00", "yesterday 15:00" or "Mon 1 Dec 15:00"."""
    local, today = moment.astimezone(tz), now.astimezone(tz).date()
    clock = local.strftime("%H:%M")
    days = (today - local.date()).days
    if days <= 0:
        return f"today {clock}"
    if days == 1:
        return f"yesterday {clock}"
    return f"{_DAYS[local.weekday()][:3]} {local.day} {_MONTHS[local.month - 1]} {clock}"


def age(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 0)}m"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h {minutes % 60:02d}m"
    return f"{hours // 24}d {hours % 24}h"


@dataclass(frozen=True)
class Brief:
    """Everything an adviser is shown about a new enquiry."""

    reference: str
    topic: str
    confidence: float
    region: str | None
    enterprise: str
    contact: str
    profile: Sequence[str]
    notice_title: str | None
    notice_url: str | None
    notice_facts: Sequence[str]
    subject: str | None
    text: str
    reasons: Sequence[str]
    note: str | None = None
    #: What the enterprise added after its question (so nothing is lost when it moves on).
    follow_ups: Sequence[str] = ()


def adviser_telegram(brief: Brief) -> str:
    lines = []
    if brief.note:
        lines.append(f"<i>{esc(brief.note, NOTE_MAX)}</i>")
    lines.append(f"📨 <b>New enquiry {brief.reference}</b>")
    lines.append(
        f"Topic: <b>{esc(topic_name(brief.topic))}</b> (confidence {brief.confidence:.0%})"
    )
    lines.append(f"From: {esc(brief.enterprise, 120)} — {esc(brief.contact, 120)}")
    if brief.region:
        lines.append(f"Region: {esc(brief.region, 60)}")
    for item in brief.profile:
        lines.append(f"• {esc(item, 300)}")
    if brief.notice_title:
        title = esc(brief.notice_title, 200)
        url = brief.notice_url
        if url and url.startswith(("http://", "https://")) and " " not in url:
            title = f'<a href="{html.escape(url, quote=True)}">{title}</a>'
        lines.append(f"About: {title}")
        lines.extend(f"   {esc(f, 120)}" for f in brief.notice_facts)
    if brief.subject:
        lines.append(f"Subject: {esc(brief.subject, 200)}")
    lines.append(f"\n<blockquote>{esc(brief.text, QUESTION_MAX)}</blockquote>")
    if brief.follow_ups:
        lines.append("Since then they added:")
        lines.extend(f"<blockquote>{esc(t, 600)}</blockquote>" for t in brief.follow_ups[-5:])
    if brief.reasons:
        lines.append(f"<i>Why you: {esc('; '.join(brief.reasons), 400)}</i>")
    lines.append("\nReply to this message to answer the enterprise.")
    return fit("\n".join(lines))


def adviser_email(brief: Brief) -> tuple[str, str]:
    """(subject, plain text) for an adviser who works by email."""
    parts = []
    if brief.note:
        parts.append(clean(brief.note, NOTE_MAX) + "\n")
    parts.append(f"New enquiry {brief.reference}")
    parts.append(f"Topic: {topic_name(brief.topic)} (confidence {brief.confidence:.0%})")
    parts.append(f"From: {one_line(brief.enterprise)} - {one_line(brief.contact)}")
    if brief.region:
        parts.append(f"Region: {one_line(brief.region)}")
    parts.extend(f"- {one_line(item, 300)}" for item in brief.profile)
    if brief.notice_title:
        parts.append(f"About: {one_line(brief.notice_title, 200)}")
        if brief.notice_url:
            parts.append(f"   {one_line(brief.notice_url, 300)}")
        parts.extend(f"   {one_line(f)}" for f in brief.notice_facts)
    if brief.subject:
        parts.append(f"Subject: {one_line(brief.subject, 200)}")
    parts.append("")
    parts.append(clean(brief.text, 20_000))
    parts.append("")
    if brief.follow_ups:
        parts.append("Since then they added:")
        parts.extend(clean(t, 2000) + "\n" for t in brief.follow_ups[-5:])
    if brief.reasons:
        parts.append("Why you: " + one_line("; ".join(brief.reasons), 400))
    parts.append(
        "\nReply to this email to answer the enterprise (your reply is passed on and "
        "accepts the enquiry). Or reply with just one word on the first line:\n"
        "  ACCEPT - take it on;  PASS - pass it to the next adviser;  RESOLVE - close it."
    )
    subject = f"[{brief.reference}] New enquiry: {topic_name(brief.topic)}"
    return subject, "\n".join(parts)


def email_html(text: str) -> str:
    """The plain text as the HTML part of a mail (escaped, paragraphs and line breaks kept)."""
    return email_message("", text).html


def subject_for(reference: str, subject: str | None) -> str:
    base = one_line(subject, 150) if subject else "Your question to SEEM"
    if reference in base:
        return base if base.lower().startswith("re:") else f"Re: {base}"
    return f"Re: [{reference}] {base}"


def ack_text(reference: str, topic: str, by: str) -> str:
    """The enterprise's acknowledgement of a new question."""
    return (
        f"Thanks — we've got your question. Your reference is {reference}.\n"
        f"It's about {topic_name(topic).lower()}, so it has gone to the right "
        f"SEEM adviser. You can expect an answer by {by}.\n"
        "To add anything, just send it here (or reply to this message; quote the reference "
        "if you email us)."
    )


def relay_to_enterprise(author: str, reference: str, text: str) -> str:
    """An adviser's answer as the enterprise reads it in Telegram (HTML)."""
    return fit(
        f"💬 <b>{esc(author)}</b> (SEEM adviser) about {reference}:\n"
        f"<blockquote>{esc(text, QUESTION_MAX)}</blockquote>\n"
        "Reply here to answer."
    )


def relay_to_adviser(who: str, reference: str, text: str) -> str:
    """An enterprise's follow-up as the adviser reads it in Telegram (HTML)."""
    return fit(
        f"💬 <b>{esc(who)}</b> wrote about {reference}:\n"
        f"<blockquote>{esc(text, QUESTION_MAX)}</blockquote>\n"
        "Reply to this message to answer."
    )


def holder(name: str | None) -> str:
    """How an enterprise is told who has its question: the adviser's name and role."""
    return f"{one_line(name, 80)}, a SEEM adviser" if name else "the SEEM advisers"


def accepted_text(name: str, reference: str, by: str) -> str:
    return (
        f"Good news: {holder(name)}, is looking at your question {reference} and will "
        f"reply here by {by}."
    )


def now_with_text(reference: str, name: str) -> str:
    """The enterprise's note that its question changed hands."""
    return (
        f"Your question {reference} is now with {holder(name)}, who is best placed to "
        "help. Anything you send here goes to them."
    )


def late_text(reference: str, promised: str, name: str | None, reminded: bool) -> str:
    """The promised answer time has passed: say so, and who has the question now."""
    if name is None:
        where = (
            "No adviser is free just this moment; it is first in line for the next one, "
            "and the duty team has been told."
        )
    elif reminded:
        where = f"It is with {holder(name)}, who has been reminded."
    else:
        where = f"It is now with {holder(name)}, who has been asked to pick it up."
    return (
        f"⏱ Sorry — we said you'd hear about {reference} by {promised}, and it is taking "
        f"longer. {where} You don't need to do anything; to add something, just send it here."
    )


def rated_text(who: str, reference: str, up: bool) -> str:
    """The adviser's view of the enterprise's rating."""
    verdict = "👍 “Yes, thanks” — it helped" if up else "👎 “Not really” — it didn't help enough"
    return f"{who} rated your help with {reference}: {verdict}."


def withdrawn_text(reference: str) -> str:
    return (
        f"🗑 {reference} was withdrawn: the enterprise deleted its data with /forget, so the "
        "enquiry is closed and can no longer be answered. No action needed."
    )
