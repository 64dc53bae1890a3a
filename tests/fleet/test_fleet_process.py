"""A fleet as it is deployed: one ``bestbot run --role web`` and two ``--role worker``
processes on one PostgreSQL, Telegram by webhook (the fake Bot API pushes updates to the web
process, retrying like Telegram). Subscribers talk to the bot while a feed is polled; every
update is handled once, every alert sent once, and killing a worker loses nothing."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from storage.db import Database
from storage.inbox import handled_order
from storage.models import DeliveryRow, TelegramInboxRow
from tests.bot.test_run_service import _fresh_release
from tests.fakes.feed_server import FeedServer
from tests.fakes.flood import FloodLimits
from tests.fakes.telegram_api import FakeTelegram

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]
SUBSCRIBERS = list(range(8101, 8113))
SECRET = "fleet-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits=FloodLimits().scaled(20)) as server:
        for uid in SUBSCRIBERS:
            server.add_user(uid, f"User {uid}")
        yield server


def _config(tmp: Path, url: str, fake: FakeTelegram, feed_url: str, port: int) -> Path:
    path = tmp / "bestbot.toml"
    path.write_text(
        f"""
[database]
url = "{url}"
[telegram]
token = "{fake.token}"
base_url = "{fake.base_url}"
mode = "webhook"
webhook_secret = "{SECRET}"
[web]
host = "127.0.0.1"
port = {port}
public_url = "https://bot.seem.example"
secret_key = "fleet-test-secret-key"
[alerts]
quiet_hours = "off"
group_within = "1s"
[[feeds]]
name = "fts"
kind = "find_a_tender"
url = "{feed_url}"
every = "1m"
"""
    )
    return path


async def _spawn(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, env=env, stderr=asyncio.subprocess.PIPE
    )


def _replies(fake: FakeTelegram, uid: int) -> list[str]:
    """The bot's answers to commands in a chat (not the alert, nor the tip after it)."""
    return [
        m.text
        for m in fake.messages(uid)
        if "Your data and bestbot" in m.text or "the free contract alerts service" in m.text
    ]


async def _replied(fake: FakeTelegram, n: int) -> None:
    await fake.wait_until(
        lambda: all(len(_replies(fake, uid)) >= n for uid in SUBSCRIBERS),
        120,
        f"{n} replies in every chat",
    )


async def _stop(proc: asyncio.subprocess.Process) -> tuple[int, str]:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(proc.wait(), timeout=30)
    stderr = (await proc.stderr.read()).decode() if proc.stderr else ""
    return code, stderr


async def _inbox_drained(database: Database, seconds: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        async with database.session() as session:
            pending = (
                await session.exec(
                    select(TelegramInboxRow).where(TelegramInboxRow.status == "pending")
                )
            ).all()
        if not pending:
            return
        assert loop.time() < deadline, f"{len(pending)} updates still pending"
        await asyncio.sleep(0.1)


async def test_web_and_two_workers_handle_every_update_and_alert_once(
    tmp_path: Path, fake: FakeTelegram, database: Database
) -> None:
    release = _fresh_release()
    title = str(release["tender"]["title"])  # type: ignore[index]
    async with FeedServer() as feeds:
        feeds.releases["fts"] = [release]
        port = _free_port()
        config = _config(tmp_path, database.url, fake, feeds.fts_url, port)
        fake.deliver_webhooks_to = f"http://127.0.0.1:{port}"
        env = {**os.environ, "BESTBOT_CONFIG": str(config)}
        people = tmp_path / "people.json"
        people.write_text(
            json.dumps(
                [
                    {"telegram_id": u, "keywords": ["district heating"], "name": f"E{u}"}
                    for u in SUBSCRIBERS
                ]
            )
        )
        imported = await _spawn(env, "subscribers", "import", str(people))
        assert await imported.wait() == 0

        web = await _spawn(env, "run", "--role", "web")
        workers = [await _spawn(env, "run", "--role", "worker") for _ in range(2)]
        try:
            # every subscriber gets the alert once, whichever worker sends it
            for uid in SUBSCRIBERS:
                first = (await fake.wait_for_messages(uid, 1, timeout=120))[0]
                assert title[:40] in first.text
            assert len(fake.calls("setWebhook")) == 1  # one worker registered, under a lease
            # they talk to the bot: updates pushed to the web process, handled by the workers
            for n in range(3):
                for uid in SUBSCRIBERS:
                    fake.user_sends(uid, "/help" if n % 2 else "/privacy")
            await _replied(fake, 3)
            # a worker dies mid-stream: the other carries on, nothing is lost. (Killed once
            # every update is marked done: one answered but not yet marked would be answered
            # again after its claim ran out — bench_scaleout.py counts those repeats.)
            await _inbox_drained(database)
            workers[0].kill()
            for uid in SUBSCRIBERS:
                fake.user_sends(uid, "/help")
            await _replied(fake, 4)
        finally:
            results = [await _stop(p) for p in (web, *workers)]
        for code, stderr in results[:1] + results[2:]:  # the killed worker aside
            assert code == 0, stderr[-2000:]
            assert "Traceback" not in stderr
            assert fake.token not in stderr and SECRET not in stderr
    await asyncio.sleep(0.5)  # nothing late either
    for uid in SUBSCRIBERS:
        texts = [m.text for m in fake.messages(uid)]
        assert sum(title[:40] in t for t in texts) == 1, uid  # the alert once
        # one reply per command, none twice: /privacy twice, /help twice
        assert sum("Your data and bestbot" in t for t in texts) == 2, (uid, texts)
        helps = [t for t in texts if "the free contract alerts service" in t]
        assert len(helps) == 2, (uid, texts)
    async with database.session() as session:
        order = await handled_order(session)
        deliveries = (await session.exec(select(DeliveryRow))).all()
    assert len(order) == 4 * len(SUBSCRIBERS)  # every update handled, each once
    assert {d.status for d in deliveries} == {"sent"}
    assert len(deliveries) == len(SUBSCRIBERS)
