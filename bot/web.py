"""bestbot's small HTTP server: the unsubscribe link and ``/healthz``.

Why the unsubscribe flow is shaped this way:

* ``GET`` never unsubscribes. Mail scanners and link previewers fetch every link in an
  email; if GET acted, people would be unsubscribed without ever clicking. GET shows a page
  with a confirm button, a form that POSTs back to the same URL.
* ``POST`` acts at once. That is both the confirm button and RFC 8058 one-click unsubscribe
  (mail clients POST ``List-Unsubscribe=One-Click`` to the ``List-Unsubscribe`` URL). It is
  idempotent, and an unknown subscriber sees the same page, so the page reveals nothing.
* A bad token gets one plain 400 page whatever was wrong with it.
* The token is a credential: it is never logged (the access log redacts it), pages send
  ``Referrer-Policy: no-referrer``, and every response carries a strict CSP.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler

from bot.tokens import verify

__all__ = [
    "RedactingAccessLogger",
    "UnsubscribeStore",
    "build_web_app",
    "redact_path",
    "start_web",
]

log = logging.getLogger(__name__)

UNSUBSCRIBE_PURPOSE = "unsub"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
}


class UnsubscribeStore(Protocol):
    async def unsubscribe(self, subscriber_id: int) -> bool:
        """Stop all email to the subscriber; False if there is no such subscriber."""
        ...

    async def describe(self, subscriber_id: int) -> str | None:
        """Something to recognise the subscription by, e.g. "j***@example.org"."""
        ...


_STORE_KEY: web.AppKey[UnsubscribeStore] = web.AppKey("store")
_SECRET_KEY = web.AppKey("secret", str)
_HEALTH_KEY: web.AppKey[Callable[[], Awaitable[dict[str, Any]]]] = web.AppKey("health")


def _page(title: str, body_html: str, status: int = 200) -> web.Response:
    page = (
        '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{html.escape(title, quote=False)}</title>"
        "<style>body{font-family:Arial,Helvetica,sans-serif;max-width:34em;margin:3em auto;"
        "padding:0 1em;line-height:1.5;color:#222}button{font-size:1em;padding:.6em 1.2em;"
        "border:0;border-radius:4px;background:#1f5f8b;color:#fff;cursor:pointer}"
        ".muted{color:#666;font-size:.9em}</style></head>\n<body>\n"
        f"<h1>{html.escape(title, quote=False)}</h1>\n{body_html}\n</body></html>\n"
    )
    return web.Response(text=page, status=status, content_type="text/html", charset="utf-8")


def _invalid() -> web.Response:
    return _page(
        "This link is not valid",
        "<p>This unsubscribe link is not valid. It may have been copied incompletely. "
        "Please use the link from the most recent email, or reply to that email and "
        "ask us to stop.</p>",
        status=400,
    )


def _done() -> web.Response:
    return _page(
        "You're unsubscribed",
        "<p>You will not get any more opportunity alerts by email from BEST Procurement.</p>"
        '<p class="muted">Changed your mind? Sign up again at any time.</p>',
    )


def _subscriber_id(request: web.Request) -> int | None:
    return verify(request.app[_SECRET_KEY], UNSUBSCRIBE_PURPOSE, request.match_info["token"])


async def _unsubscribe_form(request: web.Request) -> web.Response:
    subscriber_id = _subscriber_id(request)
    if subscriber_id is None:
        return _invalid()
    try:
        who = await request.app[_STORE_KEY].describe(subscriber_id)
    except Exception:
        log.exception("unsubscribe page: looking up the subscriber failed")
        who = None
    target = f" for <strong>{html.escape(who)}</strong>" if who else ""
    return _page(
        "Unsubscribe from alerts?",
        f"<p>Stop BEST Procurement opportunity alerts by email{target}?</p>"
        '<form method="post"><input type="hidden" name="confirm" value="yes">'
        '<button type="submit">Unsubscribe</button></form>'
        '<p class="muted">You can sign up again at any time.</p>',
    )


async def _unsubscribe(request: web.Request) -> web.Response:
    subscriber_id = _subscriber_id(request)
    if subscriber_id is None:
        return _invalid()
    # The body is either RFC 8058's "List-Unsubscribe=One-Click" or the confirm form;
    # the signed URL is what authorises, so the body only needs to be readable.
    await request.read()
    try:
        known = await request.app[_STORE_KEY].unsubscribe(subscriber_id)
    except Exception:
        log.exception("unsubscribe failed")
        return _page(
            "Something went wrong",
            "<p>We could not unsubscribe you just now. Please try again in a few minutes.</p>",
            status=503,
        )
    log.info("unsubscribed by link", extra={"subscriber_known": known})
    return _done()


async def _healthz(request: web.Request) -> web.Response:
    try:
        report = dict(await request.app[_HEALTH_KEY]())
    except Exception:
        log.exception("health check failed")
        report = {"ok": False, "error": "health check failed"}
    status = 503 if report.get("ok") is False else 200
    return web.Response(
        text=json.dumps(report, default=str, sort_keys=True),
        status=status,
        content_type="application/json",
    )


async def _on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Plain pages for 404/405 instead of aiohttp's defaults (headers come from on_prepare)."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return _page("Page not found", "<p>There is nothing here.</p>", status=404)
    except web.HTTPMethodNotAllowed as exc:
        response = _page("Not allowed", "<p>That is not allowed here.</p>", status=405)
        response.headers["Allow"] = ",".join(sorted(exc.allowed_methods))
        return response


def build_web_app(
    *,
    secret: str,
    store: UnsubscribeStore,
    health: Callable[[], Awaitable[dict[str, Any]]],
) -> web.Application:
    """The application; serve it with :func:`start_web` (or aiohttp's test server)."""
    if not secret:
        raise ValueError("the web app needs the token secret")
    app = web.Application(client_max_size=16 * 1024, middlewares=[_errors])
    app[_SECRET_KEY] = secret
    app[_STORE_KEY] = store
    app[_HEALTH_KEY] = health
    app.router.add_get("/unsubscribe/{token}", _unsubscribe_form)
    app.router.add_post("/unsubscribe/{token}", _unsubscribe)
    app.router.add_get("/healthz", _healthz)
    app.on_response_prepare.append(_on_prepare)
    return app


_TOKEN_PATH = re.compile(r"(/unsubscribe/)[^/?#\s]*")


def redact_path(path: str) -> str:
    """``/unsubscribe/<token>`` → ``/unsubscribe/…``: tokens are credentials."""
    return _TOKEN_PATH.sub(r"\1…", path)


class RedactingAccessLogger(AbstractAccessLogger):
    """Access log lines without tokens or query strings (which may carry tokens too)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %.1fms",
            request.method,
            redact_path(request.path),
            response.status,
            time * 1000,
        )


async def start_web(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Serve ``app`` on host:port; stop it with ``await runner.cleanup()``.

    With ``port=0`` the OS picks a free port: see ``runner.addresses``.
    """
    runner = web.AppRunner(
        app,
        access_log_class=RedactingAccessLogger,
        access_log=logging.getLogger("bot.web.access"),
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner
