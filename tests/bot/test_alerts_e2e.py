"""The main job end to end: a real Contracts Finder sample as a file feed, the composed
App with the channels built from the config, the fake Bot API and an aiosmtpd server.

The notice: "Hampshire Primary Cluster 4 Catering Tender", published 23 Jan 2025 17:45 UTC,
closing 7 Mar 2025 13:00. The clock is fixed just after its publication.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.app import App, channels
from bot.config import config_from_dict
from storage.db import Database
from storage.models import DeliveryRow
from storage.subscribers import SubscriberInput, upsert_subscriber
from tests.conftest import SAMPLES
from tests.fakes.flood import FloodLimits
from tests.fakes.smtp import SmtpSink
from tests.fakes.telegram_api import FakeTelegram

SAMPLE = SAMPLES / "cf_ocds_search_2025-01-20_to_2025-01-23_page1.json"
OCID = "ocds-b5fd17-8e9e80b5-0a39-4580-a5f2-2b35442a9378"
TITLE = "Hampshire Primary Cluster 4 Catering Tender"
ANN, BEN, CAT = 8001, 8002, 8003
EDDIE = "eddie@example.org"
PUBLIC_URL = "https://alerts.example.org"

# 429s from the fake are paced by PTB, whose RetryAfter reads its deprecated int retry_after
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits=FloodLimits().scaled(20)) as server:
        for uid in (ANN, BEN, CAT):
            server.add_user(uid)
        yield server


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as sink:
        yield sink


def _amended(tmp_path: Path) -> Path:
    """The same procurement re-published a day later with its deadline moved a week."""
    package = json.loads(SAMPLE.read_text(encoding="utf-8"))
    (release,) = [r for r in package["releases"] if r["ocid"] == OCID]
    release = copy.deepcopy(release)
    release["id"] += "-amended"
    release["date"] = "2025-01-24T10:00:00Z"
    release["tender"]["tenderPeriod"]["endDate"] = "2025-03-14T13:00:00Z"
    package["releases"] = [release]
    path = tmp_path / "amended.json"
    path.write_text(json.dumps(package), encoding="utf-8")
    return path


def _config(fake: FakeTelegram, smtp: SmtpSink, database: Database, feed: Path) -> Any:
    return config_from_dict(
        {
            "database": {"url": database.url},
            "telegram": {"token": fake.token, "base_url": fake.base_url},
            "email": {
                "from_address": "BEST Procurement alerts <alerts@seem.example.org>",
                "smtp_host": smtp.hostname,
                "smtp_port": smtp.port,
                "starttls": False,
            },
            "web": {"public_url": PUBLIC_URL, "secret_key": "s" * 32},
            "feeds": [{"name": "cf-sample", "kind": "file", "path": str(feed)}],
            "alerts": {"quiet_hours": "off"},
        },
        env={},
    )


async def _subscribe(db: Database, chat: int | None, email: str | None, kw: list[str]) -> int:
    async with db.session() as session:
        sub_id, _ = await upsert_subscriber(
            session,
            SubscriberInput(
                name=None,
                email=email,
                telegram_chat_id=chat,
                frequency="instant",
                profile={"keywords": kw},
            ),
        )
    return sub_id


async def _cycle(config: Any, clock: datetime) -> Any:
    async with (
        channels(config, receive=False) as (_bot, telegram, email),
        App(config, clock=lambda: clock, telegram=telegram, email=email) as app,
    ):
        assert telegram is not None and email is not None
        return await app.cycle()


async def _deliveries(db: Database) -> list[DeliveryRow]:
    async with db.session() as session:
        return list((await session.exec(select(DeliveryRow))).all())


async def test_alert_by_telegram_and_email_once_then_one_update(
    fake: FakeTelegram, smtp: SmtpSink, database: Database, tmp_path: Path
) -> None:
    ann = await _subscribe(database, ANN, None, ["catering"])
    eddie = await _subscribe(database, None, EDDIE, ["catering services"])
    ben = await _subscribe(database, BEN, None, ["grazing"])
    config = _config(fake, smtp, database, SAMPLE)

    report = await _cycle(config, datetime(2025, 1, 23, 18, 0, tzinfo=UTC))
    assert report.ok, report.polls

    # Telegram: exactly one HTML message with the title linked and the buttons.
    (alert,) = fake.messages(ANN)
    assert alert.parse_mode == "HTML"
    assert alert.text.startswith(f"🔔 Bid by 7 Mar — tender\n{TITLE}\n")
    assert len(alert.links) == 1 and "contractsfinder.service.gov.uk" in alert.links[0]
    assert "closes Fri 7 Mar, 13:00 — 43 days left" in alert.text
    assert "Why: matched “catering” in the title" in alert.text
    texts = [b["text"] for b in alert.buttons]
    assert texts == [
        "👍 Relevant",
        "👎 Not relevant",
        "🔕 Mute “catering”",
        "⏰ Remind me",
        "❓ Ask an adviser",
        "🤝 Open to partners",
    ]

    # Email: exactly one multipart/alternative message with the unsubscribe headers.
    (mail,) = smtp.to(EDDIE)
    message = mail.message
    assert message.get_content_type() == "multipart/alternative"
    assert {p.get_content_type() for p in message.iter_parts()} == {"text/plain", "text/html"}
    assert TITLE in mail.subject
    unsubscribe = mail.header("List-Unsubscribe") or ""
    assert f"<{PUBLIC_URL}/unsubscribe/" in unsubscribe and "<mailto:" in unsubscribe
    assert mail.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert mail.header("Auto-Submitted") == "auto-generated"

    rows = await _deliveries(database)
    catering = [r for r in rows if r.subscriber_id in (ann, eddie)]
    assert sorted((r.subscriber_id, r.channel) for r in catering) == [
        (ann, "telegram"),
        (eddie, "email"),
    ]
    assert {r.status for r in rows} == {"sent"}
    (grazing,) = fake.messages(BEN)  # Ben's own match, not the catering one
    assert grazing.text.startswith("🔔 Bid by 14 Feb — tender\nLinking Levisham Grazing Assessment")
    assert [r.channel for r in rows if r.subscriber_id == ben] == ["telegram"]

    # The same feed again: nothing new anywhere.
    again = await _cycle(config, datetime(2025, 1, 23, 18, 15, tzinfo=UTC))
    assert again.dispatch.claimed == 0 and again.matching.queued == 0
    assert len(fake.messages(ANN)) == 1 and len(smtp.messages) == 1
    assert len(await _deliveries(database)) == len(rows)

    # Someone who starts matching only now must not get an update for an alert never sent.
    await _subscribe(database, CAT, None, ["catering"])

    # The buyer moves the deadline: one update, to the alerted subscribers only.
    amended = _config(fake, smtp, database, _amended(tmp_path))
    changed = await _cycle(amended, datetime(2025, 1, 24, 10, 5, tzinfo=UTC))
    assert changed.matching.updates == 2
    original, update = fake.messages(ANN)
    assert update.text.startswith(f"🔄 Update: {TITLE} — deadline moved from 7 Mar to 14 Mar")
    assert update.links == alert.links
    # Telegram: the first alert is edited in place, so it never shows the old date
    assert original.message_id == alert.message_id
    assert original.text.startswith(
        f"📝 Changed: deadline moved from 7 Mar to 14 Mar\n🔔 Bid by 14 Mar — tender\n{TITLE}"
    )
    assert (
        "closes Fri 14 Mar, 13:00" in original.text
        and "7 Mar" not in original.text.split("\n", 1)[1]
    )
    assert [b["text"] for b in original.buttons] == texts
    assert len(smtp.to(EDDIE)) == 2
    assert "deadline moved from 7 Mar to 14 Mar" in (smtp.to(EDDIE)[1].text or "")
    assert fake.messages(CAT) == [] and fake.messages(BEN) == [grazing]
    updates = [r for r in await _deliveries(database) if r.kind == "update"]
    assert sorted((r.subscriber_id, r.channel, r.status) for r in updates) == [
        (ann, "telegram", "sent"),
        (eddie, "email", "sent"),
    ]
    errors = [r for r in fake.errors() if r.status != 429]
    assert errors == [], [(r.method, r.description) for r in errors]
