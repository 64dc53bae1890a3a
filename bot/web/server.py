"""The aiohttp application of bestbot's web server, and starting it.

* Every response carries a strict CSP and friends (:data:`SECURITY_HEADERS`); tokens in
  paths are credentials, so the access log redacts them and pages send no referrer.
* Requests are small (a 16 KiB body cap); 404/405 get plain pages.
* A port that is taken is reported in one line naming the host, port and key to change.
"""

from __future__ import annotations

import errno
import json
import logging
import re

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler

from bot.errors import UserError
from bot.services import Services
from bot.telegram.webhook import add_webhook_route
from bot.web import actions, manage, rating, signup, unsubscribe
from bot.web.health import health
from bot.web.pages import message_page

__all__ = ["RedactingAccessLogger", "build_web_app", "redact_path", "start_web"]

log = logging.getLogger(__name__)

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


async def _healthz(request: web.Request) -> web.Response:
    try:
        report = await health(request.app[unsubscribe.SERVICES], request.app[_ROLE])
    except Exception as exc:
        log.warning("health check failed: %s", type(exc).__name__)
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
        return message_page("Page not found", "There is nothing here.", status=404)
    except web.HTTPMethodNotAllowed as exc:
        response = message_page("Not allowed", "That is not allowed here.", status=405)
        response.headers["Allow"] = ",".join(sorted(exc.allowed_methods))
        return response


_ROLE = web.AppKey("role", str)


def build_web_app(services: Services, role: str = "all") -> web.Application:
    """The application; serve it with :func:`start_web` (or aiohttp's test server).
    ``role`` is the ``bestbot run --role`` it serves for (named by ``/healthz``)."""
    app = web.Application(client_max_size=services.config.web.max_body, middlewares=[_errors])
    app[unsubscribe.SERVICES] = services
    app[_ROLE] = role
    unsubscribe.add_routes(app)
    rating.add_routes(app)
    add_webhook_route(app, services)
    manage.add_routes(app)
    actions.add_routes(app)
    signup.add_routes(app)
    app.router.add_get("/healthz", _healthz)
    app.on_response_prepare.append(_on_prepare)
    return app


_TOKEN_PATH = re.compile(r"(/unsubscribe/|/enquiry/rate/|/manage/|/act/|/signup/confirm/)[^/?#\s]*")


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
    except OSError as exc:
        await runner.cleanup()
        if exc.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            reason = {
                errno.EADDRINUSE: "is already in use",
                errno.EACCES: "needs more privileges",
                errno.EADDRNOTAVAIL: "is not an address of this machine",
            }[exc.errno]
            raise UserError(
                f"web server: {host}:{port} {reason} — set [web] host/port in the config "
                "to a free address (e.g. port = 8081)"
            ) from None
        raise
    except BaseException:
        await runner.cleanup()
        raise
    return runner
