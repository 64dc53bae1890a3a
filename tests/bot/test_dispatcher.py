"""The alert outbox and the delivery loop against the strict fake Bot API: what each
Telegram answer leads to.

403 deactivates the chat at once (the row fails with the reason, nothing more is tried);
429 is waited out and never dropped (nor counted as a failed attempt); a 400 the retry
can't fix fails the row with its reason; 5xx retries with back-off until the attempt
budget, then fails with the reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.app import App, channels
from bot.config import config_from_dict
from bot.delivery.courier import CourierSettings, DeliveryReport
from storage.db import Database
from storage.models import DeliveryRow, SubscriberRow
from storage.notices import store_notice
from storage.outbox import NewDelivery, enqueue
from tests.fakes.flood import FloodLimits
from tests.fakes.telegram_api import FakeTelegram
from tests.storage.test_notices import _notice

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
NOW = datetime(2025, 1, 21, 10, 0, tzinfo=UTC)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits=FloodLimits().scaled(50)) as server:
        yield server


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


async def _queue(database: Database, chats: list[int]) -> dict[int, int]:
    """One alert per chat; returns chat id -> subscriber id."""
    async with database.session() as s:
        stored = await store_notice(s, _notice())
        subs = {chat: SubscriberRow(telegram_chat_id=chat, telegram_active=True) for chat in chats}
        s.add_all(subs.values())
        await s.flush()
        await enqueue(
            s,
            [
                NewDelivery(sub.id or 0, stored.notice_id, 1, "telegram", NOW, reasons=("r",))
                for sub in subs.values()
            ],
        )
        return {chat: sub.id or 0 for chat, sub in subs.items()}


async def _rows(database: Database) -> dict[int, DeliveryRow]:
    async with database.session() as s:
        return {r.subscriber_id: r for r in (await s.exec(select(DeliveryRow))).all()}


class Dispatcher:
    """The service's alert sending, as ``bestbot run`` builds it."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def run_until_idle(self) -> DeliveryReport:
        return await self.app.services.send_alerts()


@pytest.fixture
async def dispatcher(
    fake: FakeTelegram, database: Database
) -> AsyncIterator[tuple[Dispatcher, Clock]]:
    config = config_from_dict(
        {
            "telegram": {"token": fake.token, "base_url": fake.base_url},
            "database": {"url": database.url},
            "alerts": {"max_attempts": 3, "quiet_hours": "off"},
        },
        env={},
    )
    clock = Clock()
    async with (
        channels(config, receive=False) as (_bot, telegram, _email),
        App(config, telegram=telegram, clock=clock, worker_id="t") as app,
    ):
        yield Dispatcher(app), clock


async def test_blocked_user_is_deactivated_at_once_and_others_still_get_theirs(
    fake: FakeTelegram, database: Database, dispatcher: tuple[Dispatcher, Clock]
) -> None:
    for uid in (1, 2):
        fake.add_user(uid)
    fake.user_blocks(2)
    subs = await _queue(database, [1, 2])
    disp, clock = dispatcher
    report = await disp.run_until_idle()
    rows = await _rows(database)
    assert rows[subs[1]].status == "sent"
    assert rows[subs[2]].status == "failed" and "blocked" in (rows[subs[2]].last_error or "")
    async with database.session() as s:
        blocked = await s.get(SubscriberRow, subs[2])
    assert blocked is not None and blocked.telegram_active is False
    assert report.sent == 1 and report.failed == 1
    # Nothing more is attempted for the blocked chat, even much later.
    clock.now += timedelta(days=1)
    await disp.run_until_idle()
    assert len([r for r in fake.calls("sendMessage") if str(r.params.get("chat_id")) == "2"]) == 1


async def test_a_chat_that_never_started_the_bot_is_deactivated(
    fake: FakeTelegram, database: Database, dispatcher: tuple[Dispatcher, Clock]
) -> None:
    subs = await _queue(database, [77])
    disp, _ = dispatcher
    await disp.run_until_idle()
    assert (await _rows(database))[subs[77]].status == "failed"
    assert fake.errors(400)[0].description == "Bad Request: chat not found"
    async with database.session() as s:
        gone = await s.get(SubscriberRow, subs[77])
    assert gone is not None and gone.telegram_active is False


async def test_flood_429_is_waited_out_and_never_dropped(
    fake: FakeTelegram, database: Database, dispatcher: tuple[Dispatcher, Clock]
) -> None:
    fake.add_user(5)
    # More 429s than the rate limiter retries itself: the outbox must take over.
    fake.inject_error("sendMessage", 429, retry_after=0.01, chat_id=5, times=6)
    subs = await _queue(database, [5])
    disp, clock = dispatcher
    first = await disp.run_until_idle()
    row = (await _rows(database))[subs[5]]
    assert first.retried == 1 and row.status == "pending" and row.attempts == 0
    clock.now += timedelta(seconds=5)
    await disp.run_until_idle()
    row = (await _rows(database))[subs[5]]
    assert row.status == "sent" and len(fake.messages(5)) == 1


async def test_a_bad_request_fails_the_row_with_its_reason(
    fake: FakeTelegram, database: Database, dispatcher: tuple[Dispatcher, Clock]
) -> None:
    fake.add_user(6)
    fake.inject_error("sendMessage", 400, "Bad Request: can't parse entities", chat_id=6)
    subs = await _queue(database, [6])
    disp, _ = dispatcher
    report = await disp.run_until_idle()
    row = (await _rows(database))[subs[6]]
    assert report.failed == 1 and row.status == "failed"
    assert "can't parse entities" in (row.last_error or "").lower()


async def test_server_errors_retry_with_backoff_then_fail_after_the_budget(
    fake: FakeTelegram, database: Database, dispatcher: tuple[Dispatcher, Clock]
) -> None:
    fake.add_user(7)
    fake.inject_error("sendMessage", 502, chat_id=7, times=10)
    subs = await _queue(database, [7])
    disp, clock = dispatcher
    for _ in range(3):
        await disp.run_until_idle()
        row = (await _rows(database))[subs[7]]
        assert row.due_at > clock.now or row.status == "failed"
        clock.now = row.due_at + timedelta(seconds=1)
    row = (await _rows(database))[subs[7]]
    assert row.status == "failed" and row.attempts == 3
    assert "502" in (row.last_error or "") or "Bad Gateway" in (row.last_error or "")


async def test_a_burst_within_a_minute_arrives_as_one_grouped_message(
    fake: FakeTelegram, database: Database, dispatcher: tuple[Dispatcher, Clock]
) -> None:
    fake.add_user(9)
    subs = await _queue(database, [9])
    disp, clock = dispatcher
    await disp.run_until_idle()
    # Two more matches land 20 s later (another feed's poll): they wait, then go as one.
    clock.now += timedelta(seconds=20)
    async with database.session() as s:
        ids = []
        for n in (2, 3):
            stored = await store_notice(s, _notice(ocid=f"ocds-b5fd17-{n}", title=f"Meals {n}"))
            ids.append(stored.notice_id)
        await enqueue(
            s, [NewDelivery(subs[9], nid, 1, "telegram", clock.now, reasons=("r",)) for nid in ids]
        )
    held = await disp.run_until_idle()
    assert held.sent == 0 and len(fake.messages(9)) == 1
    clock.now += timedelta(seconds=41)
    sent = await disp.run_until_idle()
    assert sent.sent == 2 and sent.messages == 1
    messages = fake.messages(9)
    assert len(messages) == 2 and "Meals 2" in messages[1].text and "Meals 3" in messages[1].text


async def test_what_did_not_fit_goes_in_the_next_message_at_once(
    fake: FakeTelegram, database: Database, dispatcher: tuple[Dispatcher, Clock]
) -> None:
    """A burst too big for one message: the rest follows straight away, not after the
    grouping window (it was waiting before the first message went)."""
    fake.add_user(11)
    disp, _clock = dispatcher
    async with database.session() as s:
        sub = SubscriberRow(telegram_chat_id=11, telegram_active=True)
        s.add(sub)
        await s.flush()
        ids = []
        for n in range(60):
            title = f"Grounds maintenance lot {n} " + "with a long descriptive title " * 3
            stored = await store_notice(s, _notice(ocid=f"ocds-b5fd17-fit{n}", title=title))
            ids.append(stored.notice_id)
        await enqueue(
            s,
            [NewDelivery(sub.id or 0, nid, 1, "telegram", NOW, reasons=("r",)) for nid in ids],
            now=NOW,
        )
    report = await disp.run_until_idle()
    for _ in range(5):  # the clock does not move: nothing may wait for the window
        if report.sent == 0:
            break
        report = await disp.run_until_idle()
    messages = fake.messages(11)
    assert len(messages) >= 2  # it did not fit in one
    text = "\n".join(m.text for m in messages)
    assert all(f"lot {n} " in text for n in range(60))  # every alert shown …
    rows = await _rows_all(database)
    assert {r.status for r in rows} == {"sent"}  # … and marked sent only then


async def _rows_all(database: Database) -> list[DeliveryRow]:
    async with database.session() as s:
        return list((await s.exec(select(DeliveryRow))).all())


async def test_a_send_slower_than_the_lease_is_not_taken_over(
    fake: FakeTelegram, database: Database
) -> None:
    """A send that takes three leases (a slow Telegram, a wait on the fleet's budget) keeps
    its claim the whole time: a second worker starting meanwhile sends nothing again."""
    config = config_from_dict(
        {
            "telegram": {"token": fake.token, "base_url": fake.base_url},
            "database": {"url": database.url},
            "alerts": {"quiet_hours": "off"},
        },
        env={},
    )
    chats = [31, 32, 33]
    for uid in chats:
        fake.add_user(uid)
    await _queue(database, chats)
    lease = timedelta(seconds=0.6)
    fake.latency["sendmessage"] = 3 * lease.total_seconds()
    async with (
        channels(config, receive=False) as (_b1, tg1, _e1),
        channels(config, receive=False) as (_b2, tg2, _e2),
        App(config, telegram=tg1, worker_id="w1") as one,
        App(config, telegram=tg2, worker_id="w2") as two,
    ):
        for app in (one, two):
            app.services.courier.settings = CourierSettings(lease=lease)
        first = asyncio.create_task(one.services.send_alerts())
        await asyncio.sleep(1.5 * lease.total_seconds())  # w1's first claim has run out
        second = await two.services.send_alerts()
        report = await first
    assert report.sent == 3 and second.sent == 0
    for uid in chats:
        assert len(fake.messages(uid)) == 1, uid
    assert {r.status for r in (await _rows(database)).values()} == {"sent"}
