"""The weekly market report through the message outbox, ``/report`` and admins' ``/stats``:
the real composition root, the fake Bot API and a real SMTP sink, a database holding the
bundled samples as polling stores them."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from PIL import Image
from sqlmodel import col, select

from bot.app import App
from bot.config import Config, config_from_dict
from bot.reports.weekly import due_slot, run_weekly
from feeds.order import notice_key
from storage.db import Database
from storage.enquiries import AdviserInput, upsert_advisers
from storage.models import FeedCursorRow, MessageRow, ReportRow
from storage.notices import store_notice
from storage.subscribers import SubscriberInput, upsert_subscriber
from tests.fakes.flood import FloodLimits
from tests.fakes.harness import register_fake, running_bot, settle
from tests.fakes.smtp import SmtpSink
from tests.fakes.telegram_api import FakeTelegram, SentMessage
from tests.reports.kit import sample_notices

ADVISER = 8001  # Telegram and email
ADMIN = 8009
ENTERPRISE = 8100
#: Monday 17 March 2025, 08:30 in London: the report of 10-17 March is due (at 08:00).
MONDAY = datetime(2025, 3, 17, 8, 30, tzinfo=UTC)

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits=FloodLimits().scaled(20)) as server:
        for uid, name in ((ADVISER, "Adam"), (ADMIN, "Ada"), (ENTERPRISE, "Ent")):
            server.add_user(uid, name)
        register_fake(server)
        yield server


def make_config(database: Database, fake: FakeTelegram, smtp: SmtpSink) -> Config:
    return config_from_dict(
        {
            "database": {"url": database.url},
            "web": {"secret_key": "weekly-report-test-key"},
            "telegram": {"token": fake.token, "base_url": fake.base_url, "admin_ids": [ADMIN]},
            "email": {
                "from_address": "SEEM reports <reports@seem.example.org>",
                "smtp_host": smtp.hostname,
                "smtp_port": smtp.port,
                "starttls": False,
            },
            "alerts": {"quiet_hours": "off"},
            "reports": {"region": "UK", "weekly_day": "Mon", "hour": 8},
            "feeds": [],
        },
        env={},
    )


async def seed(db: Database) -> None:
    async with db.session() as session:
        for notice in sorted(sample_notices(), key=notice_key):
            await store_notice(session, notice)
        await upsert_advisers(
            session,
            [
                AdviserInput(
                    "a",
                    "Adam Adviser",
                    ["tendering"],
                    5,
                    email="adam@seem.example.org",
                    telegram_id=ADVISER,
                ),
                AdviserInput("b", "Bea Adviser", ["finance"], 5, email="bea@seem.example.org"),
            ],
        )


async def rows(db: Database, model: Any, *where: Any) -> list[Any]:
    async with db.session() as session:
        return list((await session.exec(select(model).where(*where))).all())


def album(fake: FakeTelegram, chat: int) -> list[SentMessage]:
    return [m for m in fake.messages(chat) if m.method == "sendMediaGroup"]


def check_chart(data: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (1080, 1080)


def check_report_mail(message: EmailMessage, report: dict[str, Any]) -> None:
    """HTML with every chart inline (cid references that resolve) and the CSV attached."""
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    body = str(html.get_content())
    assert "Contracts ending in the next 18 months" in body
    related = {
        str(part["Content-ID"]).strip("<>"): part
        for part in message.walk()
        if part.get_content_maintype() == "image"
    }
    assert len(related) == 3
    for content_id, part in related.items():
        assert f'src="cid:{content_id}"' in body
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        check_chart(payload)
    [attached] = [p for p in message.iter_attachments() if p.get_content_type() == "text/csv"]
    assert str(attached.get_filename()).startswith("market-report-2025-03-17")
    table = list(csv.DictReader(io.StringIO(attached.get_content())))
    figures = {(r["section"], r["key"]): r["value"] for r in table if not r["ocid"]}
    assert figures[("opportunities", "total")] == str(report["opportunities"]["total"])
    ending = [r["ocid"] for r in table if r["section"] == "contracts_ending"]
    assert ending == [e["ocid"] for e in report["contracts_ending"]]
    text = message.get_body(preferencelist=("plain",))
    assert text is not None and "Market report: United Kingdom" in str(text.get_content())


async def test_the_weekly_report_reaches_advisers_and_admins(
    fake: FakeTelegram, database: Database, smtp_server: SmtpSink
) -> None:
    await seed(database)
    clock = Clock(MONDAY)
    config = make_config(database, fake, smtp_server)
    async with running_bot(config, clock=clock) as running:
        run = await run_weekly(running.services)
        assert run.made and run.key == "weekly:2025-03-17:UK"
        assert run.queued == 4  # Adam: Telegram + email; Bea: email; the admin: Telegram
        [stored] = await rows(database, ReportRow)
        report = stored.data
        assert report["window"]["from"] == "2025-03-10T08:00:00+00:00"
        assert report["opportunities"]["total"] > 0
        for chat in (ADVISER, ADMIN):
            [summary] = [m for m in fake.messages(chat) if m.text.startswith("📊")]
            assert summary.text.startswith("📊 Market report: United Kingdom (UK), 10 Mar 2025")
            photos = album(fake, chat)
            assert len(photos) == 3 and len({m.media_group_id for m in photos}) == 1
            for message in photos:
                assert message.photo is not None
                check_chart(message.photo.data)
        assert not [m for m in fake.messages(ENTERPRISE) if m.text.startswith("📊")]
        mails = await smtp_server.wait_for_messages(2)
        assert sorted(m.rcpt_tos[0] for m in mails) == [
            "adam@seem.example.org",
            "bea@seem.example.org",
        ]
        for mail in mails:
            assert mail.subject.startswith("Market report: United Kingdom (UK)")
            check_report_mail(mail.message, report)

        # once per slot: the next hourly check, and a later one the same week, do nothing
        clock.now = MONDAY + timedelta(hours=1)
        again = await run_weekly(running.services)
        assert (again.made, again.reason) == (False, "already made")
        clock.now = MONDAY + timedelta(days=3)
        assert (await run_weekly(running.services)).reason == "not due"
        assert len(await rows(database, MessageRow)) == 4
        assert all(r.status == "sent" for r in await rows(database, MessageRow))


async def test_rows_are_written_before_anything_is_sent(
    fake: FakeTelegram, database: Database, smtp_server: SmtpSink
) -> None:
    """Made by a worker with no channels (as if it died before sending): the report and its
    four messages wait in the outbox; the next worker with channels sends them, once."""
    await seed(database)
    config = make_config(database, fake, smtp_server)
    async with App(config, clock=Clock(MONDAY)) as silent:
        run = await run_weekly(silent.services)
    assert run.made and run.queued == 4
    pending = await rows(database, MessageRow, col(MessageRow.status) == "pending")
    assert len(pending) == 4 and album(fake, ADVISER) == [] and smtp_server.messages == []
    async with running_bot(config, clock=Clock(MONDAY + timedelta(minutes=5))) as running:
        await running.services.send_messages()
        assert (await run_weekly(running.services)).reason == "already made"
    assert len(album(fake, ADVISER)) == 3 and len(album(fake, ADMIN)) == 3
    assert len(smtp_server.messages) == 2
    assert all(r.status == "sent" for r in await rows(database, MessageRow))


async def test_two_workers_make_one_report(
    fake: FakeTelegram, database: Database, smtp_server: SmtpSink
) -> None:
    await seed(database)
    config = make_config(database, fake, smtp_server)
    async with (
        App(config, clock=Clock(MONDAY), worker_id="w1") as one,
        App(config, clock=Clock(MONDAY), worker_id="w2") as two,
    ):
        runs = await asyncio.gather(run_weekly(one.services), run_weekly(two.services))
    assert sorted(r.made for r in runs) == [False, True]
    assert len(await rows(database, ReportRow)) == 1
    assert len(await rows(database, MessageRow)) == 4


def test_the_slot_is_the_configured_hour_in_london() -> None:
    from zoneinfo import ZoneInfo

    london = ZoneInfo("Europe/London")
    # Monday 8:00 in summer time is 07:00 UTC
    slot = due_slot(datetime(2025, 6, 16, 7, 30, tzinfo=UTC), london, 0, 8)
    assert slot.astimezone(UTC) == datetime(2025, 6, 16, 7, 0, tzinfo=UTC)
    before = due_slot(datetime(2025, 6, 16, 6, 59, tzinfo=UTC), london, 0, 8)
    assert before.astimezone(UTC) == datetime(2025, 6, 9, 7, 0, tzinfo=UTC)
    sunday = due_slot(datetime(2025, 6, 22, 12, tzinfo=UTC), london, 0, 8)
    assert sunday.date().isoformat() == "2025-06-16"


async def _send(
    fake: FakeTelegram, running: Any, chat: int, text: str, n: int
) -> list[SentMessage]:
    before = len(fake.messages(chat))
    fake.user_sends(chat, text)
    await fake.wait_for_messages(chat, before + n)
    await settle(fake, running)
    return fake.messages(chat)[before:]


async def test_report_on_demand_is_for_advisers_and_admins_only(
    fake: FakeTelegram, database: Database, smtp_server: SmtpSink
) -> None:
    await seed(database)
    async with database.session() as session:
        await upsert_subscriber(
            session,
            SubscriberInput(
                name="Ent", email=None, frequency="instant", telegram_chat_id=ENTERPRISE, profile={}
            ),
        )
    config = make_config(database, fake, smtp_server)
    async with running_bot(config, clock=Clock(MONDAY)) as running:
        [refused] = await _send(fake, running, ENTERPRISE, "/report", 1)
        assert refused.text.startswith("Sorry, I don't know /report")
        # no report yet: one is made for the last seven days, then sent
        got = await _send(fake, running, ADMIN, "/report", 5)
        assert got[0].text.startswith("Preparing the latest market report")
        assert got[1].text.startswith("📊 Market report: United Kingdom (UK)")
        assert [m.method for m in got[2:]] == ["sendMediaGroup"] * 3
        [made] = await rows(database, ReportRow)
        assert made.key.startswith("adhoc:")
        # the adviser gets the same, latest report (none is made twice)
        got = await _send(fake, running, ADVISER, "/report", 5)
        assert got[1].text == fake.messages(ADMIN)[1].text
        assert len(await rows(database, ReportRow)) == 1
        assert smtp_server.messages == []  # on demand: to the chat that asked


async def test_stats_headline_numbers(
    fake: FakeTelegram, database: Database, smtp_server: SmtpSink
) -> None:
    now = MONDAY
    async with database.session() as session:
        for chat in (9101, 9102, 9103):
            await upsert_subscriber(
                session,
                SubscriberInput(
                    name=f"S{chat}",
                    email=None,
                    frequency="instant",
                    telegram_chat_id=chat,
                    profile={},
                ),
            )
        session.add(
            FeedCursorRow(
                feed="find_a_tender",
                last_poll_at=now - timedelta(minutes=10),
                last_success_at=now - timedelta(minutes=10),
            )
        )
        session.add(
            FeedCursorRow(
                feed="contracts_finder",
                last_poll_at=now - timedelta(minutes=5),
                last_success_at=now - timedelta(days=2),
                last_error="HTTP 503 <Service Unavailable>",
            )
        )
    from storage.models import SubscriberRow

    async with database.session() as session:
        row = (await session.exec(select(SubscriberRow).where(SubscriberRow.name == "S9103"))).one()
        row.paused = True
        session.add(row)
        old = (await session.exec(select(SubscriberRow).where(SubscriberRow.name == "S9102"))).one()
        old.created_at = now - timedelta(days=30)
        session.add(old)
    config = make_config(database, fake, smtp_server)
    clock: Callable[[], datetime] = Clock(now)
    async with running_bot(config, clock=clock) as running:
        [stats] = await _send(fake, running, ADMIN, "/stats", 1)
    lines = stats.text.splitlines()
    assert lines[0] == "This week"
    assert lines[1] == "Subscribers: 2 active, 1 paused, 2 new this week (3 in all)"
    assert lines[2] == "Alerts sent: 0 (failed: 0, waiting: 0)"
    assert (
        "⚠️ contracts_finder: last read 2 days ago — last error: HTTP 503 <Service Unavailable>"
        in lines
    )
    assert "✅ find_a_tender: last read 10 min ago" in lines
