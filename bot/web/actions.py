"""The links under each notice in an email: ``/act/<token>`` — Relevant, Not relevant,
Remind me, Ask an adviser about this.

Mail scanners and link previewers open every link in an email, so ``GET`` never acts: it
shows a confirm page whose button ``POST`` s (with a CSRF token). The ``POST`` feeds the
same tables, through the same storage functions, as the Telegram buttons
(:mod:`bot.chat.alert_buttons`): ``record_feedback`` (the latest answer wins),
``schedule_reminders`` (the outbox's unique key makes a second press create nothing) and
the enquiry workflow (``EnquiryService.receive``, idempotent by a Message-ID derived from
the link and the question, so a double click asks once).

The token (purpose ``act``, expires in 60 days) names the action, the delivery and the
first characters of its subscriber's public id; a delivery id that was reused after a
subscriber was deleted therefore never acts for somebody else.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import datetime

from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.enquiries.model import IncomingMessage
from bot.links import ActionRef, read_action
from bot.services import Services
from bot.web import csrf
from bot.web.pages import message_page, page
from bot.web.unsubscribe import SERVICES
from storage import enquiries as store
from storage.feedback import Owned, active_channels, record_feedback, schedule_reminders
from storage.models import DeliveryRow, SubscriberRow

__all__ = ["add_routes"]

log = logging.getLogger(__name__)

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MAX_QUESTION = 4000


def add_routes(app: web.Application) -> None:
    app.router.add_get("/act/{token}", _form)
    app.router.add_post("/act/{token}", _act)


def _invalid() -> web.Response:
    return message_page(
        "This link is not valid",
        "This link has expired or is not complete. Links under a notice work for 60 days; "
        "use the ones in your most recent email.",
        status=400,
    )


async def _owned(session: AsyncSession, ref: ActionRef) -> Owned | None:
    delivery = await session.get(DeliveryRow, ref.delivery_id)
    if delivery is None:
        return None
    sub = await session.get(SubscriberRow, delivery.subscriber_id)
    if sub is None or not sub.public_id.startswith(ref.public_ref):
        return None
    return Owned(delivery, sub)


def _ref(request: web.Request) -> ActionRef | None:
    services = request.app[SERVICES]
    token = services.signer.verify("act", request.match_info["token"], now=services.clock())
    return read_action(token)


async def _title(session: AsyncSession, notice_id: int) -> str:
    brief = await store.notice_brief(session, notice_id)
    return " ".join((brief.title if brief is not None else "").split())[:200] or "this notice"


QUESTIONS = {
    "relevant": ("Was this notice relevant?", "Yes, it was relevant"),
    "not_relevant": ("Was this notice not relevant?", "Not relevant"),
    "remind": ("Remind you before it closes?", "Remind me"),
    "ask": ("Ask an adviser about this notice", "Send my question"),
}


async def _form(request: web.Request) -> web.Response:
    ref = _ref(request)
    if ref is None:
        return _invalid()
    services = request.app[SERVICES]
    async with services.db.session() as session:
        owned = await _owned(session, ref)
        if owned is None:
            return _invalid()
        title = await _title(session, owned.delivery.notice_id)
    heading, button = QUESTIONS[ref.action]
    return page(
        "act.html",
        title=heading,
        brand=services.mailer.settings.brand.name,
        notice=title,
        action=ref.action,
        button=button,
        csrf=csrf.issue(services.signer, owned.subscriber.public_id, services.clock()),
        question="",
        error="",
    )


async def _act(request: web.Request) -> web.Response:
    ref = _ref(request)
    if ref is None:
        return _invalid()
    services = request.app[SERVICES]
    form = {k: str(v) for k, v in (await request.post()).items() if isinstance(v, str)}
    async with services.db.session() as session:
        owned = await _owned(session, ref)
        if owned is None:
            return _invalid()
        title = await _title(session, owned.delivery.notice_id)
        public_id = owned.subscriber.public_id
        if not csrf.check(services.signer, form, public_id, services.clock()):
            return message_page(
                "Please try again", "This page was open too long. Open the link again.", status=400
            )
        if ref.action in ("relevant", "not_relevant"):
            return await _feedback(session, owned, ref.action == "relevant", title)
        if ref.action == "remind":
            return await _remind(session, owned, services, title)
    return await _ask(request, services, owned, form, title)


async def _feedback(
    session: AsyncSession, owned: Owned, relevant: bool, title: str
) -> web.Response:
    assert owned.subscriber.id is not None
    await record_feedback(session, owned.subscriber.id, owned.delivery.notice_id, relevant)
    word = "relevant" if relevant else "not relevant"
    log.info("email action: feedback (%s) on delivery %s", word, owned.delivery.id)
    return message_page(
        "Thank you",
        f"“{title}” is marked {word}. This helps us improve your matches.",
        {"text": "Pressed the wrong one? Use the other link in the email.", "muted": True},
    )


def _day(moment: datetime, services: Services) -> str:
    local = moment.astimezone(services.timezone)
    return f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}"


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


async def _remind(
    session: AsyncSession, owned: Owned, services: Services, title: str
) -> web.Response:
    if not active_channels(owned.subscriber):
        return message_page("Reminders are off", "Your alerts are switched off, so no reminder.")
    plan = await schedule_reminders(session, owned, services.clock(), services.remind_before)
    if plan.deadline is None:
        text = f"“{title}” has no closing date, so there is nothing to remind you of."
    elif plan.closed:
        text = f"“{title}” has already closed."
    elif not plan.times:
        text = f"“{title}” closes within a day — too soon for a reminder. Good luck!"
    else:
        when = _and([_day(t, services) for t in plan.times])
        text = f"We'll remind you about “{title}” on {when}."
        if not plan.created:
            text = "Already set: " + text[0].lower() + text[1:]
    log.info("email action: remind on delivery %s (%d new)", owned.delivery.id, plan.created)
    return message_page("Reminder", text)


async def _ask(
    request: web.Request, services: Services, owned: Owned, form: dict[str, str], title: str
) -> web.Response:
    question = " ".join(form.get("question", "").split(" "))[:MAX_QUESTION].strip()
    sub = owned.subscriber
    if len(question.split()) < 2 or not sub.email:
        error = (
            "Please write a few words so the right adviser can help."
            if sub.email
            else "Questions from this page need an email address on your subscription."
        )
        heading, button = QUESTIONS["ask"]
        return page(
            "act.html",
            status=400,
            title=heading,
            brand=services.mailer.settings.brand.name,
            notice=title,
            action="ask",
            button=button,
            csrf=csrf.issue(services.signer, sub.public_id, services.clock()),
            question=question,
            error=error,
        )
    digest = hashlib.sha256(f"{request.match_info['token']}\0{question}".encode()).hexdigest()
    received = await services.enquiries.receive(
        IncomingMessage(
            channel="email",
            text=question,
            subject=f"About: {title}"[:200],
            sender_email=sub.email,
            sender_name=sub.name,
            message_id=f"<web-{digest[:32]}@{services.mailer.settings.domain}>",
            notice_id=owned.delivery.notice_id,
            authenticated=True,
        )
    )
    log.info("email action: question %s on delivery %s", received.reference, owned.delivery.id)
    return message_page(
        "Your question is with an adviser",
        f"Thank you. Your question about “{title}” has the reference {received.reference}.",
        "An adviser will answer by email; reply to that email to carry on the conversation.",
    )
