"""The main job, one path for ``bestbot run`` and ``bestbot poll``: poll → match → send.

:meth:`Pipeline.poll_and_match` is what the scheduler runs for each feed and what ``poll``
runs once: take the feed's lease, store its new pages, then match every unmatched stored
version (this poll's, or one a crash left behind) with the process's one matching index —
under the fleet's matching lease, so one worker at a time does it.
:meth:`Pipeline.cycle` adds sending what is due and the enquiry timers, for cron.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from bot.config import FeedConfig
from bot.delivery.courier import DeliveryReport
from bot.leases import take_lease
from bot.pipeline.matching import MatchReport, TimingDefaults, match_pending
from bot.pipeline.polling import PollReport, poll_file, poll_pages
from bot.services import Services
from feeds.http import FetchLimits, RetryPolicy, Sleep
from feeds.paging import Cursor, FeedPage, fetch_feed
from feeds.status import FeedActivity
from storage.cursors import get_cursor, release_lease

log = logging.getLogger(__name__)

__all__ = ["CycleReport", "Pipeline"]

#: One worker of the fleet matches at a time; a matching pass that outlives this (a dead
#: worker's) leaves the lease to the next.
MATCH_LEASE = "match"
MATCH_TTL = timedelta(minutes=5)
MATCH_WAIT = 0.5  # seconds between tries while another worker matches


@dataclass
class CycleReport:
    """One poll -> match -> outbox -> dispatch cycle."""

    polls: list[PollReport] = field(default_factory=list)
    matching: MatchReport = field(default_factory=MatchReport)
    dispatch: DeliveryReport = field(default_factory=DeliveryReport)
    messages: DeliveryReport = field(default_factory=DeliveryReport)
    enquiry_timers: int = 0

    @property
    def ok(self) -> bool:
        return all(p.error is None for p in self.polls)


class Pipeline:
    """Polls feeds into the database and turns what is new into outbox rows."""

    def __init__(
        self,
        services: Services,
        http: httpx.AsyncClient,
        *,
        feed_policy: RetryPolicy | None = None,
        feed_sleep: Sleep | None = None,
        feed_limits: FetchLimits | None = None,
    ) -> None:
        self.services = services
        self.http = http
        self.feed_policy = feed_policy
        self.feed_sleep = feed_sleep
        self.feed_limits = feed_limits
        #: What each feed's fetch is doing (waiting on a Retry-After, failed…), for /healthz.
        self.activity: dict[str, FeedActivity] = {}
        # One matching pass at a time in this process (two feeds' jobs may finish together);
        # across processes, the matching lease.
        self._matching = asyncio.Lock()

    @property
    def timing(self) -> TimingDefaults:
        config = self.services.config
        return TimingDefaults(
            timezone=ZoneInfo(config.alerts.timezone),
            quiet_hours=config.alerts.quiet_hours,
            default_stages=tuple(config.matching.default_stages),
            closing_soon=config.alerts.closing_soon,
        )

    async def poll(self, feed: FeedConfig) -> PollReport:
        """Poll one feed once, under a lease so two workers never poll it together."""
        db, worker = self.services.db, self.services.worker_id
        lease = f"poll:{feed.name}"
        # The lease outlasts the longest poll (its deadline), or a second worker could start
        # the same feed while the first is still reading it.
        ttl = max(2 * feed.every, feed.deadline + timedelta(minutes=1))
        if not await take_lease(db, lease, worker, ttl):
            log.info("%s: another worker is polling it; skipped", feed.name)
            return PollReport(feed.name, not_run="another worker is polling this feed")
        try:
            if feed.kind == "file":
                assert feed.path is not None
                return await poll_file(db, feed.name, feed.path)
            async with db.session() as session:
                row = await get_cursor(session, feed.name)
            cursor = Cursor.loads(row.cursor if row else None)
            return await poll_pages(db, feed.name, self._pages(feed, cursor))
        finally:
            async with db.write_session() as session:
                await release_lease(session, lease, worker)

    def _pages(self, feed: FeedConfig, cursor: Cursor) -> AsyncIterator[FeedPage]:
        policy = self.feed_policy or RetryPolicy(
            max_retry_after=feed.max_retry_after.total_seconds()
        )
        limits = self.feed_limits or FetchLimits(
            request_seconds=feed.timeout.total_seconds(),
            poll_seconds=feed.deadline.total_seconds(),
            max_body_bytes=feed.max_page_bytes,
            page_pause=feed.page_pause.total_seconds(),
        )
        extra: dict[str, Any] = {}
        if self.feed_sleep is not None:
            extra["sleep"] = self.feed_sleep
        return fetch_feed(
            self.http,
            feed.kind,
            cursor=cursor,
            lookback=feed.lookback,
            now=self.services.clock(),
            stages=feed.stages or None,
            base_url=feed.url,
            policy=policy,
            limits=limits,
            observer=self.activity.setdefault(feed.name, FeedActivity(feed.name)),
            **extra,
        )

    async def match(self) -> MatchReport:
        """Queue alerts for every stored version not matched yet — one worker of the fleet
        at a time (:meth:`_match_lease`)."""
        async with self._matching:
            db, worker = self.services.db, self.services.worker_id
            if not await self._match_lease():
                log.info("matching: another worker has been matching for too long; skipped")
                return MatchReport()
            try:
                return await match_pending(
                    db, self.timing, self.services.clock(), self.services.matchers
                )
            finally:
                async with db.session() as session:
                    await release_lease(session, MATCH_LEASE, worker)

    async def _match_lease(self) -> bool:
        """Take the fleet's matching lease, waiting while another worker holds it.

        Every worker matches after each poll attempt (its own, or one it skipped because
        another worker was polling); without the lease all of them would match the same new
        notices against every profile at once — the outbox's unique rows made that harmless
        but N times the work. Waiting, rather than skipping, means nothing stored while the
        other worker was finishing is left for the next poll: this worker matches it."""
        db, worker = self.services.db, self.services.worker_id
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 2 * MATCH_TTL.total_seconds()  # a dead holder's runs out
        while True:
            if await take_lease(db, MATCH_LEASE, worker, MATCH_TTL):  # a dead holder's too
                return True
            if loop.time() > deadline:
                return False
            await asyncio.sleep(MATCH_WAIT)

    async def poll_and_match(self, feed: FeedConfig) -> tuple[PollReport, MatchReport]:
        poll = await self.poll(feed)
        log.info("poll %s", poll.line())
        matched = await self.match()
        if matched.notices or matched.updates:
            log.info(
                "matched %s: %d notices, %d matches, %d queued, %d updates",
                feed.name,
                matched.notices,
                matched.matches,
                matched.queued,
                matched.updates,
            )
        return poll, matched

    async def cycle(self, feed_names: list[str] | None = None) -> CycleReport:
        """Poll the chosen feeds, match what is new, send what is due, fire enquiry timers."""
        report = CycleReport()
        feeds = [f for f in self.services.config.feeds if f.enabled]
        if feed_names:
            feeds = [f for f in self.services.config.feeds if f.name in feed_names]
        for feed in feeds:
            poll, matched = await self.poll_and_match(feed)
            report.polls.append(poll)
            report.matching.add(matched)
        if not feeds:
            report.matching.add(await self.match())
        report.dispatch = await self.services.send_alerts()
        # A cron-driven deployment (poll, no run) still escalates overdue enquiries.
        report.enquiry_timers = await self.services.enquiries.tick()
        report.messages = await self.services.send_messages()
        return report


def poll_interval(feed: FeedConfig) -> timedelta:
    return max(timedelta(seconds=30), feed.every)
