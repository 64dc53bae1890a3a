"""The composition root: the one place that builds and wires bestbot's parts.

``Service`` owns the database, the feed HTTP client, the Telegram application,
the email sender factory, the dispatcher, the scheduler and the web server.
Nothing heavy happens at import time; ``bestbot run``, ``poll`` and ``demo``
build a Service from the config and call one of its entry points.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from bot.config import Config, FeedConfig
from bot.dispatcher import Dispatcher, DispatchReport, DispatchSettings, EmailFactory
from bot.enquiries.service import EnquiryService
from bot.nudges import NudgeReport, send_nudges
from bot.pipeline import MatcherCache, MatchReport, TimingDefaults, match_and_enqueue
from bot.polling import PollReport, poll_file, poll_pages
from feeds import contracts_finder, find_a_tender
from feeds.http import RetryPolicy, Sleep, make_client
from feeds.paging import Cursor
from storage.cursors import acquire_lease, get_cursor, release_lease
from storage.db import Database, upgrade_async
from storage.settings import get_or_create
from storage.subscribers import count_subscribers
from storage.types import utcnow

log = logging.getLogger(__name__)


@dataclass
class CycleReport:
    """One poll -> match -> outbox -> dispatch cycle."""

    polls: list[PollReport] = field(default_factory=list)
    matching: MatchReport = field(default_factory=MatchReport)
    dispatch: DispatchReport = field(default_factory=DispatchReport)
    enquiry_timers: int = 0

    @property
    def ok(self) -> bool:
        return all(p.error is None for p in self.polls)


async def with_stored_secret_key(config: Config, db: Database) -> Config:
    """The config with the secret key kept in the database when none was configured.

    A generated key must be the same for every part of the service (the email links the
    dispatcher signs are checked by the Telegram handlers and the web server) and across
    restarts, so the first one generated is stored and used from then on.
    """
    if not config.secret_key_generated:
        return config
    async with db.session() as session:
        key = await get_or_create(session, "secret_key", config.secret_key)
    return dataclasses.replace(config, secret_key=key, secret_key_generated=False)


async def prepare(config: Config) -> Config:
    """Migrate the database and settle the secret key, before any part is built."""
    await upgrade_async(config.database.url)
    db = Database(config.database.url)
    try:
        return await with_stored_secret_key(config, db)
    finally:
        await db.dispose()


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Service:
    """bestbot's running parts, built from a :class:`Config`."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], datetime] = utcnow,
        http_client: httpx.AsyncClient | None = None,
        telegram: Any | None = None,
        email: EmailFactory | None = None,
        worker_id: str | None = None,
        feed_policy: RetryPolicy | None = None,
        feed_sleep: Sleep | None = None,
    ) -> None:
        self.config = config
        self.feed_policy = feed_policy
        self.feed_sleep = feed_sleep
        self.clock = clock
        self.worker_id = worker_id or default_worker_id()
        self.db: Database | None = None
        self._http = http_client
        self._own_http = http_client is None
        self.telegram = telegram
        self.email = email
        self.dispatcher: Dispatcher | None = None
        self.enquiries: EnquiryService | None = None
        # the matching index, kept between polls while the profiles stay the same
        self.matchers = MatcherCache()

    # ------------------------------------------------------------------ lifecycle

    async def open(self) -> None:
        """Migrate and connect the database; build the dispatcher."""
        await upgrade_async(self.config.database.url)
        self.db = Database(self.config.database.url)
        self.config = await with_stored_secret_key(self.config, self.db)
        self.dispatcher = Dispatcher(
            self.db,
            self.dispatch_settings(),
            worker_id=self.worker_id,
            telegram=self.telegram,
            email=self.email,
            build_email=_email_builder(self) if self.email else None,
            clock=self.clock,
        )
        self.enquiries = EnquiryService.from_config(
            self.config,
            self.db,
            telegram=self.telegram,
            email=self.email,
            clock=self.clock,
            worker_id=self.worker_id,
        )

    async def startup_warnings(self) -> list[str]:
        """Configuration that would silently strand alerts, in plain words for the log."""
        db = self._database()
        warnings = []
        async with db.session() as session:
            by_email = await count_subscribers(session, channel="email")
            by_telegram = await count_subscribers(session, channel="telegram")
        if by_email and self.email is None:
            warnings.append(
                f"{by_email} subscribers get alerts by email but [email] smtp_host/from_address "
                "are not set: their alerts wait in the outbox until email is configured"
            )
        if by_telegram and self.telegram is None:
            warnings.append(
                f"{by_telegram} subscribers get alerts by Telegram but no bot token is set "
                "(BESTBOT_TELEGRAM_TOKEN): their alerts wait in the outbox"
            )
        if self.email is not None and not self.config.web.public_url:
            warnings.append(
                "[web] public_url is not set: unsubscribe links in emails point at "
                f"{self.config.web.base_url}, which recipients cannot reach"
            )
        return warnings

    async def close(self) -> None:
        if self._http is not None and self._own_http:
            await self._http.aclose()
        if self.db is not None:
            await self.db.dispose()

    async def __aenter__(self) -> Service:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def dispatch_settings(self) -> DispatchSettings:
        web = self.config.web
        return DispatchSettings(
            timezone=ZoneInfo(self.config.alerts.timezone),
            max_attempts=self.config.alerts.max_attempts,
            group_within=self.config.alerts.group_within,
            secret_key=self.config.secret_key,
            public_url=web.base_url,
            from_address=self.config.email.from_address or "alerts@bestbot.invalid",
            from_email=self.config.email.from_email or "alerts@bestbot.invalid",
        )

    def timing_defaults(self) -> TimingDefaults:
        alerts = self.config.alerts
        return TimingDefaults(
            timezone=ZoneInfo(alerts.timezone),
            quiet_hours=alerts.quiet_hours,
            default_stages=tuple(self.config.matching.default_stages),
        )

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = make_client()
        return self._http

    def _database(self) -> Database:
        if self.db is None:
            raise RuntimeError("Service.open() was not called")
        return self.db

    # ------------------------------------------------------------------ the main job

    async def poll_feed(self, feed: FeedConfig) -> PollReport:
        """Poll one feed once, under a lease so two workers never poll it together."""
        db = self._database()
        lease = f"poll:{feed.name}"
        async with db.session() as session:
            if not await acquire_lease(session, lease, self.worker_id, feed.every + feed.every):
                log.info("%s: another worker is polling it; skipped", feed.name)
                return PollReport(feed.name, error="skipped: another worker holds the lease")
        try:
            if feed.kind == "file":
                assert feed.path is not None
                return await poll_file(db, feed.name, feed.path)
            async with db.session() as session:
                row = await get_cursor(session, feed.name)
            cursor = Cursor.loads(row.cursor if row else None)
            return await poll_pages(db, feed.name, self._pages(feed, cursor))
        finally:
            async with db.session() as session:
                await release_lease(session, lease, self.worker_id)

    def _pages(self, feed: FeedConfig, cursor: Cursor) -> Any:
        common: dict[str, Any] = {
            "cursor": cursor,
            "lookback": feed.lookback,
            "now": self.clock(),
            "policy": self.feed_policy,
        }
        if self.feed_sleep is not None:
            common["sleep"] = self.feed_sleep
        if feed.url:
            common["base_url"] = feed.url
        if feed.kind == "find_a_tender":
            return find_a_tender.fetch_pages(self.http, **common)
        if feed.stages:
            common["stages"] = feed.stages
        return contracts_finder.fetch_pages(self.http, **common)

    async def cycle(self, feed_names: list[str] | None = None) -> CycleReport:
        """Poll the chosen feeds, match what is new, fill the outbox, dispatch what is due."""
        report = CycleReport()
        feeds = [f for f in self.config.feeds if f.enabled]
        if feed_names:
            feeds = [f for f in self.config.feeds if f.name in feed_names]
        for feed in feeds:
            poll = await self.poll_feed(feed)
            report.polls.append(poll)
            log.info("poll %s", poll.line())
            if poll.stored:
                matched = await match_and_enqueue(
                    self._database(),
                    poll.stored,
                    self.timing_defaults(),
                    self.clock(),
                    self.matchers,
                )
                _add_match(report.matching, matched)
        report.dispatch = await self.dispatch()
        if self.enquiries is not None:
            # A cron-driven deployment (poll, no run) still escalates overdue enquiries.
            report.enquiry_timers = await self.enquiries.tick()
        return report

    async def nudge(self) -> NudgeReport:
        """Send the weekly nudges due this hour (a no-op when switched off)."""
        if not self.config.alerts.nudge:
            return NudgeReport()
        return await send_nudges(
            self._database(),
            self.clock(),
            tz=ZoneInfo(self.config.alerts.timezone),
            telegram=self.telegram,
            email=self.email,
            build_email=nudge_email_builder(self) if self.email else None,
        )

    async def dispatch(self) -> DispatchReport:
        assert self.dispatcher is not None
        return await self.dispatcher.run_until_idle()

    async def run_forever(self, stop: asyncio.Event) -> None:
        """The service loop of ``bestbot run``: scheduled polls and a steady dispatcher."""
        from bot.scheduling import build_scheduler

        scheduler = build_scheduler(self)
        scheduler.start()
        try:
            while not stop.is_set():
                try:
                    await self.dispatch()
                except Exception:  # keep the service alive; the outbox keeps the work
                    log.exception("dispatch pass failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=5)
        finally:
            scheduler.shutdown(wait=False)


def _add_match(total: MatchReport, part: MatchReport) -> None:
    total.notices += part.notices
    total.matches += part.matches
    total.queued += part.queued
    total.updates += part.updates


def _email_builder(service: Service) -> Callable[..., Any]:
    """Build one email (single alert or digest) for a subscriber's group of views."""
    from bot import render
    from bot.email_channel import build_message

    def build(**kw: Any) -> Any:
        views, sub = kw["views"], kw["subscriber"]
        # "Change your alerts": a t.me deep link that links this email subscriber to a chat
        from bot.chat.email_link import manage_link

        manage = manage_link(service.config, sub.id) if sub.id is not None else None
        if len(views) == 1 and sub.frequency == "instant":
            rendered = render.email_alert(
                views[0],
                kw["now"],
                kw["tz"],
                unsubscribe_url=kw["unsubscribe_url"],
                manage_url=manage,
            )
        else:
            rendered = render.email_digest(
                views,
                kw["now"],
                kw["tz"],
                unsubscribe_url=kw["unsubscribe_url"],
                manage_url=manage,
                period=sub.frequency,
            )
        return build_message(
            rendered,
            to=sub.email,
            from_address=kw["from_address"],
            unsubscribe_url=kw["unsubscribe_url"],
            unsubscribe_mailto=f"mailto:{kw['from_email']}?subject=unsubscribe",
            message_id_domain=kw["from_email"].rpartition("@")[2] or "bestbot.invalid",
        )

    return build


def nudge_email_builder(service: Service) -> Callable[[Any, int], Any]:
    """The weekly nudge as an email to one subscriber."""
    from bot import render
    from bot.email_channel import build_message

    def build(sub: Any, checked: int) -> Any:
        assert service.dispatcher is not None
        settings = service.dispatcher.settings
        unsubscribe = service.dispatcher.unsubscribe_url(sub.id)
        rendered = render.nudge_email(checked, unsubscribe_url=unsubscribe, manage_url=None)
        return build_message(
            rendered,
            to=sub.email,
            from_address=settings.from_address,
            unsubscribe_url=unsubscribe,
            unsubscribe_mailto=f"mailto:{settings.from_email}?subject=unsubscribe",
            message_id_domain=settings.from_email.rpartition("@")[2] or "bestbot.invalid",
        )

    return build


def poll_interval_seconds(feed: FeedConfig) -> float:
    return max(timedelta(seconds=30), feed.every).total_seconds()
