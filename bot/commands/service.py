"""``bestbot run`` (the service) and ``bestbot poll`` (one cycle, cron-friendly)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from typing import Any

from bot.app import CycleReport, Service, prepare
from bot.config import load_config
from bot.errors import UserError

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    run = subparsers.add_parser(
        "run", help="run the service: scheduled polls, Telegram, email, web (Ctrl-C stops)"
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


async def _poll(config: Any, feeds: list[str] | None) -> CycleReport:
    from bot.channels import build_channels

    config = await prepare(config)
    async with build_channels(config) as (telegram, email):
        async with Service(config, telegram=telegram, email=email) as service:
            for warning in await service.startup_warnings():
                log.warning("%s", warning)
            return await service.cycle(feeds)


def summary(report: CycleReport) -> str:
    lines = [f"polled {p.line()}" for p in report.polls]
    m, d = report.matching, report.dispatch
    lines.append(
        f"matched {m.notices} new notices: {m.matches} matches, {m.queued} alerts queued, "
        f"{m.updates} updates queued"
    )
    lines.append(
        f"sent {d.sent} alerts in {d.messages} messages; {d.retried} to retry, "
        f"{d.failed} failed, {d.cancelled} cancelled"
    )
    return "\n".join(lines)


def run_service(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    asyncio.run(_run(config))
    return 0


async def _run(config: Any) -> None:
    from bot.channels import build_channels
    from bot.web_wiring import web_server

    config = await prepare(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with build_channels(config, receive_updates=True) as (telegram, email):
        async with Service(config, telegram=telegram, email=email) as service:
            for warning in await service.startup_warnings():
                log.warning("%s", warning)
            async with web_server(service):
                await service.run_forever(stop)
