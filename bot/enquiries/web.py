"""The rating link in the "resolved" email: ``/enquiry/rate/<token>``.

As with unsubscribe links, ``GET`` only shows a confirm button (mail scanners fetch every
link) and ``POST`` records the rating. The token is signed for the purpose "rate" over
``enquiry_id * 2 + (1 for 👍, 0 for 👎)``, so it can neither be altered nor used elsewhere.
"""

from __future__ import annotations

import html

from aiohttp import web

from bot.enquiries.service import RATE_PURPOSE, EnquiryService
from bot.tokens import verify

_SERVICE = web.AppKey("enquiries", EnquiryService)


def add_rating_routes(app: web.Application, service: EnquiryService) -> None:
    app[_SERVICE] = service
    app.router.add_get("/enquiry/rate/{token}", _form)
    app.router.add_post("/enquiry/rate/{token}", _rate)


def _page(title: str, body: str, status: int = 200) -> web.Response:
    text = (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title, quote=False)}</title></head>"
        '<body style="font-family:Arial,Helvetica,sans-serif;max-width:34em;margin:3em auto">'
        f"{body}</body></html>"
    )
    return web.Response(text=text, status=status, content_type="text/html")


async def _decode(request: web.Request) -> tuple[int, bool] | None:
    service = request.app[_SERVICE]
    value = verify(await service.secret(), RATE_PURPOSE, request.match_info["token"])
    return None if value is None else (value // 2, bool(value % 2))


async def _form(request: web.Request) -> web.Response:
    decoded = await _decode(request)
    if decoded is None:
        return _page("Link not valid", "<p>Sorry, this link is not valid.</p>", 400)
    word = "👍 Yes, it helped" if decoded[1] else "👎 Not really"
    return _page(
        "Rate our answer",
        '<h1>How did we do?</h1><form method="post">'
        f'<button type="submit">{html.escape(word, quote=False)}</button></form>',
    )


async def _rate(request: web.Request) -> web.Response:
    decoded = await _decode(request)
    if decoded is None:
        return _page("Link not valid", "<p>Sorry, this link is not valid.</p>", 400)
    outcome = await request.app[_SERVICE].rate(decoded[0], decoded[1])
    return _page("Thank you", f"<p>{html.escape(outcome.message, quote=False)}</p>")
