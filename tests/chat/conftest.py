"""The chat harness: the real PTB Application (as ``bestbot run`` builds it) against the fake
Bot API, an aiosmtpd server for email codes, and the test database (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import select

from bot.config import Config, config_from_dict
from bot.telegram.context import ChatOptions
from storage.db import Database
from storage.models import ProfileRow, SubscriberRow
from tests.fakes.flood import FloodLimits
from tests.fakes.harness import Running, register_fake, running_bot, settle
from tests.fakes.smtp import SmtpSink
from tests.fakes.telegram_api import FakeTelegram, SentMessage

ANN = 9001
BEN = 9002
EVE = 9003  # hostile display name
ADMIN = 9009
GROUP = -1_000_000_000_777
SECRET = "k" * 32
BOT_USERNAME = "bestbot_test_bot"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits=FloodLimits().scaled(20)) as server:
        for uid, name in ((ANN, "Ann"), (BEN, "Ben"), (EVE, "<Eve & Co>"), (ADMIN, "Ada")):
            server.add_user(uid, name)
        register_fake(server)
        yield server


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as sink:
        yield sink


def make_config(fake: FakeTelegram, db_url: str, smtp: SmtpSink | None) -> Config:
    raw: dict[str, Any] = {
        "telegram": {
            "token": fake.token,
            "base_url": fake.base_url,
            "admin_ids": [ADMIN],
            "bot_username": BOT_USERNAME,
        },
        "database": {"url": db_url},
        "web": {"secret_key": SECRET},
        "alerts": {"quiet_hours": "off"},
    }
    if smtp is not None:
        raw["email"] = {
            "from_address": "BEST Procurement alerts <alerts@seem.example.org>",
            "smtp_host": smtp.hostname,
            "smtp_port": smtp.port,
            "starttls": False,
        }
    return config_from_dict(raw, env={})


@dataclass
class Chat:
    """The running application plus helpers to talk to it as users do."""

    fake: FakeTelegram
    db: Database
    running: Running
    config: Config
    smtp: SmtpSink | None

    @property
    def app(self) -> Any:
        return self.running.bot

    @property
    def services(self) -> Any:
        return self.running.app.services

    @property
    def options(self) -> ChatOptions:
        return self.running.bot.bot_data.options

    def count(self, chat_id: int) -> int:
        return len(self.fake.messages(chat_id, include_deleted=True))

    async def send(
        self, uid: int, text: str, *, chat_id: int | None = None, reply_to: int | None = None
    ) -> SentMessage:
        """Send ``text``; return the one reply (and check that there is exactly one)."""
        where = uid if chat_id is None else chat_id
        n = self.count(where)
        self.fake.user_sends(uid, text, chat_id=chat_id, reply_to=reply_to)
        reply = (await self.fake.wait_for_messages(where, n + 1))[n]
        await self.settle(uid)
        assert self.count(where) == n + 1, [m.text for m in self.fake.messages(where)[n:]]
        return reply

    async def settle(self, uid: int = 0, *, chat_id: int | None = None) -> None:
        """Wait until every update sent so far has been fetched and fully handled."""
        await settle(self.fake, self.running)

    async def press(
        self, uid: int, message: SentMessage, data: str, *, chat_id: int | None = None
    ) -> str:
        """Press a button and wait for its answer; returns the answer's text ('' if none)."""
        before = len(self.fake.callback_answers)
        self.fake.user_presses(uid, message.message_id, data, chat_id=chat_id)
        answers = await self.fake.wait_for_callback_answers(before + 1)
        await self.settle(uid, chat_id=chat_id)
        return answers[before].text or ""

    def current(self, message: SentMessage) -> SentMessage:
        return self.fake.message(message.chat_id, message.message_id)

    async def subscriber(self, chat_id: int) -> tuple[SubscriberRow, ProfileRow] | None:
        async with self.db.session() as session:
            sub = (
                await session.exec(
                    select(SubscriberRow).where(SubscriberRow.telegram_chat_id == chat_id)
                )
            ).first()
            if sub is None:
                return None
            profile = (
                await session.exec(select(ProfileRow).where(ProfileRow.subscriber_id == sub.id))
            ).one()
            return sub, profile

    async def profile(self, chat_id: int) -> ProfileRow:
        found = await self.subscriber(chat_id)
        assert found is not None
        return found[1]

    async def deliver(self) -> int:
        """Match what is stored and send the alerts due, as the service's jobs do; returns
        how many alerts were sent."""
        await self.running.app.pipeline.match()
        return (await self.services.send_alerts()).sent

    async def onboard(self, uid: int, answer: str = "community catering, school meals") -> None:
        """/start, answer the question, keep every word read and skip the name: the quickest
        way to a subscription (it ends at the regions question, with no step waiting)."""
        await self.send(uid, "/start")
        offered = await self.send(uid, answer)
        n = self.count(uid)
        await self.press(uid, offered, offered.button("Next")["callback_data"])
        asked = (await self.fake.wait_for_messages(uid, n + 1))[n]
        n = self.count(uid)
        await self.press(uid, asked, asked.button("Skip")["callback_data"])
        await self.fake.wait_for_messages(uid, n + 1)
        await self.settle(uid)


def no_bad_requests(fake: FakeTelegram) -> None:
    # 429s are pacing; a 409 on getUpdates is the updater racing its own cancelled long poll.
    errors = [r for r in fake.errors() if r.status != 429 and r.method != "getUpdates"]
    assert errors == [], [(r.method, r.description) for r in errors]


@pytest.fixture
async def chat(fake: FakeTelegram, database: Database, smtp: SmtpSink) -> AsyncIterator[Chat]:
    config = make_config(fake, database.url, smtp)
    async with running_bot(config) as running:
        harness = Chat(fake, database, running, config, smtp)
        # the harness's own /help probes count too; test_abuse.py tests the real limit
        harness.options.flood_limit = 10_000
        yield harness
    assert fake.unanswered_callbacks() == []
    no_bad_requests(fake)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # 429s from the fake are paced by PTB, whose RetryAfter reads its deprecated int retry_after
    for item in items:
        if "tests/chat/" in str(item.path).replace("\\", "/"):
            item.add_marker(
                pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
            )
