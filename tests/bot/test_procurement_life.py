"""Alerts that follow the procurement, end to end: real-shaped FTS releases of one procurement
arriving one after another (``tests/bot/life_kit.py``), the composed App, the fake Bot API
and an SMTP sink.

Northumberland's heat networks: UK1 pipeline → UK2 market engagement → UK3 planned
procurement → UK4 tender → UK12 termination. Central Bedfordshire's supported living
dynamic market: UK13 → UK14 → UK15 → UK16. At each step: who gets what (instant, digest
only, nothing), the follow-up message to those alerted, and the Telegram alert edited in
place; email gets the follow-up only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.db import Database
from tests.bot.life_kit import (
    cycle,
    deliveries,
    dynamic_market_life,
    heat_network_life,
    life_config,
    set_profile,
    struck,
    subscribe,
    write_feed,
)
from tests.fakes.flood import FloodLimits
from tests.fakes.smtp import SmtpSink
from tests.fakes.telegram_api import FakeTelegram

ANN, BEN, CAT = 8101, 8102, 8103
EDDIE = "eddie@example.org"
TITLE = "Northumberland County Council Heat Networks"
DM_TITLE = "Supported Living Dynamic Market"

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


def _no_errors(fake: FakeTelegram) -> None:
    errors = [r for r in fake.errors() if r.status != 429]
    assert errors == [], [(r.method, r.description) for r in errors]


async def test_heat_networks_from_pipeline_to_termination(
    fake: FakeTelegram, smtp: SmtpSink, database: Database, tmp_path: Path
) -> None:
    life = heat_network_life()
    ann = await subscribe(database, chat=ANN, keywords=["heat networks"], cpv=["09"])
    ben = await subscribe(database, chat=BEN, keywords=["heat networks"], cpv=["09"])
    await set_profile(database, ben, kinds_off=["pipeline", "planned"])
    await subscribe(database, email=EDDIE, keywords=["heat networks"], cpv=["09"])

    def step(code: str) -> object:
        return life_config(fake, smtp, database, write_feed(tmp_path, code, life[code]))

    # --- UK1 pipeline: early sight, so only in the digest — even for instant subscribers
    report = await cycle(step("UK1"), datetime(2026, 3, 2, 10, 5, tzinfo=UTC))
    assert report.ok and report.matching.queued == 2  # Ann (Telegram), Eddie (email)
    assert fake.messages(ANN) == [] and smtp.messages == []
    assert await deliveries(database, subscriber_id=ben) == []  # pipeline switched off
    (row,) = await deliveries(database, subscriber_id=ann)
    assert row.due_at == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)  # Ann's digest hour, 08:00

    await cycle(step("UK1"), datetime(2026, 3, 3, 8, 1, tzinfo=UTC))
    (first,) = fake.messages(ANN)
    assert first.text.startswith(f"🔔 Tender expected about Jun — pipeline\n{TITLE}\n")
    assert "📅 tender expected about Jun" in first.text
    assert "£30,000,000" in first.text and "📍 " in first.text
    (mail,) = smtp.to(EDDIE)
    assert mail.subject == f"SEEM alert: {TITLE} — tender expected about Jun"
    body = (mail.text or "").replace("\r\n", "\n")
    assert body.startswith(f"Tender expected about Jun — pipeline\n\n{TITLE}\n")
    assert "Expected: tender expected about Jun" in body

    # --- UK2 market engagement: instant for those who had not heard; a follow-up for Ann
    report = await cycle(step("UK2"), datetime(2026, 4, 9, 12, 5, tzinfo=UTC))
    (engagement,) = fake.messages(BEN)
    assert engagement.text.startswith(f"🔔 Have your say by 24 Apr — market engagement\n{TITLE}")
    assert "📅 closes Fri 24 Apr, 23:59 — 15 days left" in engagement.text
    first_now, follow = fake.messages(ANN)
    assert follow.text == (
        f"🔄 Update: {TITLE} — the buyer wants suppliers' views now; engagement closes on 24 Apr"
        "\n📅 closes Fri 24 Apr, 23:59 — 15 days left"
    )
    # Ann's first alert now says what it is today
    assert first_now.message_id == first.message_id
    assert first_now.text.startswith(
        "📝 Changed: the buyer wants suppliers' views now; engagement closes on 24 Apr\n"
        f"🔔 Have your say by 24 Apr — market engagement\n{TITLE}"
    )
    assert "⏰ Remind me" in [b["text"] for b in first_now.buttons]
    assert report.matching.edits == 1
    assert "the buyer wants suppliers' views now" in (smtp.to(EDDIE)[-1].text or "")

    # --- UK3 planned procurement: a follow-up to the three who know of it
    await cycle(step("UK3"), datetime(2026, 5, 2, 9, 5, tzinfo=UTC))
    planned = "a planned procurement notice is out: the tender may allow only 10 days"
    assert fake.messages(ANN)[-1].text.startswith(f"🔄 Update: {TITLE} — {planned}")
    assert fake.messages(BEN)[-1].text.startswith(f"🔄 Update: {TITLE} — {planned}")
    assert "📅 tender expected about 1 Jun; bids likely due about 6 Jul" in (
        fake.messages(BEN)[-1].text
    )
    ben_first = fake.message(BEN, engagement.message_id)
    assert ben_first.text.startswith(
        f"📝 Changed: {planned}\n🔔 Tender may allow only 10 days — planned procurement\n"
    )
    assert len(smtp.to(EDDIE)) == 3

    # --- UK4 tender: "out now" to those alerted, a new alert for Cat who joined since
    await subscribe(database, chat=CAT, keywords=["heat networks"], cpv=["09"])
    report = await cycle(step("UK4"), datetime(2026, 6, 1, 9, 5, tzinfo=UTC))
    out_now = f"🚀 Out now: {TITLE} — the tender is out now; bids close 10 Jul"
    assert fake.messages(ANN)[-1].text.startswith(out_now)
    assert fake.messages(BEN)[-1].text.startswith(out_now)
    (cat_alert,) = fake.messages(CAT)
    assert cat_alert.text.startswith(f"🔔 Bid by 10 Jul — tender\n{TITLE}\n")
    assert "📅 closes Fri 10 Jul, 12:00 — 39 days left" in cat_alert.text
    assert fake.message(ANN, first.message_id).text.startswith(
        "📝 Changed: the tender is out now; bids close 10 Jul\n🔔 Bid by 10 Jul — tender\n"
    )
    eddie_out = smtp.to(EDDIE)[-1]
    assert eddie_out.subject == f"SEEM update: {TITLE} — the tender is out now"
    assert report.matching.edits == 2 and report.matching.queued == 1

    # --- UK12 procurement termination: cancelled, and every Telegram alert struck through
    await cycle(step("UK12"), datetime(2026, 6, 20, 15, 5, tzinfo=UTC))
    for chat in (ANN, BEN, CAT):
        assert fake.messages(chat)[-1].text == f"❌ Cancelled: {TITLE} — was cancelled"
    for chat, message_id in ((ANN, first.message_id), (BEN, engagement.message_id)):
        withdrawn = fake.message(chat, message_id)
        assert withdrawn.text.startswith("❌ Withdrawn: was cancelled\n")
        assert TITLE in struck(withdrawn) and "Bid by 10 Jul — tender" in struck(withdrawn)
        assert withdrawn.buttons == []  # nothing left to press
    assert TITLE in struck(fake.message(CAT, cat_alert.message_id))
    assert smtp.to(EDDIE)[-1].subject == f"SEEM update: {TITLE} — cancelled"
    # email gets the follow-ups only: five messages, none rewritten
    assert len(smtp.to(EDDIE)) == 5
    _no_errors(fake)


async def test_dynamic_market_from_intention_to_cessation(
    fake: FakeTelegram, smtp: SmtpSink, database: Database, tmp_path: Path
) -> None:
    life = dynamic_market_life()
    ann = await subscribe(database, chat=ANN, keywords=["supported living"])

    def step(code: str) -> object:
        return life_config(fake, smtp, database, write_feed(tmp_path, code, life[code]))

    await cycle(step("UK13"), datetime(2026, 10, 8, 8, 5, tzinfo=UTC))
    (first,) = fake.messages(ANN)
    assert first.text.startswith(f"🔔 Apply to join when it opens — dynamic market\n{DM_TITLE}")

    await subscribe(database, chat=BEN, keywords=["supported living"])
    await cycle(step("UK14"), datetime(2026, 12, 1, 9, 5, tzinfo=UTC))
    assert fake.messages(ANN)[-1].text.startswith(
        f"🚪 Open now: {DM_TITLE} — the dynamic market is open to join now"
    )
    assert fake.message(ANN, first.message_id).text.startswith(
        "📝 Changed: the dynamic market is open to join now\n🔔 Apply to join — dynamic market\n"
    )
    (joined,) = fake.messages(BEN)
    assert joined.text.startswith(f"🔔 Apply to join — dynamic market\n{DM_TITLE}")

    # UK15 (digest for a first sight) is a follow-up for those alerted
    await cycle(step("UK15"), datetime(2027, 3, 1, 9, 5, tzinfo=UTC))
    for chat in (ANN, BEN):
        assert fake.messages(chat)[-1].text.startswith(
            f"🔄 Update: {DM_TITLE} — the dynamic market's rules or scope have changed"
        )

    await cycle(step("UK16"), datetime(2028, 6, 1, 8, 5, tzinfo=UTC))
    for chat, original in ((ANN, first), (BEN, joined)):
        assert fake.messages(chat)[-1].text.startswith(
            f"❌ Closed: {DM_TITLE} — the dynamic market has closed"
        )
        closed = fake.message(chat, original.message_id)
        assert closed.text.startswith("❌ Closed: the dynamic market has closed\n")
        assert DM_TITLE in struck(closed) and closed.buttons == []
    assert len(await deliveries(database, subscriber_id=ann, kind="update")) == 3
    _no_errors(fake)


async def test_an_alert_still_waiting_for_the_digest_shows_the_newest_version(
    fake: FakeTelegram, smtp: SmtpSink, database: Database, tmp_path: Path
) -> None:
    """A UK3 waits for Ann's 08:00 digest; the UK4 arrives first. She gets one alert, at once,
    for the tender — not the planned notice, then an update. Ben's waiting UK3 alert is
    dropped when the procurement is terminated before his digest."""
    life = heat_network_life()
    ann = await subscribe(database, chat=ANN, keywords=["heat networks"], cpv=["09"])

    def step(code: str) -> object:
        return life_config(fake, smtp, database, write_feed(tmp_path, code, life[code]))

    await cycle(step("UK3"), datetime(2026, 5, 2, 9, 5, tzinfo=UTC))
    assert fake.messages(ANN) == []
    (waiting,) = await deliveries(database, subscriber_id=ann)
    assert waiting.status == "pending" and waiting.due_at == datetime(2026, 5, 3, 7, tzinfo=UTC)
    report = await cycle(step("UK4"), datetime(2026, 5, 2, 15, 5, tzinfo=UTC))
    (alert,) = fake.messages(ANN)
    assert alert.text.startswith(f"🔔 Bid by 10 Jul — tender\n{TITLE}\n")
    assert report.matching.updates == 0 and report.matching.queued == 0
    assert [r.kind for r in await deliveries(database, subscriber_id=ann)] == ["alert"]

    ben = await subscribe(database, chat=BEN, keywords=["heat networks"], cpv=["09"])
    await set_profile(database, ben, kinds_off=["engagement"])
    # Ben's early sight: a planned notice of another procurement of the buyer, terminated
    # before his digest
    other = {**life["UK3"], "ocid": "ocds-h6vhtk-0other", "id": "041999-2026"}
    await cycle(
        life_config(fake, smtp, database, write_feed(tmp_path, "other-uk3", other)),
        datetime(2026, 5, 2, 16, 5, tzinfo=UTC),
    )
    (ben_waiting,) = await deliveries(database, subscriber_id=ben)
    assert ben_waiting.status == "pending"
    gone = {
        **life["UK12"],
        "ocid": "ocds-h6vhtk-0other",
        "id": "042999-2026",
        "date": "2026-05-02T18:00:00+01:00",
    }
    await cycle(
        life_config(fake, smtp, database, write_feed(tmp_path, "other-uk12", gone)),
        datetime(2026, 5, 2, 17, 5, tzinfo=UTC),
    )
    await cycle(step("UK4"), datetime(2026, 5, 3, 7, 1, tzinfo=UTC))  # Ben's digest time
    (dropped,) = await deliveries(database, subscriber_id=ben)
    assert (dropped.status, dropped.last_error) == ("cancelled", "procurement withdrawn")
    assert fake.messages(BEN) == []
    _no_errors(fake)
