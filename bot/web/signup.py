"""The public sign-up page SEEM links to: ``/signup`` (email-only subscribers).

Double opt-in: the form stores a pending sign-up (:class:`storage.models.EmailSignupRow`)
and mails a confirmation link; only that link (``/signup/confirm/<token>``, purpose
``signup``, expires in 2 days) creates the subscriber, behind a confirm button (mail
scanners fetch links; only a POST acts). Nobody can subscribe somebody else, and the page
says the same thing whether or not the address is already subscribed (an existing
subscriber is mailed a fresh "manage your alerts" link instead), so it reveals nothing.
At most 3 such mails go to one address in an hour.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from aiohttp import web

from bot.chat import regions_menu
from bot.chat.text import MAX_KEYWORDS, InputError, parse_email, split_keywords
from bot.render.email import email_message
from bot.services import Services
from bot.web import csrf
from bot.web.editing import set_regions
from bot.web.pages import message_page, page
from bot.web.unsubscribe import SERVICES
from storage.chat import subscriber_by_email
from storage.messages import NewMessage, queue_message
from storage.models import ProfileRow
from storage.signups import create_signup, mails_to_since, signup_by_public_id
from storage.subscribers import SubscriberInput, mask_email, recipient_of, upsert_subscriber
from storage.types import utcnow

__all__ = ["add_routes"]

log = logging.getLogger(__name__)

#: The most sign-up / link mails one address gets in :data:`FLOOD_WINDOW`.
FLOOD_LIMIT = 3
FLOOD_WINDOW = timedelta(hours=1)
PURPOSES = ("signup", "manage_link")
DEFAULT_AREAS = ("em",)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/signup", _form)
    app.router.add_post("/signup", _submit)
    app.router.add_get("/signup/confirm/{token}", _confirm_form)
    app.router.add_post("/signup/confirm/{token}", _confirm)


def _areas(checked: set[str]) -> list[dict[str, Any]]:
    return [
        {"key": a.key, "name": a.name, "checked": a.key in checked} for a in regions_menu.EVERY_AREA
    ]


def _form_page(
    services: Services, *, errors: list[str] | None = None, values: dict[str, Any] | None = None
) -> web.Response:
    values = values or {}
    return page(
        "signup.html",
        status=400 if errors else 200,
        title="Get contract alerts by email",
        brand=services.mailer.settings.brand.name,
        csrf=csrf.issue(services.signer, None, services.clock()),
        errors=errors or [],
        email=values.get("email", ""),
        keywords=values.get("keywords", ""),
        frequency=values.get("frequency", services.config.alerts.default_frequency),
        areas=_areas(set(values.get("regions", DEFAULT_AREAS))),
    )


async def _form(request: web.Request) -> web.Response:
    return _form_page(request.app[SERVICES])


async def _submit(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    post = await request.post()
    form = {k: str(v) for k, v in post.items() if isinstance(v, str)}
    keys = [str(v) for v in post.getall("region", [])]
    values = {**form, "regions": keys}
    if not csrf.check(services.signer, form, None, services.clock()):
        return _form_page(
            services, errors=["This page was open too long. Please try again."], values=values
        )
    errors: list[str] = []
    try:
        address = parse_email(form.get("email", ""))
    except InputError:
        errors.append("Please give an email address like name@example.org.")
        address = ""
    split = split_keywords(form.get("keywords", ""))
    if not split.good:
        errors.append(
            "Please give at least one keyword: the services you offer, separated by commas "
            "(e.g. “school meals, catering”)."
        )
    frequency = form.get("frequency", "instant")
    if frequency not in ("instant", "daily", "weekly"):
        errors.append("Choose instant, daily or weekly.")
    if errors:
        return _form_page(services, errors=errors, values=values)
    regions = _regions(keys)
    await _mail_link(services, address, split.good[:MAX_KEYWORDS], regions, frequency)
    return message_page(
        "Check your inbox",
        f"We've sent a link to {mask_email(address)}. Open it within 2 days to confirm — "
        "nothing is sent to you until you do.",
        {
            "text": "Not there? Look in your spam folder, or try again in a few minutes.",
            "muted": True,
        },
    )


def _regions(keys: list[str]) -> list[str]:
    scratch = ProfileRow(subscriber_id=0, regions=[])
    set_regions(scratch, keys)
    return list(scratch.regions)


async def _mail_link(
    services: Services, address: str, keywords: list[str], regions: list[str], frequency: str
) -> None:
    now = services.clock()
    brand = services.mailer.settings.brand.name
    async with services.db.session() as session:
        if await mails_to_since(session, address, PURPOSES, utcnow() - FLOOD_WINDOW) >= FLOOD_LIMIT:
            log.warning("sign-up: too many mails to one address; not sending another")
            return
        existing = await subscriber_by_email(session, address)
        if existing is not None:
            url = services.links.manage_url(recipient_of(existing), now)
            subject = f"Your {brand} settings"
            text = (
                f"Someone (we hope you) asked to sign up for {brand} with this address, which "
                f"is already subscribed.\n\nTo change your alerts, open:\n{url}\n\n"
                "The link works for 30 days. If this wasn't you, ignore this email: nothing "
                "has changed."
            )
            purpose = "manage_link"
        else:
            signup = await create_signup(
                session,
                address,
                name=None,
                keywords=keywords,
                regions=regions,
                frequency=frequency,
                now=now,
            )
            url = services.links.signup_url(signup.public_id, now)
            subject = f"Confirm your {brand}"
            text = (
                f"Please confirm that you want {brand} at this address:\n{url}\n\n"
                f"You asked for alerts about: {', '.join(keywords[:20])}.\n\n"
                "The link works for 2 days. If you didn't ask for this, ignore this email: "
                "you won't hear from us again."
            )
            purpose = "signup"
        rendered = email_message(subject, text + f"\n\n-- \n{brand} — BEST Procurement")
        queue_message(
            session,
            NewMessage(
                channel="email",
                purpose=purpose,
                recipient="subscriber",
                email_to=address,
                subject=rendered.subject,
                body=rendered.text,
                body_html=rendered.html,
                email_message_id=services.mailer.new_message_id("bestbot-signup"),
                due_at=now,
            ),
        )
    await _send_now(services)


async def _send_now(services: Services) -> None:
    """Send the mail while the person waits (the service loop would within seconds)."""
    if services.email is None:
        return
    try:
        await services.send_messages()
    except Exception as exc:  # the outbox keeps it; the loop retries
        log.warning("sign-up mail not sent yet: %s", type(exc).__name__)


# --------------------------------------------------------------------------- confirming


def _invalid() -> web.Response:
    return message_page(
        "This link is not valid",
        "This confirmation link has expired or was already used. Please sign up again.",
        status=400,
    )


async def _pending(request: web.Request) -> Any:
    services = request.app[SERVICES]
    token = services.signer.verify("signup", request.match_info["token"], now=services.clock())
    if token is None:
        return None
    async with services.db.session() as session:
        return await signup_by_public_id(session, token.subject)


async def _confirm_form(request: web.Request) -> web.Response:
    signup = await _pending(request)
    if signup is None or signup.confirmed_at is not None:
        return _invalid()
    services = request.app[SERVICES]
    return page(
        "confirm.html",
        title="Confirm your sign-up",
        brand=services.mailer.settings.brand.name,
        question=f"Start {services.mailer.settings.brand.name} by email",
        target=mask_email(signup.email) or "",
        fields=[("csrf", csrf.issue(services.signer, signup.public_id, services.clock()))],
        button="Yes, send me alerts",
        note="You can change or stop them at any time from the link in every email.",
    )


async def _confirm(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    signup = await _pending(request)
    form = {k: str(v) for k, v in (await request.post()).items() if isinstance(v, str)}
    if signup is None or signup.confirmed_at is not None:
        return _invalid()
    if not csrf.check(services.signer, form, signup.public_id, services.clock()):
        return message_page(
            "Please try again", "This page was open too long. Open the link again.", status=400
        )
    now = services.clock()
    async with services.db.session() as session:
        row = await signup_by_public_id(session, signup.public_id)
        if row is None or row.confirmed_at is not None:
            return _invalid()
        row.confirmed_at = now
        session.add(row)
        sub_id, _created = await upsert_subscriber(
            session,
            SubscriberInput(
                name=row.name,
                email=row.email,
                telegram_chat_id=None,
                frequency=row.frequency,
                profile={"keywords": list(row.keywords), "regions": list(row.regions)},
            ),
        )
        sub = await subscriber_by_email(session, row.email)
        assert sub is not None and sub.id == sub_id
        manage = services.links.manage_url(recipient_of(sub), now)
    log.info("sign-up confirmed: subscriber %s", sub_id)
    return page(
        "done.html",
        title="You're subscribed",
        brand=services.mailer.settings.brand.name,
        text="Alerts will come to your inbox as matching contracts appear.",
        link_text="See or change your alerts",
        link=manage,
    )
