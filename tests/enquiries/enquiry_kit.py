"""Fixtures and helpers for the enquiry workflow tests: the real PTB Application against the
fake Bot API, aiosmtpd for email, a real database (SQLite and PostgreSQL), and a clock the
tests move by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from bot.app import build_services
from bot.callbacks import sign
from bot.config import Config, config_from_dict
from bot.delivery.channels import email_factory
from bot.delivery.telegram import TelegramSender
from bot.enquiries.service import EnquiryService
from storage import enquiries as store
from storage.db import Database
from storage.models import EnquiryEventRow, EnquiryRow
from storage.subscribers import SubscriberInput, upsert_subscriber
from tests.fakes.flood import FloodLimits
from tests.fakes.harness import Running, register_fake, running_bot, settle
from tests.fakes.smtp import SmtpSink
from tests.fakes.telegram_api import FakeTelegram, SentMessage

ANN = 7001  # enterprise, subscribed, Telegram
BEN = 7002  # another enterprise
EVE = 7003  # a stranger
TESS = 9001  # tendering adviser (Telegram)
DUTY = 9003  # duty adviser (Telegram)
TOM = 9004  # second tendering adviser (Telegram)
ADMIN = 9009
FAY = "fay@seem.example"  # finance adviser, email only
MAILBOX = "enquiries@seem.example"
SECRET = "k" * 40

ROSTER: list[dict[str, Any]] = [
    {
        "id": "tess",
        "name": "Tess Tendering",
        "telegram_id": TESS,
        "topics": ["tendering", "social_value"],
        "regions": ["East Midlands"],
        "capacity": 5,
    },
    {
        "id": "tom",
        "name": "Tom Bids",
        "telegram_id": TOM,
        "topics": ["tendering"],
        "regions": ["Lincolnshire"],
        "capacity": 5,
    },
    {
        "id": "fay",
        "name": "Fay Finance",
        "email": FAY,
        "topics": ["finance", "funding"],
        "capacity": 5,
    },
    {"id": "duty", "name": "Dee Duty", "telegram_id": DUTY, "topics": ["general"], "capacity": 9},
]

TENDER_Q = (
    "How do we write a strong tender bid for the council's school catering contract? "
    "We have never bid before."
)


class Clock:
    """A clock tests move by hand (UTC)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


def make_config(
    database: Database,
    fake: FakeTelegram | None = None,
    smtp: SmtpSink | None = None,
    **routing: str,
) -> Config:
    data: dict[str, Any] = {
        "database": {"url": database.url},
        "web": {"secret_key": SECRET, "public_url": "https://bot.seem.example"},
        "routing": {"working_hours": "24/7", **routing},
        "alerts": {"quiet_hours": "off"},
    }
    if fake is not None:
        data["telegram"] = {
            "token": fake.token,
            "base_url": fake.base_url,
            "admin_ids": [ADMIN],
            "bot_username": fake.bot_username,
        }
    if smtp is not None:
        data["email"] = {
            "from_address": f"SEEM enquiries <{MAILBOX}>",
            "smtp_host": smtp.hostname,
            "smtp_port": smtp.port,
            "starttls": False,
        }
    return config_from_dict(data, env={})


async def seed(database: Database) -> None:
    """The roster and two subscribed enterprises."""
    items = [
        store.AdviserInput(
            code=a["id"],
            name=a["name"],
            topics=a["topics"],
            capacity=a["capacity"],
            regions=a.get("regions", ()),
            email=a.get("email"),
            telegram_id=a.get("telegram_id"),
        )
        for a in ROSTER
    ]
    async with database.session() as session:
        await store.upsert_advisers(session, items)
        for chat, name, words in (
            (ANN, "Ann's Kitchen CIC", ["school meals", "catering"]),
            (BEN, "Ben's Bikes", ["cycle repair"]),
        ):
            await upsert_subscriber(
                session,
                SubscriberInput(
                    name=name,
                    email=None,
                    telegram_chat_id=chat,
                    frequency="instant",
                    profile={"keywords": words, "regions": ["Nottingham"]},
                ),
            )


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits=FloodLimits().scaled(20)) as server:
        for uid, name in (
            (ANN, "Ann"),
            (BEN, "Ben"),
            (EVE, "<Eve & Co>"),
            (TESS, "Tess"),
            (DUTY, "Dee"),
            (TOM, "Tom"),
            (ADMIN, "Ada"),
        ):
            server.add_user(uid, name, username=f"user{uid}")
        register_fake(server)
        yield server


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as sink:
        yield sink


@dataclass
class Bot:
    """The running application, its enquiry service and helpers to play users."""

    fake: FakeTelegram
    db: Database
    running: Running
    config: Config
    smtp: SmtpSink | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def app(self) -> Any:
        return self.running.bot

    @property
    def service(self) -> EnquiryService:
        return self.running.app.services.enquiries

    def last(self, chat_id: int) -> SentMessage:
        return self.fake.messages(chat_id)[-1]

    async def send(self, chat_id: int, text: str, reply_to: int | None = None) -> SentMessage:
        """Send as a user; returns the bot's next message in that chat."""
        n = len(self.fake.messages(chat_id, include_deleted=True))
        self.fake.user_sends(chat_id, text, reply_to=reply_to)
        return (await self.fake.wait_for_messages(chat_id, n + 1))[n]

    def mark(self, chat_id: int) -> int:
        return len(self.fake.messages(chat_id, include_deleted=True))

    async def after(self, chat_id: int, mark: int, n: int = 1) -> list[SentMessage]:
        return (await self.fake.wait_for_messages(chat_id, mark + n))[mark:]

    def sign(self, chat_id: int, data: str) -> str:
        """``data`` signed as the bot signs buttons for ``chat_id`` (to forge a press that
        only the role check can refuse)."""
        return sign(self.running.app.services.signer.button_key(), chat_id, data)

    async def press(
        self, chat_id: int, message: SentMessage, data: str, settle: bool = True
    ) -> str:
        """Press the button whose data is ``data``, or whose data is ``data`` signed (so
        tests name enquiry buttons without their tag)."""
        data = signed_button(self.fake.message(chat_id, message.message_id), data)
        before = len(self.fake.callback_answers)
        self.fake.user_presses(chat_id, message.message_id, data)
        answers = await self.fake.wait_for_callback_answers(before + 1)
        if settle:  # (the probe is a command: it would cancel a question being awaited)
            await self.settle(chat_id)
        text = answers[before].text
        assert text is not None
        return text

    async def settle(self, chat_id: int = 0) -> None:
        """Wait until every update so far has been fetched and fully handled."""
        await settle(self.fake, self.running)

    async def enquiry(self, enquiry_id: int = 1) -> EnquiryRow:
        async with self.db.session() as session:
            row = await session.get(EnquiryRow, enquiry_id)
        assert row is not None
        return row

    async def events(self, enquiry_id: int = 1) -> list[tuple[str, str]]:
        async with self.db.session() as session:
            rows = await session.exec(
                select(EnquiryEventRow)
                .where(EnquiryEventRow.enquiry_id == enquiry_id)
                .order_by(col(EnquiryEventRow.id))
            )
            return [(e.kind, e.actor) for e in rows]


def unsigned(data: str) -> str:
    """Callback data without its signature tag (for ``e:`` buttons)."""
    return data.rpartition(":")[0] if data.startswith("e:") else data


def verbs(message: SentMessage) -> list[str]:
    """The message's button data, tags removed."""
    return [unsigned(d) for d in message.callback_data]


def signed_button(message: SentMessage, data: str) -> str:
    for found in message.callback_data:
        if found == data or (found.startswith("e:") and unsigned(found) == data):
            return found
    return data


@asynccontextmanager
async def running(
    fake: FakeTelegram, database: Database, smtp: SmtpSink | None = None, **routing: str
) -> AsyncIterator[Bot]:
    """bestbot's Telegram side as ``bestbot run`` builds it (handlers installed, polling)."""
    config = make_config(database, fake, smtp, **routing)
    async with running_bot(config) as started:
        yield Bot(fake, database, started, config, smtp)


def worker(bot: Bot, clock: Callable[[], datetime], name: str = "scheduler") -> EnquiryService:
    """Another process's view (the scheduler's): same database, its own clock, its own
    parts built by the composition root."""
    email: Callable[[], AbstractAsyncContextManager[Any]] | None = email_factory(bot.config)
    services = build_services(
        bot.config,
        bot.running.app.services.signer.legacy_secret,
        clock=clock,
        worker_id=name,
        telegram=TelegramSender(bot.app.bot),
        email=email,
    )
    return services.enquiries


def enquiry_service(
    config: Config,
    database: Database,
    *,
    clock: Callable[[], datetime] | None = None,
    email: Any = None,
    telegram: Any = None,
    worker_id: str = "mail",
) -> EnquiryService:
    """The enquiry workflow as the composition root builds it, on the test database."""
    services = build_services(
        config,
        config.secret_key,
        clock=clock or (lambda: datetime.now(UTC)),
        worker_id=worker_id,
        telegram=telegram,
        email=email,
        db=database,
    )
    return services.enquiries


def start_clock() -> Clock:
    return Clock(datetime.now(UTC))
