"""``bestbot run`` (the service) and ``bestbot poll`` (one cycle, cron-friendly)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import Any

from bot.app import App, channels
from bot.config import Config, load_config
from bot.errors import UserError
from bot.pipeline.cycle import CycleReport

log = logging.getLogger(__name__)

#: Matching runs in a worker thread and is pure Python, so it holds the GIL; the event loop
#: that answers people waits for the interpreter to switch threads each time it needs the
#: GIL back (every await that resumes). CPython switches every 5 ms by default; a reply needs
#: the GIL dozens of times, so it took seconds while a big poll matched (docs/benchmarks.md,
#: the fleet's one-worker run).
SWITCH_INTERVAL = 0.0005


def register(subparsers: Any) -> None:
    run = subparsers.add_parser(
        "run", help="run the service: scheduled polls, Telegram, email, web (Ctrl-C stops)"
    )
    run.add_argument(
        "--role",
        choices=ROLES,
        default="all",
        help="all: one process does everything (default); web: HTTP only (webhook, links, "
        "health); worker: scheduled jobs, Telegram updates and sending (run any number)",
    )
    run.set_defaults(func=run_service)
    poll = subparsers.add_parser(
        "poll", help="one poll -> match -> outbox -> dispatch cycle, then exit"
    )
    poll.add_argument("--feed", action="append", metavar="NAME", help="only this feed (repeatable)")
    poll.set_defaults(func=run_poll)


def run_poll(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    names = {f.name for f in config.feeds}
    for name in args.feed or ():
        if name not in names:
            known = ", ".join(sorted(names)) or "none"
            raise UserError(f"poll: no feed named {name!r} (configured feeds: {known})")
    report = asyncio.run(_poll(config, args.feed))
    print(summary(report))
    return 0 if report.ok else 1


async def _poll(config: Config, feeds: list[str] | None) -> CycleReport:
    async with channels(config, receive=False) as (_bot, telegram, email):
        async with App(config, telegram=telegram, email=email) as app:
            for warning in await app.startup_warnings():
                log.warning("%s", warning)
            return await app.cycle(feeds)


def summary(report: CycleReport) -> str:
    lines = [f"polled {p.line()}" for p in report.polls]
    m, d, msg = report.matching, report.dispatch, report.messages
    lines.append(
        f"matched {m.notices} new notices: {m.matches} matches, {m.queued} alerts queued, "
        f"{m.updates} updates queued"
    )
    lines.append(
        f"sent {d.sent} alerts in {d.messages} messages; {d.retried} to retry, "
        f"{d.failed} failed, {d.cancelled} cancelled"
    )
    if msg.claimed:
        lines.append(
            f"sent {msg.sent} other messages (enquiries, codes, nudges); {msg.retried} to "
            f"retry, {msg.failed} failed"
        )
    for problem in sorted(set(d.errors + msg.errors))[:5]:
        lines.append(f"  delivery problem: {problem}")
    return "\n".join(lines)


ROLES = ("all", "web", "worker")


def run_service(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    sys.setswitchinterval(SWITCH_INTERVAL)
    asyncio.run(_run(config, getattr(args, "role", "all")))
    return 0


async def _run(config: Config, role: str = "all") -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if role == "web":
        await _run_web(config, stop)
    else:
        await _run_worker(config, stop, serve_web=role == "all")
    log.info("bestbot stopped")


async def _run_web(config: Config, stop: asyncio.Event) -> None:
    """HTTP only: the webhook (stored to the inbox), the links in emails, /healthz. Nothing
    is sent from here: what a page queues, the workers send."""
    from bot.web.server import build_web_app, start_web

    async with App(config) as app:
        runner = await start_web(
            build_web_app(app.services, "web"), config.web.host, config.web.port
        )
        log.info("bestbot web is running on %s:%s", config.web.host, config.web.port)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()


async def _run_worker(config: Config, stop: asyncio.Event, *, serve_web: bool) -> None:
    """Scheduled jobs, Telegram updates (long polling, or the webhook inbox) and sending;
    with ``serve_web`` (``--role all``) the web server too."""
    from bot import routes
    from bot.telegram.application import start_receiving
    from bot.telegram.webhook import InboxWorker, register_webhook
    from bot.web.server import build_web_app, start_web

    async with channels(config, receive=True) as (bot_app, telegram, email):
        async with App(config, telegram=telegram, email=email, bot_application=bot_app) as app:
            for warning in await app.startup_warnings():
                log.warning("%s", warning)
            runner = None
            if serve_web:
                runner = await start_web(
                    build_web_app(app.services), config.web.host, config.web.port
                )
            background: list[asyncio.Task[None]] = []
            try:
                if bot_app is not None:
                    routes.install(bot_app, app.services)
                    webhook = config.telegram.webhook
                    await start_receiving(bot_app, polling=not webhook)
                    if webhook:
                        await register_webhook(bot_app, app.services)
                        inbox = InboxWorker(
                            bot_app, app.services, lease=config.database.claim_lease
                        )
                        background.append(asyncio.create_task(inbox.run(stop)))
                log.info("bestbot is running (worker %s)", app.worker_id)
                await app.run_forever(stop)
            finally:
                for task in background:
                    await task
                if runner is not None:
                    await runner.cleanup()
