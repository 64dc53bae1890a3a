"""Issue #18.7: several ``bestbot poll`` started together on one SQLite file (a cron line
that overlaps itself, or three started by hand) send every alert once.

Three real ``poll`` processes, started at the same moment on one SQLite database, with 480
alerts due (60 subscribers × 8 new notices, more than one claim batch): one polls the feed
(the others find its lease and say so), all three match and send. Claims are
``BEGIN IMMEDIATE`` transactions, so no two processes ever take the same row; pages are
stored the same way, so no poll fails with "database is locked".
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from storage.db import Database
from storage.models import DeliveryRow
from tests.fakes.feed_server import FeedServer
from tests.fakes.flood import FloodLimits
from tests.fakes.telegram_api import FakeTelegram
from tests.security.kit import Procs, fresh_release

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]
CHATS = list(range(8601, 8661))
TITLES = [f"DISTRICT HEATING network, area {n}" for n in range(1, 9)]


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits=FloodLimits().scaled(20)) as server:
        for chat in CHATS:
            server.add_user(chat, f"User {chat}")
        yield server


async def test_three_polls_at_once_on_one_sqlite_file_send_each_alert_once(
    tmp_path: Path, fake: FakeTelegram, database: Database
) -> None:
    async with FeedServer(fts_page_size=4) as feeds:
        feeds.releases["fts"] = [fresh_release(n, t) for n, t in enumerate(TITLES, 1)]
        procs = Procs(
            tmp_path,
            {
                "database": {"url": database.url},
                "telegram": {"token": fake.token, "base_url": fake.base_url},
                "web": {"secret_key": "three-polls-secret-key"},
                "alerts": {"quiet_hours": "off", "group_within": "1s"},
                "feeds": [{"name": "fts", "kind": "find_a_tender", "url": feeds.fts_url}],
            },
        )
        try:
            await procs.import_subscribers(
                {"telegram_id": c, "name": f"E{c}", "keywords": ["district heating"]} for c in CHATS
            )
            polls = [await procs.start("poll", name=f"poll-{n}") for n in range(3)]
            codes = await asyncio.gather(*(p.wait(90) for p in polls))
            # what the first ones queued but a later one had not yet claimed: a last cron run
            last = await procs.run("poll", name="poll-last", within=60)
        finally:
            await procs.close()
    assert codes == [0, 0, 0], [p.stderr()[-2000:] for p in polls]
    assert last.process.returncode == 0
    outputs = [p.output() for p in polls]
    assert sum("fts: 8 new" in o for o in outputs) == 1, outputs  # one read the feed…
    assert sum("another worker is polling this feed" in o for o in outputs) <= 2, outputs
    for chat in CHATS:
        texts = [m.text for m in fake.messages(chat)]
        for title in TITLES:
            assert sum(title in t for t in texts) == 1, (chat, title, texts)
    async with database.session() as session:
        rows = (await session.exec(select(DeliveryRow))).all()
    assert len(rows) == len(CHATS) * len(TITLES) and {r.status for r in rows} == {"sent"}
    for proc in (*polls, last):
        assert "Traceback" not in proc.stderr(), proc.stderr()[-3000:]
        assert "database is locked" not in proc.stderr() + proc.output()
