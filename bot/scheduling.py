"""The APScheduler jobs of ``bestbot run``: one poll job per feed, one enquiry-timer job.

Each feed gets an interval job with jitter (so a fleet of bots doesn't hit the
feed in lock-step), ``max_instances=1`` (never two runs of one feed in this
process) and ``coalesce`` (a late run isn't repeated). Across processes the
database lease in :meth:`Service.poll_feed` does the same job.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import FeedConfig
from bot.enquiries.mailbox import schedule_mailbox
from bot.pipeline import match_and_enqueue

if TYPE_CHECKING:
    from bot.app import Service

log = logging.getLogger(__name__)


def build_scheduler(service: Service) -> AsyncIOScheduler:
    """A scheduler with one job per enabled feed, first run straight away."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    for feed in service.config.feeds:
        if not feed.enabled:
            continue
        scheduler.add_job(
            poll_job,
            "interval",
            args=[service, feed],
            seconds=max(30.0, feed.every.total_seconds()),
            jitter=int(feed.jitter.total_seconds()) or None,
            id=f"poll {feed.name}",
            name=f"poll {feed.name}",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now().astimezone(),
        )
    scheduler.add_job(
        nudge_job,
        "cron",
        args=[service],
        minute=5,
        id="weekly nudges",
        name="weekly nudges",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        enquiry_job,
        "interval",
        args=[service],
        seconds=ENQUIRY_TICK_SECONDS,
        id="enquiry timers",
        name="enquiry timers",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now().astimezone(),
    )
    inbound = service.config.email.inbound
    if inbound is not None and service.enquiries is not None:
        own = [a for a in (service.config.email.from_email, inbound.address) if a]
        schedule_mailbox(scheduler, service.enquiries, inbound, own)
    return scheduler


ENQUIRY_TICK_SECONDS = 30.0
"""How often enquiry SLA timers are checked and the enquiry outbox is retried."""


async def enquiry_job(service: Service) -> None:
    """Fire due enquiry timers and send what is left in the enquiry outbox; never raises."""
    try:
        if service.enquiries is not None:
            await service.enquiries.tick()
    except Exception:
        log.exception("enquiry timers failed")


async def nudge_job(service: Service) -> None:
    """Hourly: nudge subscribers whose digest hour it is and who heard nothing for a week."""
    try:
        report = await service.nudge()
        if report.due:
            log.info("nudges: %d due, %d sent, %d failed", report.due, report.sent, report.failed)
    except Exception:
        log.exception("nudge job failed")


async def poll_job(service: Service, feed: FeedConfig) -> None:
    """Poll one feed and queue its matches; never raises (the scheduler must carry on)."""
    try:
        report = await service.poll_feed(feed)
        log.info("poll %s", report.line())
        if report.stored and service.db is not None:
            matched = await match_and_enqueue(
                service.db, report.stored, service.timing_defaults(), service.clock()
            )
            log.info(
                "matched %s: %d notices, %d matches, %d queued, %d updates",
                feed.name,
                matched.notices,
                matched.matches,
                matched.queued,
                matched.updates,
            )
    except Exception:
        log.exception("poll %s failed", feed.name)
