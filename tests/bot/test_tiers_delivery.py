"""The two tiers as a subscriber meets them, through the pipeline, the alert outbox and the
fake Bot API: an ``alert`` match goes out at once; a ``maybe`` match ("worth a look") never
does — it waits for the digest, for an instant subscriber the weekly one, under its own
heading with its reasons."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.app import App, channels
from bot.config import config_from_dict
from storage.db import Database
from storage.models import DeliveryRow
from storage.notices import store_notice
from storage.subscribers import SubscriberInput, upsert_subscriber
from tests.fakes.flood import FloodLimits
from tests.fakes.telegram_api import FakeTelegram
from tests.storage.test_notices import _notice

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
CHAT = 8801
NOW = datetime(2025, 1, 22, 10, 0, tzinfo=UTC)  # a Wednesday
EVENTS = (
    "We plan and run community festivals, civic celebrations and outdoor public events, with "
    "stewarding and event management."
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits=FloodLimits().scaled(20)) as server:
        server.add_user(CHAT)
        yield server


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


async def test_a_maybe_waits_for_the_weekly_digest_under_its_own_heading(
    fake: FakeTelegram, database: Database
) -> None:
    sure = _notice(
        ocid="ocds-tier-sure",
        title="Community events management services for the borough",
        description="Running the borough's community events programme.",
        cpv=("79952000",),
    )
    maybe = _notice(
        ocid="ocds-tier-maybe",
        title="Festival organisation services for the summer programme",
        description="Organisation of the town's summer festival and civic celebrations.",
        cpv=("79953000",),
    )
    sure, maybe = (
        dataclasses.replace(n, deadline=NOW + timedelta(days=40), published=NOW)
        for n in (sure, maybe)
    )
    async with database.session() as session:
        for n in (sure, maybe):
            await store_notice(session, n)
        await upsert_subscriber(
            session,
            SubscriberInput(
                name="Fair Days CIC",
                email=None,
                telegram_chat_id=CHAT,
                frequency="instant",
                profile={"keywords": ["events"], "description": EVENTS},
            ),
        )
    config = config_from_dict(
        {
            "database": {"url": database.url},
            "telegram": {"token": fake.token, "base_url": fake.base_url},
            "web": {"secret_key": "t" * 32},
            "alerts": {"quiet_hours": "off"},
        },
        env={},
    )
    clock = Clock()
    async with (
        channels(config, receive=False) as (_bot, telegram, _email),
        App(config, clock=clock, telegram=telegram) as app,
    ):
        report = await app.pipeline.match()
        assert (report.matches, report.maybes) == (1, 1)
        await app.services.send_alerts()
        [alert] = fake.messages(CHAT)  # the sure one, at once; the maybe is not sent
        assert sure.title in alert.text and maybe.title not in alert.text
        async with database.session() as session:
            rows = {r.kind: r for r in (await session.exec(select(DeliveryRow))).all()}
        assert rows["maybe"].status == "pending"
        assert rows["maybe"].due_at > NOW + timedelta(days=4)  # the next weekly slot (Monday)
        clock.now = rows["maybe"].due_at + timedelta(minutes=1)
        await app.services.send_alerts()
    digest = fake.messages(CHAT)[-1]
    assert len(fake.messages(CHAT)) == 2
    assert "You might also consider" in digest.text
    assert maybe.title in digest.text
    assert "festival organisation" in digest.text.lower()  # with its reason
