"""🤝 Open to partners: the alert button, its consent, forged presses, /partners for
advisers, withdrawal, and the consent in /mydata and gone after /forget — through the real
application and the fake Bot API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.config import config_from_dict
from bot.telegram.wording import GARBLED, NOT_YOURS
from storage.db import Database
from storage.enquiries import AdviserInput, upsert_advisers
from storage.models import DeliveryRow, NoticeRow, PartnerInterestRow, SubscriberRow
from storage.outbox import NewDelivery, enqueue
from storage.subscribers import SubscriberInput, upsert_subscriber
from storage.types import utcnow
from tests.fakes.flood import FloodLimits
from tests.fakes.harness import Running, register_fake, running_bot, settle
from tests.fakes.telegram_api import FakeTelegram, SentMessage

ANN, BOB, ADVISER, STRANGER = 7101, 7102, 7190, 7199

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits=FloodLimits().scaled(20)) as server:
        for uid, name in ((ANN, "Ann"), (BOB, "Bob"), (ADVISER, "Adam"), (STRANGER, "Sam")):
            server.add_user(uid, name)
        register_fake(server)
        yield server


@dataclass
class World:
    fake: FakeTelegram
    db: Database
    running: Running
    notice_id: int
    deliveries: dict[int, int]

    async def send(self, chat: int, text: str) -> SentMessage:
        before = len(self.fake.messages(chat))
        self.fake.user_sends(chat, text)
        return (await self.fake.wait_for_messages(chat, before + 1))[before]

    async def press(self, chat: int, message: SentMessage, data: str) -> str:
        before = len(self.fake.callback_answers)
        self.fake.user_presses(chat, message.message_id, data)
        answers = await self.fake.wait_for_callback_answers(before + 1)
        await settle(self.fake, self.running)
        return answers[before].text or ""

    async def raw_buttons(self, chat: int, *data: str) -> SentMessage:
        """A bot message carrying arbitrary callback data (as a forger would craft it)."""
        from telegram import InlineKeyboardButton, InlineKeyboardMarkup

        markup = InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in data]])
        sent = await self.running.bot.bot.send_message(chat, "Buttons", reply_markup=markup)
        return self.fake.message(chat, sent.message_id)

    async def interest(self) -> list[Any]:
        async with self.db.session() as session:
            return list((await session.exec(select(PartnerInterestRow))).all())


async def _subscriber(db: Database, chat: int, name: str, email: str | None) -> int:
    async with db.session() as session:
        sub_id, _ = await upsert_subscriber(
            session,
            SubscriberInput(
                name=name,
                email=email,
                telegram_chat_id=chat,
                frequency="instant",
                profile={"keywords": ["community transport"]},
            ),
        )
    return sub_id


@pytest.fixture
async def world(fake: FakeTelegram, database: Database) -> AsyncIterator[World]:
    ann = await _subscriber(database, ANN, "Wheels for All CIC", "hello@wheels.example.org")
    bob = await _subscriber(database, BOB, "Rural Rides <Co-op> & Friends", None)
    deadline = utcnow() + timedelta(days=20)
    async with database.session() as session:
        await upsert_advisers(
            session, [AdviserInput("adam", "Adam Adviser", ["tendering"], 5, telegram_id=ADVISER)]
        )
        row = NoticeRow(
            source="contracts_finder",
            ocid="ocds-b5fd17-partners",
            content_hash="x",
            stage="tender",
            title="Home to school transport, Derbyshire",
            deadline=deadline,
            data={
                "title": "Home to school transport, Derbyshire",
                "buyer": "Derbyshire County Council",
                "url": "https://www.contractsfinder.service.gov.uk/Notice/partners",
                "deadline": deadline.isoformat(),
                "stage": "tender",
                "regions": ["UKF1"],
            },
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        await enqueue(
            session,
            [
                NewDelivery(
                    subscriber_id=sub,
                    notice_id=row.id,
                    version=1,
                    channel="telegram",
                    due_at=utcnow() - timedelta(seconds=1),
                    reasons=("matched “community transport”",),
                    keywords=("community transport",),
                )
                for sub in (ann, bob)
            ],
        )
        deliveries = {
            d.subscriber_id: d.id
            for d in (await session.exec(select(DeliveryRow))).all()
            if d.id is not None
        }
    config = config_from_dict(
        {
            "telegram": {"token": fake.token, "base_url": fake.base_url},
            "database": {"url": database.url},
            "web": {"secret_key": "partners-test-key"},
            "alerts": {"quiet_hours": "off", "group_within": "0s"},
            "feeds": [],
        },
        env={},
    )
    async with running_bot(config) as running:
        await running.services.send_alerts()
        chats = {ann: ANN, bob: BOB}
        yield World(fake, database, running, row.id, {chats[s]: d for s, d in deliveries.items()})
    errors = [r for r in fake.errors() if r.status != 429 and r.method != "getUpdates"]
    assert errors == [], [(r.method, r.description) for r in errors]


async def test_open_to_partners_with_consent(world: World) -> None:
    fake = world.fake
    [alert] = fake.messages(ANN)
    button = alert.button("🤝 Open to partners")
    assert button["callback_data"] == f"ptn:{world.deliveries[ANN]}"

    # pressing asks, naming who will see what; nothing is recorded yet
    assert await world.press(ANN, alert, button["callback_data"]) == "Please confirm below"
    ask = fake.messages(ANN)[-1]
    assert ask.text.startswith("🤝 Open to partners for “Home to school transport, Derbyshire”?")
    assert "SEEM advisers will see that Wheels for All CIC is open to bidding" in ask.text
    assert "Nothing is shared with other enterprises or the buyer" in ask.text
    assert await world.interest() == []

    # a forged "yes" (bad signature, or Bob's alert from Ann's chat) records nothing
    yes = ask.button("Yes")["callback_data"]
    forged = yes[:-3] + ("AAA" if not yes.endswith("AAA") else "BBB")
    bob_yes = f"ptn:{world.deliveries[BOB]}:y:{yes.rsplit(':', 1)[1]}"
    skip = f"ptn:{world.deliveries[ANN]}:y"  # "yes" without a signature
    crafted = await world.raw_buttons(ANN, forged, bob_yes, skip, f"ptn:{world.deliveries[BOB]}")
    assert await world.press(ANN, crafted, forged) == GARBLED
    assert await world.press(ANN, crafted, bob_yes) == GARBLED  # signed for another alert
    assert await world.press(ANN, crafted, skip) == GARBLED
    assert await world.press(ANN, crafted, f"ptn:{world.deliveries[BOB]}") == NOT_YOURS
    assert await world.interest() == []

    assert await world.press(ANN, ask, yes) == "Listed"
    [listed] = await world.interest()
    assert listed.notice_id == world.notice_id
    assert "SEEM advisers will see that Wheels for All CIC" in listed.consent
    assert fake.message(ANN, ask.message_id).text.startswith("✅ Listed")
    assert fake.message(ANN, ask.message_id).buttons == []

    # Bob first declines, then agrees
    [bob_alert] = fake.messages(BOB)
    await world.press(BOB, bob_alert, bob_alert.button("🤝")["callback_data"])
    bob_ask = fake.messages(BOB)[-1]
    assert "Rural Rides <Co-op> & Friends is open" in bob_ask.text  # escaped, shown as typed
    assert await world.press(BOB, bob_ask, bob_ask.button("No thanks")["callback_data"]) == (
        "Not listed"
    )
    assert len(await world.interest()) == 1
    await world.press(BOB, bob_alert, bob_alert.button("🤝")["callback_data"])
    bob_ask = fake.messages(BOB)[-1]
    assert await world.press(BOB, bob_ask, bob_ask.button("Yes")["callback_data"]) == "Listed"

    # advisers see both; enterprises and strangers don't get the command
    listing = (await world.send(ADVISER, "/partners")).text
    assert listing.startswith("🤝 Open to partners — 1 current notices")
    assert "Home to school transport, Derbyshire — Derbyshire County Council" in listing
    assert "2 enterprises" in listing
    assert "Wheels for All CIC — Telegram · hello@wheels.example.org" in listing
    assert "Rural Rides <Co-op> & Friends — Telegram" in listing
    for other in (ANN, STRANGER):
        assert (await world.send(other, "/partners")).text.startswith("Sorry, I don't know")

    # pressing again offers to withdraw
    await world.press(ANN, alert, button["callback_data"])
    again = fake.messages(ANN)[-1]
    assert again.text.startswith("🤝 You are listed to SEEM advisers")
    assert await world.press(ANN, again, again.button("Withdraw")["callback_data"]) == "Withdrawn"
    assert len(await world.interest()) == 1  # only Bob is still listed
    assert "1 enterprise" in (await world.send(ADVISER, "/partners")).text


async def test_consent_is_in_mydata_and_gone_after_forget(world: World) -> None:
    fake = world.fake
    [alert] = fake.messages(BOB)
    await world.press(BOB, alert, alert.button("🤝")["callback_data"])
    ask = fake.messages(BOB)[-1]
    await world.press(BOB, ask, ask.button("Yes")["callback_data"])

    before = len(fake.messages(BOB))
    fake.user_sends(BOB, "/mydata")
    [document] = (await fake.wait_for_messages(BOB, before + 1))[before:]
    assert document.document is not None
    exported = json.loads(document.document.data)
    [consent] = exported["open_to_partners"]
    assert consent["notice_title"] == "Home to school transport, Derbyshire"
    assert "is open to bidding with partners" in consent["consent"]

    forget = await world.send(BOB, "/forget")
    await world.press(BOB, forget, forget.button("Yes")["callback_data"])
    assert await world.interest() == []
    async with world.db.session() as session:
        names = [s.name for s in (await session.exec(select(SubscriberRow))).all()]
    assert names == ["Wheels for All CIC"]
    assert "No enterprise is open to partners" in (await world.send(ADVISER, "/partners")).text
