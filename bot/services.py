"""What every part of a running bestbot shares, built once by the composition root.

:func:`bot.app.build_services` makes one :class:`Services` per process; Telegram handlers
reach it through the typed context (``context.services``, :mod:`bot.telegram.context`), the
scheduler's jobs and the CLI commands get it as an argument. Nothing here is built at
import time, and no feature builds its own database, SMTP factory or service.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.delivery.courier import Courier, DeliveryReport, EmailFactory, TelegramPort
from bot.delivery.mail import Mailer
from bot.links import Links, Signer
from feeds.status import FeedActivity
from storage.db import Database

if TYPE_CHECKING:
    from bot.delivery.alerts import AlertOutbox
    from bot.delivery.bounces import BounceDesk
    from bot.delivery.messages import MessageOutbox
    from bot.enquiries.service import EnquiryService
    from bot.pipeline.matching import MatcherCache

Clock = Callable[[], datetime]


@dataclass
class Services:
    """The database, the channels, the outboxes and the workflows of one process."""

    config: Config
    db: Database
    clock: Clock
    worker_id: str
    signer: Signer
    links: Links
    mailer: Mailer
    telegram: TelegramPort | None
    email: EmailFactory | None
    courier: Courier
    alerts: AlertOutbox
    messages: MessageOutbox
    enquiries: EnquiryService
    matchers: MatcherCache
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    admin_ids: frozenset[int] = frozenset()
    remind_before: tuple[timedelta, ...] = (timedelta(days=3), timedelta(days=1))
    #: Strings that must never reach a log line (the bot token, passwords): the logging
    #: filter masks them (:mod:`bot.logs`).
    secrets: tuple[str, ...] = ()
    #: Each feed's fetch state (the pipeline's), shown by /healthz.
    feed_activity: dict[str, FeedActivity] = field(default_factory=dict)
    #: Reads bounces and complaint reports from the inbound mailbox.
    bounces: BounceDesk | None = None

    async def send_messages(self) -> DeliveryReport:
        """Send every due non-alert message (enquiry replies, codes, nudges) now."""
        return await self.courier.drain(self.messages)

    async def send_alerts(self) -> DeliveryReport:
        return await self.courier.drain(self.alerts)
