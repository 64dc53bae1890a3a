"""The composition root: the one place that builds and wires bestbot's parts.

:class:`App` settles the database (migrations) and the secret key once, before anything
else is built; then builds every part once — the database, the channels, the signed links,
the mailer, the delivery loop and its outboxes, the enquiry workflow, the matching index,
the pipeline — into one :class:`~bot.services.Services`, and hands it to the Telegram
handlers (the typed context), the scheduler's jobs (arguments) and the web server. Nothing
heavy happens at import time; ``bestbot run``, ``poll`` and ``demo`` each build one App.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from email.utils import formataddr, parseaddr
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from bot import logs
from bot.config import Config
from bot.delivery.alerts import AlertOutbox, AlertSettings
from bot.delivery.bounces import BounceDesk, BounceSettings
from bot.delivery.channels import email_factory
from bot.delivery.courier import (
    Courier,
    CourierSettings,
    DeliveryReport,
    EmailFactory,
    TelegramPort,
)
from bot.delivery.mail import Mailer, MailSettings
from bot.delivery.messages import MessageOutbox
from bot.delivery.retry import RetryPolicy
from bot.delivery.telegram import TelegramSender
from bot.enquiries.model import Desk, EnquirySettings
from bot.enquiries.service import EnquiryService
from bot.errors import brief
from bot.links import Links, Signer
from bot.pipeline.cycle import CycleReport, Pipeline
from bot.pipeline.matching import MatcherCache
from bot.pipeline.nudges import NudgeReport, queue_nudges
from bot.render.model import Brand
from bot.reports.retender import RetenderForecasts
from bot.services import Services
from bot.telegram.context import BotApplication
from feeds.http import FetchLimits, Sleep, make_client
from feeds.http import RetryPolicy as FeedRetryPolicy
from storage.db import Database, unavailable_reason, upgrade_async
from storage.settings import get_or_create
from storage.subscribers import count_subscribers
from storage.types import utcnow

log = logging.getLogger(__name__)

__all__ = ["App", "CycleReport", "settle"]


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def settle(config: Config) -> str:
    """Migrate the database and settle the secret key — once, before any part is built.

    A generated key (no ``[web] secret_key`` / ``$BESTBOT_SECRET_KEY``) must be the same for
    every part and across restarts and workers (a link signed by one is checked by
    another), so the first one generated is kept in the database and used from then on."""
    await upgrade_async(config.database.url)
    if not config.secret_key_generated:
        return config.secret_key
    db = Database(config.database.url)
    try:
        async with db.session() as session:
            return await get_or_create(session, "secret_key", config.secret_key)
    finally:
        await db.dispose()


class App:
    """One process of bestbot, built from a :class:`Config`."""

    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], datetime] = utcnow,
        http_client: httpx.AsyncClient | None = None,
        telegram: TelegramPort | None = None,
        email: EmailFactory | None = None,
        worker_id: str | None = None,
        feed_policy: FeedRetryPolicy | None = None,
        feed_sleep: Sleep | None = None,
        feed_limits: FetchLimits | None = None,
        bot_application: BotApplication | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.worker_id = worker_id or default_worker_id()
        self._http = http_client
        self._own_http = http_client is None
        self._telegram = telegram
        self._email = email
        self._feed_policy = feed_policy
        self._feed_sleep = feed_sleep
        self._feed_limits = feed_limits
        self.bot_application = bot_application
        self._services: Services | None = None
        self._pipeline: Pipeline | None = None

    # ------------------------------------------------------------------ building

    async def open(self) -> None:
        secret = await settle(self.config)
        protect_config_secrets(self.config, secret)
        self._services = build_services(
            self.config,
            secret,
            clock=self.clock,
            worker_id=self.worker_id,
            telegram=self._telegram,
            email=self._email,
        )
        if self._http is None:
            self._http = make_client()
        self._pipeline = Pipeline(
            self._services,
            self._http,
            feed_policy=self._feed_policy,
            feed_sleep=self._feed_sleep,
            feed_limits=self._feed_limits,
        )
        self._services.feed_activity = self._pipeline.activity
        for warning in self.config.warnings:
            log.warning("config: %s", warning)

    async def close(self) -> None:
        if self._http is not None and self._own_http:
            await self._http.aclose()
        if self._services is not None:
            await self._services.db.dispose()

    async def __aenter__(self) -> App:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("App.open() was not called")
        return self._services

    @property
    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            raise RuntimeError("App.open() was not called")
        return self._pipeline

    @property
    def db(self) -> Database:
        return self.services.db

    # ------------------------------------------------------------------ the main job

    async def cycle(self, feed_names: list[str] | None = None) -> CycleReport:
        return await self.pipeline.cycle(feed_names)

    async def dispatch(self) -> DeliveryReport:
        return await self.services.send_alerts()

    async def nudge(self) -> NudgeReport:
        """Queue and send the weekly nudges due this hour (a no-op when switched off)."""
        if not self.config.alerts.nudge:
            return NudgeReport()
        services = self.services
        report = await queue_nudges(
            services.db, services.clock(), services.timezone, services.mailer
        )
        if report.queued:
            await services.send_messages()
        return report

    async def startup_warnings(self) -> list[str]:
        """Configuration that would silently strand alerts, in plain words for the log."""
        services = self.services
        warnings = []
        async with services.db.session() as session:
            by_email = await count_subscribers(session, channel="email")
            by_telegram = await count_subscribers(session, channel="telegram")
        if by_email and services.email is None:
            warnings.append(
                f"{by_email} subscribers get alerts by email but [email] smtp_host/from_address "
                "are not set: their alerts wait in the outbox until email is configured"
            )
        if by_telegram and services.telegram is None:
            warnings.append(
                f"{by_telegram} subscribers get alerts by Telegram but no bot token is set "
                "(BESTBOT_TELEGRAM_TOKEN): their alerts wait in the outbox"
            )
        if services.email is not None and not self.config.web.public_url:
            warnings.append(
                "[web] public_url is not set: unsubscribe links in emails point at "
                f"{self.config.web.base_url}, which recipients cannot reach"
            )
        return warnings

    async def run_forever(self, stop: asyncio.Event) -> None:
        """The service loop of ``bestbot run``: scheduled jobs and a steady sender."""
        from bot.scheduling import build_scheduler, stop_jobs

        scheduler = build_scheduler(self)
        scheduler.start()
        try:
            while not stop.is_set():
                try:
                    await self.services.send_alerts()
                    await self.services.send_messages()
                except Exception as exc:  # keep the service alive; the outbox keeps the work
                    log.warning("sending failed (%s); retrying shortly", _why(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=5)
        finally:
            scheduler.shutdown(wait=False)
            await stop_jobs()


def _why(exc: Exception) -> str:
    reason = unavailable_reason(exc)
    return f"the database is unavailable: {reason}" if reason is not None else brief(exc)


def protect_config_secrets(config: Config, secret: str) -> None:
    """Every secret of the config is masked in every log line from now on."""
    from storage.db import url_password

    logs.protect(
        [
            config.telegram.token,
            config.email.smtp_password,
            config.email.inbound.password if config.email.inbound else None,
            secret,
            url_password(config.database.url),
        ]
    )


def mail_settings(config: Config, timezone: ZoneInfo) -> MailSettings:
    """The mailer's settings: one brand everywhere (the From display name too, when the
    configured address has none), List-Id, bounces and Feedback-ID from ``[email]``."""
    brand = Brand(config.brand.name, config.brand.short_name)
    name, address = parseaddr(config.email.from_address or "")
    return MailSettings(
        from_address=formataddr((name or brand.name, address or "alerts@bestbot.invalid")),
        reply_to=config.email.reply_to,
        timezone=timezone,
        closing_soon=config.alerts.closing_soon,
        list_id=config.email.list_id,
        brand=brand,
        bounce_address=config.email.bounce_address,
        feedback_id_prefix=config.email.feedback_id_prefix,
    )


def build_services(
    config: Config,
    secret: str,
    *,
    clock: Callable[[], datetime],
    worker_id: str,
    telegram: TelegramPort | None,
    email: EmailFactory | None,
    db: Database | None = None,
) -> Services:
    """Every shared part, built once (the only place that does)."""
    db = db if db is not None else Database(config.database.url)
    timezone = ZoneInfo(config.alerts.timezone)
    signer = Signer(secret)
    links = Links(signer, config.web.base_url, config.telegram.bot_username)
    mailer = Mailer(mail_settings(config, timezone), links)
    policy = RetryPolicy(max_attempts=config.alerts.max_attempts)
    # The lease must outlast one send: a send that hangs up to its timeout can never
    # see its row claimed by another worker.
    lease = config.database.claim_lease
    if email is not None:
        lease = max(lease, 4 * config.email.timeout)
    courier = Courier(
        db,
        worker_id=worker_id,
        telegram=telegram,
        email=email,
        policy=policy,
        clock=clock,
        settings=CourierSettings(lease=lease),
    )
    alerts = AlertOutbox(
        db,
        AlertSettings(
            timezone=timezone,
            max_attempts=config.alerts.max_attempts,
            group_within=config.alerts.group_within,
            closing_soon=config.alerts.closing_soon,
        ),
        worker_id=worker_id,
        clock=clock,
        mailer=mailer,
        forecasts=RetenderForecasts(db, clock) if config.reports.retender else None,
    )
    messages = MessageOutbox(
        db, worker_id=worker_id, clock=clock, mailer=mailer, max_attempts=config.alerts.max_attempts
    )

    async def send_messages() -> Any:
        return await courier.drain(messages)

    enquiries = EnquiryService(
        db,
        Desk(
            settings=EnquirySettings.from_config(config),
            links=links,
            clock=clock,
            new_message_id=lambda: mailer.new_message_id("enq"),
        ),
        send=send_messages,
        worker_id=worker_id,
    )
    bounces = BounceDesk(
        db,
        signer,
        clock=clock,
        settings=BounceSettings(
            admin_ids=frozenset(config.telegram.admin_ids), brand=config.brand.name
        ),
        send=send_messages,
    )
    return Services(
        bounces=bounces,
        config=config,
        db=db,
        clock=clock,
        worker_id=worker_id,
        signer=signer,
        links=links,
        mailer=mailer,
        telegram=telegram,
        email=email,
        courier=courier,
        alerts=alerts,
        messages=messages,
        enquiries=enquiries,
        matchers=MatcherCache(),
        timezone=timezone,
        admin_ids=frozenset(config.telegram.admin_ids),
        remind_before=tuple(config.alerts.remind_before),
        secrets=tuple(s for s in (config.telegram.token, secret) if s),
    )


@contextlib.asynccontextmanager
async def channels(
    config: Config, *, receive: bool
) -> AsyncIterator[tuple[BotApplication | None, TelegramSender | None, EmailFactory | None]]:
    """The PTB application (initialised; receiving is started later, once handlers are
    installed), its sender, and the SMTP factory — whichever the config enables."""
    # Before anything logs: PTB names the token in its first lines (the API URL).
    protect_config_secrets(config, config.secret_key)
    email = email_factory(config)
    if not config.telegram.token:
        yield None, None, email
        return
    from bot.telegram.application import build_application, stop_receiving

    bot_app = build_application(config)
    await bot_app.initialize()
    try:
        yield bot_app, TelegramSender(bot_app.bot), email
    finally:
        if receive:
            await stop_receiving(bot_app)
        await bot_app.shutdown()
