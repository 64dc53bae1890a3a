"""The enquiry workflow's values: what comes in, what an action did, who acts, and the
:class:`Desk` every step works at (settings, links, clock).

Why the workflow is shaped as it is:

* Every change and the messages that report it are written in one transaction (outgoing
  messages go to the message outbox first), then the outbox is sent. A crash between the two
  loses nothing: the next send, or the scheduler's tick, sends what is left.
* No state lives in memory: the Telegram handlers, the mailbox reader and the scheduler may
  run in different processes (or after a restart) and all see the same enquiry.
* Authorisation is checked on every action against the database: only the assigned adviser
  (or an admin) may act on an enquiry; anything else is refused and written to the audit
  trail.
* Timers (``ack``, ``reply``, ``route``) are rows with a due time computed in working hours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.config import Config, RoutingConfig, WorkingHours
from bot.links import Links
from storage.models import AdviserRow

ENQUIRY_ACTION = "e"
"""Callback prefix of enquiry buttons: ``e:<enquiry id>:<verb>``."""
ACCEPT, PASS, RESOLVE, RATE_UP, RATE_DOWN = "acc", "pass", "res", "up", "dn"
#: Second steps of adviser buttons: confirm resolving, go back to the enquiry's buttons,
#: pass to a chosen adviser (``pto:<adviser row id>``, 0: whoever fits best; then a note),
#: pass without a note (``pgo:<id>``).
RESOLVE_YES, BACK, PASS_TO, PASS_NOW = "rsy", "back", "pto", "pgo"
#: A plain message kept as a draft: send it to this enquiry (``e:<enquiry>:to:<draft>``),
#: or don't send it (``e:0:drop:<draft>``).
SEND_TO, DROP = "to", "drop"
PASS_NOTE_STEP = "pnote"
PASS_NOTE_WAIT = timedelta(minutes=30)
ROUTE_RETRY = timedelta(minutes=30)
ASK_WAIT = timedelta(minutes=30)
ASK_STEP = "ask"


@dataclass(frozen=True)
class IncomingMessage:
    """A message from an enterprise (or, on an enquiry's email thread, from its adviser)."""

    channel: Literal["telegram", "email"]
    text: str
    subject: str | None = None
    sender_email: str | None = None
    sender_name: str | None = None
    telegram_chat_id: int | None = None
    message_id: str | None = None  # email Message-ID (for threading replies)
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    notice_id: int | None = None  # an alert the question is about
    #: The receiving server's verdict that the mail really comes from its sender's domain
    #: (DKIM/SPF/DMARC pass in ``Authentication-Results``); None for Telegram.
    authenticated: bool | None = None
    #: The per-enquiry reply token the mail was addressed to or quoted, if any.
    reply_token: str | None = None


@dataclass(frozen=True)
class Received:
    enquiry_id: int
    reference: str
    created: bool
    adviser_id: str | None


@dataclass(frozen=True)
class Outcome:
    """What an action did, in words for the person who asked for it."""

    ok: bool
    message: str
    enquiry_id: int | None = None


@dataclass(frozen=True)
class EnquirySettings:
    """What the workflow needs from the config, as plain values."""

    routing: RoutingConfig = field(default_factory=RoutingConfig)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    admin_ids: frozenset[int] = frozenset()
    reply_to: str | None = None
    max_attempts: int = 8
    lease: timedelta = timedelta(minutes=2)

    @classmethod
    def from_config(cls, config: Config) -> EnquirySettings:
        inbound = config.email.inbound
        return cls(
            routing=config.routing,
            timezone=ZoneInfo(config.alerts.timezone),
            admin_ids=frozenset(config.telegram.admin_ids),
            reply_to=config.email.reply_to or (inbound.address if inbound else None),
            max_attempts=config.alerts.max_attempts,
        )


class Actor:
    """Who is acting: an adviser, an admin (by Telegram id), the enterprise or the system."""

    def __init__(self, label: str, adviser: AdviserRow | None = None, admin: bool = False) -> None:
        self.label, self.adviser, self.admin = label, adviser, admin

    @classmethod
    def of_adviser(cls, adviser: AdviserRow) -> Actor:
        return cls(f"adviser:{adviser.code}", adviser)


SYSTEM = Actor("system")


@dataclass
class Desk:
    """What every step of the workflow needs: settings, signed links, the clock, and the
    way to name an outgoing mail (its Message-ID is chosen before it is queued)."""

    settings: EnquirySettings
    links: Links
    clock: Callable[[], datetime]
    new_message_id: Callable[[], str]

    @property
    def hours(self) -> WorkingHours:
        return self.settings.routing.working_hours

    @property
    def button_key(self) -> bytes:
        """Signs the buttons of queued messages (:func:`bot.callbacks.sign`)."""
        return self.links.signer.button_key()
