"""``/healthz`` per role: each check named with "ok" or what is wrong, 503 when something is
— a feed with no successful poll for three intervals, an inbox update nobody handles."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import App
from bot.config import config_from_dict
from bot.web.server import build_web_app
from storage.cursors import record_poll_error, save_cursor
from storage.db import Database
from storage.inbox import store_update
from storage.types import utcnow


@pytest.fixture
async def app(database: Database) -> AsyncIterator[App]:
    config = config_from_dict(
        {
            "database": {"url": database.url},
            "web": {"secret_key": "h" * 32, "public_url": "https://bot.seem.example"},
            "telegram": {
                "token": "123456:" + "A" * 35,
                "mode": "webhook",
                "webhook_secret": "health-secret",
            },
            "feeds": [
                {"name": "fts", "kind": "find_a_tender", "every": "15m"},
                {"name": "cf", "kind": "contracts_finder", "every": "1h"},
            ],
        },
        env={},
    )
    async with App(config) as running:
        yield running


async def _get(app: App, role: str = "web") -> tuple[int, dict[str, Any]]:
    async with TestClient(TestServer(build_web_app(app.services, role))) as client:
        resp = await client.get("/healthz")
        return resp.status, await resp.json()


async def test_a_fresh_install_is_healthy_and_says_what_it_checked(app: App) -> None:
    status, report = await _get(app)
    assert status == 200 and report["ok"] is True and report["role"] == "web"
    assert report["checks"] == {
        "database": "ok",
        "outbox alerts": "ok",
        "outbox messages": "ok",
        "inbox": "ok",
        "feed fts": "ok (not polled yet)",
        "feed cf": "ok (not polled yet)",
    }


async def test_a_feed_without_a_successful_poll_for_three_intervals_fails(app: App) -> None:
    async with app.db.session() as session:
        await save_cursor(session, "fts", cursor=None, watermark=None)
        await save_cursor(session, "cf", cursor=None, watermark=None)
    assert (await _get(app))[0] == 200
    app.services.clock = lambda: utcnow() + timedelta(minutes=50)  # fts: 3 × 15m passed
    async with app.db.session() as session:
        await record_poll_error(session, "fts", "HTTP 503 from the feed")
    status, report = await _get(app)
    assert status == 503 and report["ok"] is False
    assert report["checks"]["feed fts"].startswith("no successful poll for 0.8 h")
    assert "HTTP 503 from the feed" in report["checks"]["feed fts"]
    assert report["checks"]["feed cf"] == "ok"  # hourly: 50 minutes is not late


async def test_an_update_nobody_handles_fails_the_inbox_check(app: App) -> None:
    async with app.db.session() as session:
        await store_update(session, 1, 42, {"update_id": 1}, utcnow())
    assert (await _get(app))[0] == 200
    app.services.clock = lambda: utcnow() + timedelta(minutes=20)
    status, report = await _get(app, "all")
    assert status == 503 and report["role"] == "all"
    assert report["checks"]["inbox"] == "1 waiting, the oldest for 20 min: is a worker running?"
