"""The scheduled jobs of ``bestbot run``: one poll-and-match job per feed, the enquiry
timers, the hourly nudges, the weekly market report (checked hourly) and the mailbox.

Each feed gets an interval job with jitter (so a fleet of bots doesn't hit the feed in
lock-step), ``max_instances=1`` (never two runs of one feed in this process) and
``coalesce`` (a late run isn't repeated); across processes the feed's database lease does
the same. Every job is the same code path as ``bestbot poll`` (``App.pipeline``), so the
matching index is reused between polls. A job never raises (the scheduler must carry on),
and a clean stop (SIGTERM during a feed retry) ends a job quietly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import FeedConfig
from bot.enquiries.mailbox import schedule_mailbox
from bot.errors import brief
from storage.db import unavailable_reason
from storage.inbox import prune_updates

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

ENQUIRY_TICK_SECONDS = 30.0
"""How often enquiry SLA timers are checked."""


def build_scheduler(app: App) -> AsyncIOScheduler:
    """A scheduler with one job per enabled feed, first run straight away."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    now = datetime.now().astimezone()
    for feed in app.config.feeds:
        if not feed.enabled:
            continue
        scheduler.add_job(
            poll_job,
            "interval",
            args=[app, feed],
            seconds=max(30.0, feed.every.total_seconds()),
            jitter=int(feed.jitter.total_seconds()) or None,
            id=f"poll {feed.name}",
            name=f"poll {feed.name}",
            max_instances=1,
            coalesce=True,
            next_run_time=now,
        )
    scheduler.add_job(
        nudge_job,
        "cron",
        args=[app],
        minute=5,
        id="weekly nudges",
        name="weekly nudges",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        enquiry_job,
        "interval",
        args=[app],
        seconds=ENQUIRY_TICK_SECONDS,
        id="enquiry timers",
        name="enquiry timers",
        max_instances=1,
        coalesce=True,
        next_run_time=now,
    )
    if app.config.telegram.webhook:
        scheduler.add_job(
            inbox_prune_job,
            "interval",
            args=[app],
            hours=6,
            id="inbox prune",
            name="inbox prune",
            max_instances=1,
            coalesce=True,
        )
    # After the jobs that run at start, which keep their order.
    scheduler.add_job(
        report_job,
        "cron",
        args=[app],
        minute=10,
        id="weekly report",
        name="weekly report",
        max_instances=1,
        coalesce=True,
    )
    inbound = app.config.email.inbound
    if inbound is not None:
        own = [a for a in (app.config.email.from_email, inbound.address) if a]
        schedule_mailbox(
            scheduler, app.services.enquiries, inbound, own, reports=app.services.bounces
        )
    return scheduler


#: The job bodies running now, so that a shutdown can end them before the database closes.
_RUNNING: set[asyncio.Task[Any]] = set()


async def stop_jobs(within: float = 10.0) -> None:
    """Cancel the jobs still running (a poll waiting out a Retry-After, a mailbox read) and
    wait for them to clean up — release their lease, close their session — while the
    database is still open; else they are cancelled later, mid-query, with a traceback."""
    tasks = [t for t in _RUNNING if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=within)


async def _quietly(name: str, work: Callable[[], Awaitable[object]]) -> None:
    """Run a job body: failures become one warning line, a shutdown ends it silently."""
    task = asyncio.current_task()
    if task is not None:
        _RUNNING.add(task)
        task.add_done_callback(_RUNNING.discard)
    try:
        await work()
    except asyncio.CancelledError:
        log.info("%s: stopped (the service is shutting down)", name)
    except Exception as exc:
        reason = unavailable_reason(exc)
        if reason is not None:
            log.warning("%s: the database is unavailable (%s); next run as scheduled", name, reason)
        else:
            log.warning("%s failed: %s", name, brief(exc))


async def poll_job(app: App, feed: FeedConfig) -> None:
    """Poll one feed and queue its matches (the same path as ``bestbot poll``)."""
    await _quietly(f"poll {feed.name}", lambda: app.pipeline.poll_and_match(feed))


async def enquiry_job(app: App) -> None:
    """Fire due enquiry timers and send what they queued."""
    await _quietly("enquiry timers", app.services.enquiries.tick)


async def inbox_prune_job(app: App) -> None:
    """Forget webhook updates handled more than a day ago (Telegram never resends them)."""

    async def prune() -> None:
        async with app.services.db.session() as session:
            gone = await prune_updates(session, app.services.clock() - timedelta(days=1))
        if gone:
            log.info("inbox: forgot %d handled updates", gone)

    await _quietly("inbox prune", prune)


async def report_job(app: App) -> None:
    """Hourly: make and send the weekly market report when its slot has come (once)."""
    from bot.reports.weekly import run_weekly

    await _quietly("weekly report", lambda: run_weekly(app.services))


async def nudge_job(app: App) -> None:
    """Hourly: nudge subscribers whose digest hour it is and who heard nothing for a week."""

    async def nudge() -> None:
        report = await app.nudge()
        if report.due:
            log.info("nudges: %d due, %d queued", report.due, report.queued)

    await _quietly("nudges", nudge)
