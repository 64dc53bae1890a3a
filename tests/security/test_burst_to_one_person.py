"""Issue #18.9: a burst of alerts to one person never hides a notice behind "…and N more".

A real ``bestbot poll`` reads 100 new notices that all match one Telegram subscriber; they
are grouped, far more than one message can hold. Every notice is shown in exactly one
message, each delivery row is marked sent with the id of the message that shows it, and
what did not fit went in the next message ("…and N more in my next message"), not nowhere.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from storage.db import Database
from storage.models import DeliveryRow, NoticeRow
from tests.fakes.feed_server import FeedServer
from tests.fakes.flood import FloodLimits
from tests.fakes.telegram_api import FakeTelegram
from tests.security.kit import Procs, fresh_release

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]
CHAT = 8801
COUNT = 100


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits=FloodLimits().scaled(20)) as server:
        server.add_user(CHAT, "Bo")
        yield server


def _title(n: int) -> str:
    return f"DISTRICT HEATING network extension, Harrogate North, scheme number {n:03d}"


async def test_a_burst_of_100_alerts_shows_every_notice_once(
    tmp_path: Path, fake: FakeTelegram, database: Database
) -> None:
    async with FeedServer(fts_page_size=50) as feeds:
        feeds.releases["fts"] = [fresh_release(n, _title(n)) for n in range(COUNT)]
        procs = Procs(
            tmp_path,
            {
                "database": {"url": database.url},
                "telegram": {"token": fake.token, "base_url": fake.base_url},
                "web": {"secret_key": "burst-secret-key-0123"},
                "alerts": {"quiet_hours": "off", "group_within": "1m"},
                "feeds": [{"name": "fts", "kind": "find_a_tender", "url": feeds.fts_url}],
            },
        )
        try:
            await procs.import_subscribers(
                [{"telegram_id": CHAT, "name": "Bo", "keywords": ["district heating"]}]
            )
            poll = await procs.run("poll", within=80)
        finally:
            await procs.close()
    assert poll.process.returncode == 0, poll.stderr()[-3000:]
    messages = fake.messages(CHAT)
    assert len(messages) > 1  # it could not all fit in one
    shown = {n: [m.message_id for m in messages if _title(n) in m.text] for n in range(COUNT)}
    assert {n: ids for n, ids in shown.items() if len(ids) != 1} == {}
    for message in messages[:-1]:  # every full message says the rest comes next
        assert re.search(r"…and [\d,]+ more in my next message", message.text), message.text
    assert "more in my next message" not in messages[-1].text
    async with database.session() as session:
        rows = (await session.exec(select(DeliveryRow, NoticeRow.title).join(NoticeRow))).all()
    assert len(rows) == COUNT
    for row, title in rows:
        number = int(title.rsplit(" ", 1)[1])
        assert row.status == "sent" and row.message_ref == str(shown[number][0]), (row, title)
