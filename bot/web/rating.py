"""The rating link in the "resolved" email: ``/enquiry/rate/<token>``.

As with unsubscribe links, ``GET`` only shows a confirm button (mail scanners fetch every
link) and ``POST`` records the rating. The token is signed for the purpose "rate" over the
enquiry id and the answer (``<id>u`` / ``<id>d``) and expires, so it can neither be altered
nor used elsewhere.
"""

from __future__ import annotations

import re

from aiohttp import web

from bot.web.pages import message_page, page
from bot.web.unsubscribe import SERVICES

_SUBJECT = re.compile(r"([1-9][0-9]{0,18})([ud])")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/enquiry/rate/{token}", _form)
    app.router.add_post("/enquiry/rate/{token}", _rate)


def _decode(request: web.Request) -> tuple[int, bool] | None:
    services = request.app[SERVICES]
    token = services.signer.verify("rate", request.match_info["token"], now=services.clock())
    found = _SUBJECT.fullmatch(token.subject) if token is not None else None
    return (int(found[1]), found[2] == "u") if found else None


def _invalid() -> web.Response:
    return message_page(
        "Link not valid", "Sorry, this link is not valid or has expired.", status=400
    )


async def _form(request: web.Request) -> web.Response:
    decoded = _decode(request)
    if decoded is None:
        return _invalid()
    return page(
        "confirm.html",
        title="Rate our answer",
        question="How did we do",
        target="",
        fields=[],
        button="👍 Yes, it helped" if decoded[1] else "👎 Not really",
        note="",
    )


async def _rate(request: web.Request) -> web.Response:
    decoded = _decode(request)
    if decoded is None:
        return _invalid()
    outcome = await request.app[SERVICES].enquiries.rate(decoded[0], decoded[1])
    return message_page("Thank you", outcome.message)
