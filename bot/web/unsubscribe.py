"""The unsubscribe link in every list mail: ``/unsubscribe/<token>``.

* ``GET`` never unsubscribes. Mail scanners and link previewers fetch every link in an
  email; if GET acted, people would be unsubscribed without ever clicking. GET shows a page
  with a confirm button, a form that POSTs back to the same URL.
* ``POST`` acts at once. That is both the confirm button and RFC 8058 one-click unsubscribe
  (mail clients POST ``List-Unsubscribe=One-Click`` to the ``List-Unsubscribe`` URL). It is
  idempotent, and an unknown subscriber sees the same page, so the page reveals nothing.
* The token names the subscriber's random ``public_id`` (never the reusable integer id); an
  old-style token naming the integer id is honoured only for subscribers who existed when
  links changed, so it can never reach somebody who got that id later.
* A bad token gets one plain 400 page whatever was wrong with it.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot import tokens
from bot.services import Services
from bot.web.pages import message_page, page
from storage.subscribers import mask_email, unsubscribe_by

log = logging.getLogger(__name__)

SERVICES = web.AppKey("services", Services)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/unsubscribe/{token}", _form)
    app.router.add_post("/unsubscribe/{token}", _unsubscribe)


def _invalid() -> web.Response:
    return message_page(
        "This link is not valid",
        "This unsubscribe link is not valid. It may have been copied incompletely. Please "
        "use the link from the most recent email, or reply to that email and ask us to stop.",
        status=400,
    )


def _who(request: web.Request) -> tuple[str | None, int | None] | None:
    """(public id, legacy integer id) named by the token, or None when it is not valid."""
    services = request.app[SERVICES]
    token = request.match_info["token"]
    signed = services.signer.verify("unsub", token)
    if signed is not None:
        return signed.subject, None
    legacy = tokens.verify(services.signer.legacy_secret, "unsub", token)
    return (None, legacy) if legacy is not None else None


async def _form(request: web.Request) -> web.Response:
    who = _who(request)
    if who is None:
        return _invalid()
    services = request.app[SERVICES]
    try:
        async with services.db.session() as session:
            address = await unsubscribe_by(session, *who, dry_run=True)
    except Exception as exc:
        log.warning("unsubscribe page: looking up the subscriber failed: %s", type(exc).__name__)
        address = None
    return page(
        "confirm.html",
        title="Unsubscribe from alerts?",
        question=f"Stop {services.mailer.settings.brand.name} by email",
        target=mask_email(address) or "",
        fields=[("confirm", "yes")],
        button="Unsubscribe",
        note="You can sign up again at any time.",
    )


async def _unsubscribe(request: web.Request) -> web.Response:
    who = _who(request)
    if who is None:
        return _invalid()
    # The body is either RFC 8058's "List-Unsubscribe=One-Click" or the confirm form;
    # the signed URL is what authorises, so the body only needs to be readable.
    await request.read()
    services = request.app[SERVICES]
    try:
        async with services.db.session() as session:
            known = await unsubscribe_by(session, *who)
    except Exception as exc:
        log.warning("unsubscribe failed: %s", type(exc).__name__)
        return message_page(
            "Something went wrong",
            "We could not unsubscribe you just now. Please try again in a few minutes.",
            status=503,
        )
    log.info("unsubscribed by link (known subscriber: %s)", known is not None)
    brand = services.mailer.settings.brand.name
    return message_page(
        "You're unsubscribed",
        f"You will not get any more opportunity alerts by email from {brand}.",
        {"text": "Changed your mind? Sign up again at any time.", "muted": True},
    )
