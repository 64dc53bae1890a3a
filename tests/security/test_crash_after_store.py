"""Issue #17.1: ``kill -9`` between storing a notice and queueing its alerts loses nothing.

A real ``bestbot poll`` process reads the first page of a feed (two new notices that match
every subscriber), stores it, and is killed while it waits for the second page — the notices
are in the database and no alert is queued yet. The next ``poll`` resumes at the second page
(the first is never served again), and still every subscriber hears of all four notices,
each once: a stored version that was not matched is a durable fact (``matched_at`` NULL).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, func, select

from storage.db import Database
from storage.models import DeliveryRow, NoticeVersionRow
from tests.fakes.feed_server import Fault, FeedServer
from tests.fakes.flood import FloodLimits
from tests.fakes.smtp import SmtpSink
from tests.fakes.telegram_api import FakeTelegram
from tests.security.kit import Procs, free_port, fresh_release, until

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]
CHATS = list(range(8301, 8307))
TITLES = [f"DISTRICT HEATING network, lot {n}" for n in range(1, 5)]


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits=FloodLimits().scaled(20)) as server:
        for chat in CHATS:
            server.add_user(chat, f"User {chat}")
        yield server


def config(db_url: str, fake: FakeTelegram, feed_url: str) -> dict[str, Any]:
    return {
        "database": {"url": db_url},
        "telegram": {"token": fake.token, "base_url": fake.base_url},
        "web": {"secret_key": "crash-test-secret-key"},
        "alerts": {"quiet_hours": "off", "group_within": "0s"},
        "feeds": [{"name": "fts", "kind": "find_a_tender", "url": feed_url, "every": "1m"}],
    }


async def _count(db: Database, model: Any, *where: Any) -> int:
    async with db.session() as session:
        query = select(func.count()).select_from(model).where(*where)
        return int((await session.exec(query)).one())


async def test_a_poll_killed_after_storing_a_page_loses_no_alert(
    tmp_path: Path, fake: FakeTelegram, database: Database
) -> None:
    async with FeedServer(fts_page_size=2) as feeds:
        feeds.releases["fts"] = [fresh_release(n, t) for n, t in enumerate(TITLES, 1)]
        # page one is served; the request for page two hangs until the process is killed
        feeds.script(Fault.ok(source="fts"), Fault.delay(120, source="fts"))
        procs = Procs(tmp_path, config(database.url, fake, feeds.fts_url))
        try:
            await procs.import_subscribers(
                {"telegram_id": c, "name": f"E{c}", "keywords": ["district heating"]} for c in CHATS
            )
            first = await procs.start("poll", name="poll-killed")

            async def page_one_stored() -> bool:
                return await _count(database, NoticeVersionRow) == 2

            await until("the first page to be stored", page_one_stored)

            async def page_two_asked() -> bool:
                return len(feeds.requests_to("fts")) >= 2

            await until("the request for page two", page_two_asked)
            await first.kill()
            # the window #17.1 is about: stored, not matched, nothing queued
            unmatched = col(NoticeVersionRow.matched_at).is_(None)
            assert await _count(database, NoticeVersionRow, unmatched) == 2
            assert await _count(database, DeliveryRow) == 0
            assert fake.calls("sendMessage") == []

            second = await procs.run("poll", name="poll-after")
            assert second.process.returncode == 0, second.stderr()[-3000:]
        finally:
            await procs.close()
        served = [r.query.get("cursor") for r in feeds.requests_to("fts")]
    # the killed poll's lease is taken over at once (its process is gone), not waited out
    assert "no longer running; taken over" in second.stderr(), second.stderr()[-3000:]
    # the restart resumed at page two: page one was never served to it
    assert served[0] is None and all(c is not None for c in served[1:]), served
    # it matched the two notices the killed poll had stored, and the two it read itself
    assert f"{4 * len(CHATS)} alerts queued" in second.output(), second.output()
    for chat in CHATS:
        texts = [m.text for m in fake.messages(chat)]
        for title in TITLES:
            assert sum(title in t for t in texts) == 1, (chat, title, texts)
    assert await _count(database, NoticeVersionRow, col(NoticeVersionRow.matched_at).is_(None)) == 0
    assert await _count(database, DeliveryRow, col(DeliveryRow.status) != "sent") == 0
    for proc in (first, second):
        assert "Traceback" not in proc.stderr(), proc.stderr()[-3000:]


KILL_AFTER = (0.05, 0.2, 0.5, 1.0)  # seconds after the feed served the new notice
PEOPLE = CHATS[:4]


async def test_bestbot_run_killed_again_and_again_loses_no_alert(
    tmp_path: Path, fake: FakeTelegram, database: Database
) -> None:
    """#17.1 as the issue met it: ``bestbot run`` killed at 0.05–1 s after the feed served a
    new notice, round after round; in the end every subscriber has every alert, by Telegram
    and by email, and nothing is repeated beyond what was in flight at a kill."""
    titles = [f"DISTRICT HEATING network, phase {n}" for n in range(1, len(KILL_AFTER) + 2)]
    async with FeedServer(fts_page_size=10) as feeds, SmtpSink() as smtp:
        settings = config(database.url, fake, feeds.fts_url)
        settings["email"] = {
            "from_address": "SEEM alerts <alerts@seem.example.org>",
            "smtp_host": smtp.hostname,
            "smtp_port": smtp.port,
            "starttls": False,
        }
        settings["web"]["port"] = free_port()
        feeds.releases["fts"] = []
        procs = Procs(tmp_path, settings)
        try:
            await procs.import_subscribers(
                {
                    "telegram_id": c,
                    "email": f"e{c}@example.org",
                    "name": f"E{c}",
                    "keywords": ["district heating"],
                }
                for c in PEOPLE
            )
            for n, delay in enumerate(KILL_AFTER):
                feeds.releases["fts"].append(fresh_release(100 + n, titles[n]))
                asked = len(feeds.requests_to("fts"))
                proc = await procs.start("run", name=f"run-{n}")

                async def served(before: int = asked) -> bool:
                    return len(feeds.requests_to("fts")) > before

                await until("the feed to be read", served)
                await asyncio.sleep(delay)
                await proc.kill()
            feeds.releases["fts"].append(fresh_release(200, titles[-1]))
            last = await procs.start("run", name="run-last")

            async def everyone_has_everything() -> bool:
                return all(
                    _shown(fake, smtp, chat, title) >= (1, 1) for chat in PEOPLE for title in titles
                )

            try:
                await until("every alert on both channels", everyone_has_everything, within=45)
            except AssertionError as exc:
                missing = [
                    (chat, title, _shown(fake, smtp, chat, title))
                    for chat in PEOPLE
                    for title in titles
                    if _shown(fake, smtp, chat, title) < (1, 1)
                ]
                async with database.session() as session:
                    rows = (await session.exec(select(DeliveryRow))).all()
                states = sorted({(r.notice_id, r.channel, r.status, r.attempts) for r in rows})
                detail = f"missing {missing}; rows {states}; {procs.logs()[-6000:]}"
                raise AssertionError(detail) from exc
            await asyncio.sleep(1.0)  # nothing late either
            assert await last.stop() == 0, last.stderr()[-3000:]
        finally:
            await procs.close()
    repeats = sum(sum(_shown(fake, smtp, chat, title)) - 2 for chat in PEOPLE for title in titles)
    # A kill repeats at most what was in flight: the courier sends 8 at a time per channel.
    assert repeats <= len(KILL_AFTER) * 2 * 8, repeats
    assert await _count(database, DeliveryRow, col(DeliveryRow.status) != "sent") == 0
    assert "Traceback" not in last.stderr(), last.stderr()[-3000:]


def _shown(fake: FakeTelegram, smtp: SmtpSink, chat: int, title: str) -> tuple[int, int]:
    """How many times ``title`` reached ``chat`` on Telegram, and its address by email."""
    telegram = sum(title in m.text for m in fake.messages(chat))
    email = sum(title in (m.text or "") for m in smtp.to(f"e{chat}@example.org"))
    return telegram, email
