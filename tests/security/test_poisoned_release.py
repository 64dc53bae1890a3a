"""Issues #17.3 and #18.4 as the service meets them: releases that can't be stored never stop
a feed, and are named — by id — in the log and in /healthz.

A real ``bestbot run`` polls a feed whose page holds a release with a lone surrogate in its
ocid (``\\ud800``: PostgreSQL and UTF-8 refuse it), one with a 5,000-character ocid (wider
than the column), and a good one. The good one is stored and alerted; the two are skipped,
each logged with its id, and /healthz names them under the feed while saying it is ok.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from storage.db import Database
from tests.fakes.feed_server import FeedServer
from tests.fakes.flood import FloodLimits
from tests.fakes.telegram_api import FakeTelegram
from tests.security.kit import Procs, free_port, fresh_release, until

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]
CHAT = 8701


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits=FloodLimits().scaled(20)) as server:
        server.add_user(CHAT, "Pat")
        yield server


async def test_poisoned_releases_are_skipped_named_and_the_feed_goes_on(
    tmp_path: Path, fake: FakeTelegram, database: Database
) -> None:
    surrogate = fresh_release(1, "DISTRICT HEATING poisoned")
    surrogate["ocid"] = "ocds-h6vhtk-\ud800bad"
    long_ocid = fresh_release(2, "DISTRICT HEATING too long")
    long_ocid["ocid"] = "ocds-h6vhtk-" + "9" * 5000
    good = fresh_release(3, "DISTRICT HEATING network, the good one")
    port = free_port()
    async with FeedServer() as feeds:
        feeds.releases["fts"] = [surrogate, long_ocid, good]
        procs = Procs(
            tmp_path,
            {
                "database": {"url": database.url},
                "telegram": {"token": fake.token, "base_url": fake.base_url},
                "web": {"host": "127.0.0.1", "port": port, "secret_key": "poison-secret-key"},
                "alerts": {"quiet_hours": "off"},
                "feeds": [{"name": "fts", "kind": "find_a_tender", "url": feeds.fts_url}],
            },
        )
        try:
            await procs.import_subscribers(
                [{"telegram_id": CHAT, "name": "P", "keywords": ["district heating"]}]
            )
            run = await procs.start("run", name="run")
            [alert] = await fake.wait_for_messages(CHAT, 1, timeout=45)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as web:

                async def reported() -> bool:
                    body = (await web.get("/healthz")).json()
                    return bool(body.get("feeds", {}).get("fts", {}).get("skipped"))

                await until("/healthz to name the skipped releases", reported)
                health = await web.get("/healthz")
            assert await run.stop() == 0, run.stderr()[-3000:]
        finally:
            await procs.close()
    assert "the good one" in alert.text and len(fake.messages(CHAT)) == 1
    body = health.json()
    assert health.status_code == 200 and body["ok"] is True, body
    check = body["checks"]["feed fts"]
    assert check.startswith("ok (2 releases skipped lately"), check
    problems = [s["problem"] for s in body["feeds"]["fts"]["skipped"]]
    assert any("ocds-h6vhtk-\\ud800bad" in p for p in problems), problems
    assert any("ocds-h6vhtk-999" in p and "5,012 characters" in p for p in problems), problems
    assert body["feeds"]["fts"]["last_error"] is None
    log = run.stderr()
    assert "ocds-h6vhtk-\\ud800bad" in log and "Traceback" not in log
