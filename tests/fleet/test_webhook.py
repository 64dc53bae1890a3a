"""Telegram by webhook, through the real web server, the real inbox and the real handlers:
the fake Bot API pushes updates (retrying non-200s, like Telegram) to bestbot's web
server; workers handle them from the inbox — one chat in order, chats side by side."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlmodel import select

from bot import routes
from bot.app import App, channels
from bot.config import Config, config_from_dict
from bot.telegram.application import start_receiving
from bot.telegram.webhook import SECRET_HEADER, InboxWorker, register_webhook
from bot.web.server import build_web_app, start_web
from storage.db import Database
from storage.inbox import handled_order, store_update
from storage.models import TelegramInboxRow
from tests.fakes.flood import FloodLimits
from tests.fakes.telegram_api import FakeTelegram

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
SECRET = "webhook-secret_123"
USERS = list(range(5001, 5011))


def _config(fake: FakeTelegram, database: Database, port: int) -> Config:
    return config_from_dict(
        {
            "database": {"url": database.url},
            "telegram": {
                "token": fake.token,
                "base_url": fake.base_url,
                "mode": "webhook",
                "webhook_secret": SECRET,
            },
            "web": {
                "host": "127.0.0.1",
                "port": port,
                "public_url": "https://bot.seem.example",
                "secret_key": "w" * 32,
            },
            "alerts": {"quiet_hours": "off"},
        },
        env={},
    )


@dataclass
class Fleet:
    fake: FakeTelegram
    database: Database
    url: str
    workers: list[InboxWorker]

    async def stored(self) -> list[TelegramInboxRow]:
        async with self.database.session() as session:
            return list((await session.exec(select(TelegramInboxRow))).all())


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits=FloodLimits().scaled(50)) as server:
        for uid in USERS:
            server.add_user(uid, f"User {uid}")
        yield server


async def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def fleet(fake: FakeTelegram, database: Database) -> AsyncIterator[Fleet]:
    """One web process's server and two workers' inbox loops, as separate Apps."""
    config = _config(fake, database, await _free_port())
    stop = asyncio.Event()
    async with App(config, worker_id="web") as web_app:
        runner = await start_web(build_web_app(web_app.services), "127.0.0.1", config.web.port)
        fake.deliver_webhooks_to = f"http://127.0.0.1:{config.web.port}"
        try:
            async with (
                channels(config, receive=True) as (bot1, tg1, _e1),
                channels(config, receive=True) as (bot2, tg2, _e2),
                App(config, telegram=tg1, worker_id="w1", bot_application=bot1) as one,
                App(config, telegram=tg2, worker_id="w2", bot_application=bot2) as two,
            ):
                workers = []
                tasks = []
                for bot_app, app in ((bot1, one), (bot2, two)):
                    assert bot_app is not None
                    routes.install(bot_app, app.services)
                    await start_receiving(bot_app, polling=False)
                    await register_webhook(bot_app, app.services)
                    worker = InboxWorker(bot_app, app.services, idle_pause=0.02)
                    workers.append(worker)
                    tasks.append(asyncio.create_task(worker.run(stop)))
                try:
                    yield Fleet(fake, database, f"http://127.0.0.1:{config.web.port}", workers)
                finally:
                    stop.set()
                    await asyncio.gather(*tasks)
        finally:
            await runner.cleanup()


async def test_only_one_worker_sets_the_webhook_with_its_secret(fleet: Fleet) -> None:
    calls = fleet.fake.calls("setWebhook")
    assert len(calls) == 1
    params = calls[0].params
    assert params["url"] == "https://bot.seem.example/telegram/webhook"
    assert params["secret_token"] == SECRET


async def test_wrong_or_missing_secret_is_403_and_nothing_is_stored(fleet: Fleet) -> None:
    update: dict[str, Any] = {
        "update_id": 999,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 1, "type": "private"},
            "text": "/help",
        },
    }
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET + "x"}):
            async with http.post(
                f"{fleet.url}/telegram/webhook", json=update, headers=headers
            ) as resp:
                assert resp.status == 403
        async with http.post(
            f"{fleet.url}/telegram/webhook", data="not json", headers={SECRET_HEADER: SECRET}
        ) as resp:
            assert resp.status == 400
    assert await fleet.stored() == []


async def test_a_repeated_delivery_is_stored_and_handled_once(fleet: Fleet) -> None:
    update = {
        "update_id": 777,
        "message": {
            "message_id": 3,
            "date": 0,
            "chat": {"id": USERS[0], "type": "private"},
            "from": {"id": USERS[0], "is_bot": False, "first_name": "A"},
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    async with aiohttp.ClientSession() as http:
        for _ in range(3):
            async with http.post(
                f"{fleet.url}/telegram/webhook", json=update, headers={SECRET_HEADER: SECRET}
            ) as resp:
                assert resp.status == 200
    await fleet.fake.wait_for_messages(USERS[0], 1)
    await _until(lambda: sum(w.handled for w in fleet.workers) >= 1)
    await asyncio.sleep(0.3)  # give a second (wrong) handling every chance to show up
    assert len(fleet.fake.messages(USERS[0])) == 1
    assert len(await fleet.stored()) == 1


async def test_each_chat_in_order_chats_in_parallel_every_update_once(fleet: Fleet) -> None:
    per_user = 6
    for n in range(per_user):
        for uid in USERS:
            fleet.fake.user_sends(uid, "/help" if n % 2 else "/privacy")
    total = per_user * len(USERS)
    await _until(lambda: sum(w.handled for w in fleet.workers) >= total, seconds=60)
    for uid in USERS:
        await fleet.fake.wait_for_messages(uid, per_user, timeout=30)
    async with fleet.database.session() as session:
        order = await handled_order(session)
    assert len(order) == total  # each update handled once
    for uid in USERS:
        ids = [update_id for chat, update_id, _ in order if chat == uid]
        assert ids == sorted(ids), uid  # in order within a chat
        replies = [m.text for m in fleet.fake.messages(uid)]
        assert len(replies) == per_user
        # the replies alternate like the commands did: privacy, help, privacy…
        kinds = ["privacy" if "Your data and bestbot" in t else "help" for t in replies]
        assert kinds == ["privacy" if n % 2 == 0 else "help" for n in range(per_user)], uid
    assert all(w.handled > 0 for w in fleet.workers)  # both workers took part
    assert all(status in (200,) for _uid, status in fleet.fake.webhook_attempts)


async def _until(predicate: Any, seconds: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_switching_back_to_polling_deletes_the_webhook(
    fake: FakeTelegram, database: Database
) -> None:
    from tests.fakes.harness import running_bot

    fake.webhook_url = "https://bot.seem.example/telegram/webhook"  # left by a webhook fleet
    config = config_from_dict(
        {
            "database": {"url": database.url},
            "telegram": {"token": fake.token, "base_url": fake.base_url},
            "alerts": {"quiet_hours": "off"},
        },
        env={},
    )
    async with running_bot(config):
        fake.user_sends(USERS[0], "/help")
        await fake.wait_for_messages(USERS[0], 1)
    assert fake.calls("deleteWebhook")
    assert fake.webhook_url == ""


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_handler_slower_than_the_lease_keeps_its_claim(
    fake: FakeTelegram, database: Database
) -> None:
    """A reply that takes three leases (a saturated send budget, a slow Telegram) is still
    sent once: its worker renews the claim, so the other never takes the update over."""
    config = _config(fake, database, await _free_port())
    lease = timedelta(seconds=0.6)
    stop = asyncio.Event()
    async with (
        channels(config, receive=True) as (bot1, tg1, _e1),
        channels(config, receive=True) as (bot2, tg2, _e2),
        App(config, telegram=tg1, worker_id="w1", bot_application=bot1) as one,
        App(config, telegram=tg2, worker_id="w2", bot_application=bot2) as two,
    ):
        workers, tasks = [], []
        for bot_app, app in ((bot1, one), (bot2, two)):
            assert bot_app is not None
            routes.install(bot_app, app.services)
            await start_receiving(bot_app, polling=False)
            worker = InboxWorker(bot_app, app.services, lease=lease, idle_pause=0.02)
            workers.append(worker)
            tasks.append(asyncio.create_task(worker.run(stop)))
        fake.latency["sendmessage"] = 3 * lease.total_seconds()
        now = datetime.now(UTC)
        async with database.session() as session:
            for n, uid in enumerate(USERS[:4], start=1):
                payload = fake.user_sends(uid, "/help")
                update = {"update_id": 900 + n, "message": payload}
                await store_update(session, 900 + n, uid, update, now)
        try:
            await _until(lambda: sum(w.handled for w in workers) >= 4, seconds=30)
            await asyncio.sleep(3 * lease.total_seconds())  # a takeover would answer by now
        finally:
            stop.set()
            await asyncio.gather(*tasks)
    for uid in USERS[:4]:
        assert len(fake.messages(uid)) == 1, uid  # one answer, though it took 3 leases
    async with database.session() as session:
        assert len(await handled_order(session)) == 4
