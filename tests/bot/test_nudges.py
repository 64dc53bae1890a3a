"""The weekly nudge: only to quiet subscribers, at their digest hour, once a week."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.app import App, channels
from bot.config import config_from_dict
from storage.db import Database
from storage.models import DeliveryRow, SubscriberRow
from storage.notices import store_notice
from tests.fakes.flood import FloodLimits
from tests.fakes.telegram_api import FakeTelegram
from tests.storage.test_notices import _notice

NOW = datetime(2026, 11, 23, 8, 5, tzinfo=UTC)  # Monday 08:05 in London (GMT)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits=FloodLimits().scaled(50)) as server:
        for uid in (1, 2, 3, 4):
            server.add_user(uid)
        yield server


async def _service(fake: FakeTelegram, database: Database, nudge: bool = True) -> tuple[App, Any]:
    config = config_from_dict(
        {
            "database": {"url": database.url},
            "telegram": {"token": fake.token, "base_url": fake.base_url},
            "alerts": {"nudge": nudge},
            "web": {"secret_key": "nudge-test-secret-key"},
        },
        env={},
    )
    stack = channels(config, receive=False)
    _bot, telegram, _email = await stack.__aenter__()
    service = App(config, telegram=telegram, clock=lambda: NOW)
    await service.open()
    return service, stack


async def _people(database: Database) -> dict[str, int]:
    old = NOW - timedelta(days=30)
    people = {
        "quiet": SubscriberRow(telegram_chat_id=1, telegram_active=True, created_at=old),
        "opted_out": SubscriberRow(
            telegram_chat_id=2, telegram_active=True, created_at=old, nudge=False
        ),
        "alerted": SubscriberRow(telegram_chat_id=3, telegram_active=True, created_at=old),
        "new": SubscriberRow(telegram_chat_id=4, telegram_active=True, created_at=NOW),
    }
    async with database.session() as s:
        s.add_all(people.values())
        await s.flush()
        stored = await store_notice(s, _notice())
        s.add(
            DeliveryRow(
                subscriber_id=people["alerted"].id or 0,
                notice_id=stored.notice_id,
                version=1,
                channel="telegram",
                status="sent",
                sent_at=NOW - timedelta(days=2),
            )
        )
        return {k: v.id or 0 for k, v in people.items()}


async def test_only_quiet_subscribers_are_nudged_once(
    fake: FakeTelegram, database: Database
) -> None:
    await _people(database)
    service, app = await _service(fake, database)
    try:
        first = await service.nudge()
        again = await service.nudge()
    finally:
        await service.close()
        await app.__aexit__(None, None, None)
    assert (first.due, first.queued) == (1, 1)
    assert again.queued == 0
    [message] = fake.messages(1)
    assert "We checked 1 notice this week; none matched" in message.text
    assert fake.messages(2) == fake.messages(3) == fake.messages(4) == []


async def test_nudges_can_be_switched_off_for_everyone(
    fake: FakeTelegram, database: Database
) -> None:
    await _people(database)
    service, app = await _service(fake, database, nudge=False)
    try:
        report = await service.nudge()
    finally:
        await service.close()
        await app.__aexit__(None, None, None)
    assert report.queued == 0 and fake.messages(1) == []
