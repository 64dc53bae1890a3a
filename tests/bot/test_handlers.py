"""The alert buttons and the first commands, through the real PTB Application and the fake
Bot API: alerts go out through the real dispatcher, users press and type via the fake."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.config import config_from_dict
from bot.telegram.wording import GARBLED, NOT_SUBSCRIBED, NOT_YOURS
from storage.db import Database
from storage.feedback import (
    feedback_totals,
    mute_keyword,
    record_feedback,
    unmute_keyword,
)
from storage.models import DeliveryRow, FeedbackRow, NoticeRow, ProfileRow, SubscriberRow
from storage.outbox import NewDelivery, enqueue
from storage.subscribers import SubscriberInput, upsert_subscriber
from storage.suppression import suppress
from storage.types import utcnow
from tests.fakes.flood import FloodLimits
from tests.fakes.harness import Running, register_fake, running_bot, settle
from tests.fakes.telegram_api import FakeTelegram, SentMessage

ANN = 7001  # subscriber, Telegram only
BEN = 7002  # another subscriber
EVE = 7003  # not subscribed
ADMIN = 7009
LONDON = ZoneInfo("Europe/London")

# 429s from the fake are paced by PTB, whose RetryAfter reads its deprecated int retry_after
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    # Telegram's limits, 20 times faster: 429s are waited out by the rate limiter.
    async with FakeTelegram(limits=FloodLimits().scaled(20)) as server:
        for uid, name in ((ANN, "Ann"), (BEN, "Ben"), (EVE, "<Eve & Co>"), (ADMIN, "Ada")):
            server.add_user(uid, name)
        yield server


@dataclass
class Bot:
    """The running application plus helpers to seed alerts and send raw buttons."""

    fake: FakeTelegram
    db: Database
    running: Running

    @property
    def app(self) -> Any:
        return self.running.bot

    async def dispatch(self) -> Any:
        return await self.running.app.services.send_alerts()

    async def subscriber(
        self,
        chat_id: int,
        keywords: list[str],
        email: str | None = None,
        frequency: str = "instant",
    ) -> int:
        async with self.db.session() as session:
            sub_id, _ = await upsert_subscriber(
                session,
                SubscriberInput(
                    name=f"Enterprise {chat_id}",
                    email=email,
                    telegram_chat_id=chat_id,
                    frequency=frequency,
                    profile={"keywords": keywords},
                ),
            )
        return sub_id

    async def notice(
        self, ocid: str, deadline: datetime | None, stage: str = "tender", title: str = ""
    ) -> int:
        title = title or f"Catering & cleaning services <{ocid}>"
        data = {
            "title": title,
            "url": f"https://www.find-tender.service.gov.uk/Notice/{ocid}",
            "buyer": "Nottingham City Council",
            "value": {"amount": 120000, "min": None, "currency": "GBP"},
            "deadline": deadline.isoformat() if deadline else None,
            "regions": ["UKF14"],
            "suitable_sme": True,
            "suitable_vcse": None,
            "stage": stage,
        }
        row = NoticeRow(
            source="test",
            ocid=ocid,
            content_hash=ocid,
            stage=stage,
            title=title,
            deadline=deadline,
            data=data,
        )
        async with self.db.session() as session:
            session.add(row)
            await session.flush()
            assert row.id is not None
            return row.id

    async def alert(self, chat_id: int, sub_id: int, notice_id: int, keywords: list[str]) -> int:
        """Queue an alert and send it through the real dispatcher; returns the delivery id."""
        async with self.db.session() as session:
            await enqueue(
                session,
                [
                    NewDelivery(
                        subscriber_id=sub_id,
                        notice_id=notice_id,
                        version=1,
                        channel="telegram",
                        due_at=utcnow() - timedelta(seconds=1),
                        reasons=(f"keyword “{keywords[0]}” in the title",),
                        keywords=tuple(keywords),
                    )
                ],
            )
            row = (
                await session.exec(
                    select(DeliveryRow).where(
                        DeliveryRow.subscriber_id == sub_id,
                        DeliveryRow.notice_id == notice_id,
                        DeliveryRow.kind == "alert",
                    )
                )
            ).one()
        report = await self.dispatch()
        assert report.sent == 1
        assert row.id is not None
        return row.id

    def last(self, chat_id: int) -> SentMessage:
        return self.fake.messages(chat_id)[-1]

    async def press(self, chat_id: int, message: SentMessage, data: str) -> str:
        """Press a button and wait for the answer; returns the answer's text."""
        before = len(self.fake.callback_answers)
        self.fake.user_presses(chat_id, message.message_id, data)
        answers = await self.fake.wait_for_callback_answers(before + 1)
        text = answers[before].text
        await self.settle(chat_id)
        assert text is not None
        return text

    async def settle(self, chat_id: int) -> None:
        """Wait until the bot has fetched and finished every update so far."""
        await settle(self.fake, self.running)

    async def send(self, chat_id: int, text: str) -> SentMessage:
        n = len(self.fake.messages(chat_id, include_deleted=True))
        self.fake.user_sends(chat_id, text)
        return (await self.fake.wait_for_messages(chat_id, n + 1))[n]

    async def raw_buttons(self, chat_id: int, *data: str) -> SentMessage:
        """A bot message carrying arbitrary callback data (as a forger would craft it)."""
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in data]])
        sent = await self.app.bot.send_message(chat_id, "Buttons", reply_markup=markup)
        return self.fake.message(chat_id, sent.message_id)


@pytest.fixture
async def bot(fake: FakeTelegram, database: Database) -> AsyncIterator[Bot]:
    config = config_from_dict(
        {
            "telegram": {"token": fake.token, "base_url": fake.base_url, "admin_ids": [ADMIN]},
            "database": {"url": database.url},
            "alerts": {"quiet_hours": "off"},
        },
        env={},
    )
    register_fake(fake)
    async with running_bot(config) as running:
        yield Bot(fake, database, running)
    assert fake.unanswered_callbacks() == []
    # No 400s ("message is not modified", entity errors...); 429s are pacing, and a 409 on
    # getUpdates is the updater's last call racing its own cancelled long poll at shutdown.
    errors = [r for r in fake.errors() if r.status != 429 and r.method != "getUpdates"]
    assert errors == [], [(r.method, r.description) for r in errors]


async def _rows(db: Database, model: Any, *where: Any) -> list[Any]:
    async with db.session() as session:
        return list((await session.exec(select(model).where(*where))).all())


async def _keywords(db: Database, sub_id: int) -> list[str]:
    (profile,) = await _rows(db, ProfileRow, ProfileRow.subscriber_id == sub_id)
    return list(profile.keywords)


# --- feedback -----------------------------------------------------------------------------------


async def test_relevant_then_not_relevant_latest_wins_and_message_shows_it(bot: Bot) -> None:
    sub = await bot.subscriber(ANN, ["catering"])
    notice = await bot.notice("ocds-a", utcnow() + timedelta(days=10))
    delivery = await bot.alert(ANN, sub, notice, ["catering"])
    alert = bot.last(ANN)
    assert alert.callback_data[:2] == [f"fb+:{delivery}", f"fb-:{delivery}"]
    original = alert.text

    named = "“Catering & cleaning services <ocds-a>”"
    assert await bot.press(ANN, alert, f"fb+:{delivery}") == f"Thanks — marked relevant: {named}"
    (row,) = await _rows(bot.db, FeedbackRow)
    assert (row.subscriber_id, row.notice_id, row.relevant) == (sub, notice, True)
    edited = bot.fake.message(ANN, alert.message_id)
    assert edited.text.startswith(original)  # the alert itself is kept, links and all
    assert edited.text.endswith(
        f"▸ Marked {named} relevant — thanks, this helps us improve your matches."
    )
    assert edited.links == alert.links
    assert edited.button("Relevant")["text"] == "✓ 👍 Relevant"
    assert edited.button("Not relevant")["text"] == "👎 Not relevant"

    assert await bot.press(ANN, edited, f"fb-:{delivery}") == (
        f"Thanks — marked not relevant: {named}"
    )
    (row,) = await _rows(bot.db, FeedbackRow)
    assert row.relevant is False
    edited = bot.fake.message(ANN, alert.message_id)
    assert edited.text.count("▸") == 1  # the status line is replaced, not stacked
    assert f"Marked {named} not relevant" in edited.text
    assert edited.button("👍")["text"] == "👍 Relevant"
    assert edited.button("👎")["text"] == "✓ 👎 Not relevant"

    # The same press again changes nothing and makes no "message is not modified" call.
    edits = len(bot.fake.edits)
    assert await bot.press(ANN, edited, f"fb-:{delivery}") == (
        f"Thanks — marked not relevant: {named}"
    )
    assert len(bot.fake.edits) == edits
    assert len(await _rows(bot.db, FeedbackRow)) == 1


async def test_feedback_on_a_grouped_message_marks_the_right_notice(bot: Bot) -> None:
    sub = await bot.subscriber(ANN, ["catering"])
    first = await bot.notice("ocds-j", utcnow() + timedelta(days=3))
    second = await bot.notice("ocds-k", utcnow() + timedelta(days=9))
    async with bot.db.session() as session:
        await enqueue(
            session,
            [
                NewDelivery(sub, notice, 1, "telegram", utcnow(), keywords=("catering",))
                for notice in (first, second)
            ],
        )
    assert (await bot.dispatch()).messages == 1
    group = bot.last(ANN)
    (later,) = await _rows(bot.db, DeliveryRow, DeliveryRow.notice_id == second)
    assert group.button("👍 2")["callback_data"] == f"fb+:{later.id}"  # closing soonest first
    # the toast names the notice the numbered button is about
    assert await bot.press(ANN, group, f"fb+:{later.id}") == (
        "Thanks — marked relevant: “Catering & cleaning services <ocds-k>”"
    )
    (row,) = await _rows(bot.db, FeedbackRow)
    assert (row.notice_id, row.relevant) == (second, True)
    edited = bot.fake.message(ANN, group.message_id)
    assert [b["text"] for b in edited.buttons] == [
        "👍 1", "👎 1", "⏰ 1", "❓ 1", "✓ 👍 2", "👎 2", "⏰ 2", "❓ 2",
    ]  # fmt: skip
    assert "Marked “Catering & cleaning services <ocds-k>” relevant" in edited.text


async def test_feedback_from_a_daily_digest_marks_the_numbered_notice(bot: Bot) -> None:
    sub = await bot.subscriber(ANN, ["catering"], frequency="daily")
    later = await bot.notice("ocds-d1", utcnow() + timedelta(days=20))
    soon = await bot.notice("ocds-d2", utcnow() + timedelta(days=2))
    async with bot.db.session() as session:
        await enqueue(
            session,
            [
                NewDelivery(sub, notice, 1, "telegram", utcnow(), keywords=("catering",))
                for notice in (later, soon)
            ],
        )
    assert (await bot.dispatch()).messages == 1
    digest = bot.last(ANN)
    assert digest.text.startswith("📬 Your daily digest")
    # closing soon first; each item's kind line, then its title
    assert re.search(
        r"1\. Bid by [^\n]+ — tender\n    Catering & cleaning services <ocds-d2>", digest.text
    )
    assert re.search(
        r"2\. Bid by [^\n]+ — tender\n    Catering & cleaning services <ocds-d1>", digest.text
    )
    (row_later,) = await _rows(bot.db, DeliveryRow, DeliveryRow.notice_id == later)
    assert digest.button("👎 2")["callback_data"] == f"fb-:{row_later.id}"
    assert await bot.press(ANN, digest, f"fb-:{row_later.id}") == (
        "Thanks — marked not relevant: “Catering & cleaning services <ocds-d1>”"
    )
    (row,) = await _rows(bot.db, FeedbackRow)
    assert (row.notice_id, row.relevant) == (later, False)
    edited = bot.fake.message(ANN, digest.message_id)
    assert [b["text"] for b in edited.buttons] == [
        "👍 1", "👎 1", "⏰ 1", "❓ 1", "👍 2", "✓ 👎 2", "⏰ 2", "❓ 2",
    ]  # fmt: skip


async def test_forged_and_garbled_callbacks_are_refused_and_change_nothing(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    ann = await bot.subscriber(ANN, ["catering"])
    await bot.subscriber(BEN, ["cleaning"])
    notice = await bot.notice("ocds-b", utcnow() + timedelta(days=10))
    delivery = await bot.alert(ANN, ann, notice, ["catering"])

    for chat in (BEN, EVE):  # another subscriber, and someone not subscribed at all
        forged = await bot.raw_buttons(
            chat, f"fb+:{delivery}", f"mute:{delivery}:0", f"rem:{delivery}"
        )
        for data in forged.callback_data:
            assert await bot.press(chat, forged, data) == NOT_YOURS
        assert bot.fake.message(chat, forged.message_id).history == []  # not edited

    assert await _rows(bot.db, FeedbackRow) == []
    assert await _keywords(bot.db, ann) == ["catering"]
    assert await _rows(bot.db, DeliveryRow, DeliveryRow.kind == "reminder") == []
    assert bot.fake.message(ANN, bot.fake.messages(ANN)[0].message_id).history == []
    warnings = [r for r in caplog.records if r.levelname == "WARNING" and "refused" in r.message]
    assert warnings and all(str(BEN) not in r.message and "Ben" not in r.message for r in warnings)

    junk = await bot.raw_buttons(
        ANN, "hello", "fb+:abc", "zap:1", f"mute:{delivery}:9", f"mute:{delivery}:x"
    )
    for data in junk.callback_data:
        assert await bot.press(ANN, junk, data) == GARBLED
    assert await _keywords(bot.db, ann) == ["catering"]


# --- mute and undo ------------------------------------------------------------------------------


async def test_mute_keyword_and_undo(bot: Bot) -> None:
    sub = await bot.subscriber(ANN, ["Catering", "cleaning", "grounds maintenance"])
    notice = await bot.notice("ocds-c", utcnow() + timedelta(days=10))
    delivery = await bot.alert(ANN, sub, notice, ["catering", "cleaning"])
    alert = bot.last(ANN)
    assert alert.button("Mute “catering”")["callback_data"] == f"mute:{delivery}:0"

    answer = await bot.press(ANN, alert, f"mute:{delivery}:0")
    assert answer.startswith("Muted “catering”")
    assert await _keywords(bot.db, sub) == ["cleaning", "grounds maintenance"]  # any case
    edited = bot.fake.message(ANN, alert.message_id)
    undo = edited.button("Undo")
    assert (undo["text"], undo["callback_data"]) == ("↩️ Undo mute “catering”", f"undo:{delivery}:0")
    assert edited.button("Mute “cleaning”")  # the other keyword's button is untouched

    answer = await bot.press(ANN, edited, f"undo:{delivery}:0")
    assert answer == "“catering” is back in your keywords."
    assert await _keywords(bot.db, sub) == ["cleaning", "grounds maintenance", "catering"]
    edited = bot.fake.message(ANN, alert.message_id)
    assert edited.button("Mute “catering”")["callback_data"] == f"mute:{delivery}:0"

    # Idempotent both ways (a duplicated callback, or two messages naming one keyword).
    async with bot.db.session() as session:
        assert await unmute_keyword(session, sub, "CATERING") is False
        assert await mute_keyword(session, sub, "Catering") is True
        assert await mute_keyword(session, sub, "catering") is False
    assert await _keywords(bot.db, sub) == ["cleaning", "grounds maintenance"]


# --- reminders ----------------------------------------------------------------------------------


def _day(moment: datetime) -> str:
    local = moment.astimezone(LONDON)
    return f"{local:%a} {local.day} {local:%b}"


async def test_remind_me_queues_two_reminders_once(bot: Bot) -> None:
    sub = await bot.subscriber(ANN, ["catering"])
    deadline = (utcnow() + timedelta(days=10)).replace(microsecond=0)
    notice = await bot.notice("ocds-d", deadline)
    delivery = await bot.alert(ANN, sub, notice, ["catering"])
    alert = bot.last(ANN)

    answer = await bot.press(ANN, alert, f"rem:{delivery}")
    three, one = deadline - timedelta(days=3), deadline - timedelta(days=1)
    named = "“Catering & cleaning services <ocds-d>”"
    assert answer == f"I'll remind you on {_day(three)} and {_day(one)} about {named}"
    rows = await _rows(bot.db, DeliveryRow, DeliveryRow.kind == "reminder")
    assert sorted((r.variant, r.due_at, r.channel, r.status) for r in rows) == [
        ("1d", one, "telegram", "pending"),
        ("3d", three, "telegram", "pending"),
    ]
    edited = bot.fake.message(ANN, alert.message_id)
    assert edited.button("⏰")["text"] == "⏰ Reminder set ✓"
    assert edited.text.endswith(f"▸ {answer}.")

    edits = len(bot.fake.edits)
    again = await bot.press(ANN, edited, f"rem:{delivery}")
    assert again == f"Already set: i'll remind you on {_day(three)} and {_day(one)} about {named}"
    assert len(await _rows(bot.db, DeliveryRow, DeliveryRow.kind == "reminder")) == 2
    assert len(bot.fake.edits) == edits


async def test_remind_me_only_future_times_every_channel_even_when_paused(bot: Bot) -> None:
    sub = await bot.subscriber(ANN, ["catering"], email="ann@example.org")
    deadline = utcnow() + timedelta(days=2)
    notice = await bot.notice("ocds-e", deadline)
    delivery = await bot.alert(ANN, sub, notice, ["catering"])
    await bot.send(ANN, "/pause")
    answer = await bot.press(ANN, bot.fake.messages(ANN)[0], f"rem:{delivery}")
    assert answer.startswith(f"I'll remind you on {_day(deadline - timedelta(days=1))} about “")
    assert answer.endswith("(if your alerts are on again by then: send /resume)")
    rows = await _rows(bot.db, DeliveryRow, DeliveryRow.kind == "reminder")
    assert sorted((r.variant, r.channel) for r in rows) == [("1d", "email"), ("1d", "telegram")]


@pytest.mark.parametrize(
    ("deadline", "stage", "expected"),
    [
        (None, "tender", "no closing date"),
        (timedelta(days=-1), "tender", "already closed"),
        (timedelta(days=10), "cancelled", "already closed"),
        (timedelta(hours=20), "tender", "too soon"),
    ],
)
async def test_remind_me_without_a_usable_deadline_says_why(
    bot: Bot, deadline: timedelta | None, stage: str, expected: str
) -> None:
    sub = await bot.subscriber(ANN, ["catering"])
    notice = await bot.notice("ocds-f", utcnow() + deadline if deadline else None, stage)
    delivery = await bot.alert(ANN, sub, notice, ["catering"])
    message = await bot.raw_buttons(ANN, f"rem:{delivery}")  # render shows no button here
    assert expected in await bot.press(ANN, message, f"rem:{delivery}")
    assert await _rows(bot.db, DeliveryRow, DeliveryRow.kind == "reminder") == []


# --- commands -----------------------------------------------------------------------------------


async def test_pause_resume_stop(bot: Bot) -> None:
    sub = await bot.subscriber(ANN, ["catering"])

    async def paused() -> bool:
        (row,) = await _rows(bot.db, SubscriberRow, SubscriberRow.id == sub)
        return bool(row.paused)

    assert "paused" in (await bot.send(ANN, "/pause")).text
    assert await paused()
    assert "already paused" in (await bot.send(ANN, "/pause")).text
    assert "on again" in (await bot.send(ANN, "/resume")).text
    assert not await paused()
    assert "already on" in (await bot.send(ANN, "/resume")).text
    stop = (await bot.send(ANN, "/stop")).text
    assert "/resume" in stop and await paused()


async def test_unknown_users_commands_and_messages_get_friendly_replies(bot: Bot) -> None:
    settings = (
        "/keywords",
        "/remove catering",
        "/exclude cars",
        "/regions",
        "/cpv 555",
        "/value any",
        "/vcse on",
        "/sme on",
        "/frequency daily",
        "/quiet off",
        "/settings",
    )
    for command in ("/pause", "/resume", "/stop", *settings):
        assert (await bot.send(EVE, command)).text == NOT_SUBSCRIBED, command
    # /start onboards (tests/chat covers the conversation); a stranger's text gets a pointer
    assert "What does your enterprise do?" in (await bot.send(EVE, "/start")).text
    await bot.send(EVE, "/cancel")
    help_text = (await bot.send(EVE, "/help")).text
    assert help_text.startswith("Hello <Eve & Co>! I'm bestbot")  # escaped on the way out
    assert "/pause" in help_text
    assert (await bot.send(EVE, "/frobnicate <b>")).text == (
        "Sorry, I don't know /frobnicate. Send /help to see what I can do."
    )
    assert "/help" in (await bot.send(EVE, "hello there")).text
    n = len(bot.fake.messages(EVE))
    bot.fake.user_sends_sticker(EVE)
    (reply,) = (await bot.fake.wait_for_messages(EVE, n + 1))[n:]
    assert reply.text.startswith("I can only read text")
    assert (await bot.send(ANN, "/stats")).text.startswith("Sorry, I don't know /stats")
    # /add is the one settings command that works before /start: it subscribes
    assert "✓ catering" in [b["text"] for b in (await bot.send(EVE, "/add catering")).buttons]


async def test_admin_stats_and_feedback_totals(bot: Bot) -> None:
    ann = await bot.subscriber(ANN, ["catering"])
    ben = await bot.subscriber(BEN, ["catering"])
    first = await bot.notice("ocds-g", utcnow() + timedelta(days=5), title="Meals <on> wheels")
    second = await bot.notice("ocds-h", utcnow() + timedelta(days=5), title="Laundry")
    async with bot.db.session() as session:
        await record_feedback(session, ann, first, False)
        await record_feedback(session, ann, first, True)  # latest wins
        await record_feedback(session, ben, first, False)
        await record_feedback(session, ben, second, True)
    async with bot.db.session() as session:
        totals = await feedback_totals(session)
    assert (totals.relevant, totals.not_relevant, totals.total) == (2, 1, 3)
    assert [(n.notice_id, n.title, n.relevant, n.not_relevant) for n in totals.notices] == [
        (first, "Meals <on> wheels", 1, 1),
        (second, "Laundry", 1, 0),
    ]
    stats = (await bot.send(ADMIN, "/stats")).text
    assert stats.startswith("This week\nSubscribers: 2 active, 0 paused, 2 new this week")
    assert "\n\nFeedback: 2 👍, 1 👎 on 2 notices" in stats
    assert "Meals <on> wheels — 1 👍, 1 👎" in stats
    assert "Suppressed addresses: none" in stats
    async with bot.db.session() as session:
        await suppress(session, "gone@example.org", "hard_bounce")
        await suppress(session, "angry@example.org", "complaint")
        await suppress(session, "full@example.org", "hard_bounce")
    stats = (await bot.send(ADMIN, "/stats")).text
    assert "Suppressed addresses: 3 (1 spam complaint, 2 hard bounce)" in stats


async def test_stats_name_the_keywords_behind_rejected_alerts(bot: Bot) -> None:
    ann = await bot.subscriber(ANN, ["catering", "meals"])
    ben = await bot.subscriber(BEN, ["catering", "laundry"])
    meals = await bot.notice("ocds-m", utcnow() + timedelta(days=5), title="Meals <on> wheels")
    laundry = await bot.notice("ocds-l", utcnow() + timedelta(days=5), title="Laundry")

    def alert(sub: int, notice: int, channel: str, *words: str) -> NewDelivery:
        return NewDelivery(sub, notice, 1, channel, utcnow(), keywords=words)

    async with bot.db.session() as session:
        await enqueue(
            session,
            [
                alert(ann, meals, "telegram", "catering", "meals"),
                alert(ann, meals, "email", "catering", "meals"),  # one answer, two channels
                alert(ben, meals, "telegram", "Catering"),
                alert(ben, laundry, "telegram", "laundry"),
            ],
        )
        await record_feedback(session, ann, meals, True)
        await record_feedback(session, ben, meals, False)
        await record_feedback(session, ben, laundry, True)
    async with bot.db.session() as session:
        totals = await feedback_totals(session)
    assert [(k.keyword, k.relevant, k.not_relevant) for k in totals.keywords] == [
        ("catering", 1, 1),
        ("laundry", 1, 0),
        ("meals", 1, 0),
    ]
    stats = (await bot.send(ADMIN, "/stats")).text
    assert "Alerts people found relevant: 67% of 3 answers" in stats
    assert "Keywords behind most 👎\n• “catering” — 1 👎, 1 👍\n\nEnquiries" in stats
    # the same command from anyone else reveals nothing
    assert "Keywords behind" not in (await bot.send(ANN, "/stats")).text


async def test_handler_failure_is_logged_without_token_and_answered(
    bot: Bot, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = await bot.subscriber(ANN, ["catering"])
    notice = await bot.notice("ocds-i", utcnow() + timedelta(days=10))
    delivery = await bot.alert(ANN, sub, notice, ["catering"])

    async def boom(*args: Any) -> None:
        raise RuntimeError(f"database down ({bot.fake.token})")

    monkeypatch.setattr("bot.chat.alert_buttons.record_feedback", boom)
    answer = await bot.press(ANN, bot.last(ANN), f"fb+:{delivery}")
    assert answer.startswith("Sorry, something went wrong")
    failures = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any("database down (***)" in m for m in failures)
    assert all(bot.fake.token not in m for m in failures)
    assert await _rows(bot.db, FeedbackRow, col(FeedbackRow.subscriber_id) == sub) == []


def test_reminder_day_format() -> None:
    assert _day(datetime(2026, 2, 10, 12, tzinfo=UTC)) == "Tue 10 Feb"
    assert re.fullmatch(r"\w{3} \d{1,2} \w{3}", _day(utcnow()))


async def test_remind_on_a_grouped_item_then_list_and_cancel_with_reminders(bot: Bot) -> None:
    sub = await bot.subscriber(ANN, ["catering"])
    await bot.subscriber(BEN, ["cleaning"])
    soon = await bot.notice("ocds-r1", utcnow() + timedelta(days=6), title="Meals on wheels")
    later = await bot.notice("ocds-r2", utcnow() + timedelta(days=12), title="Community cafe")
    async with bot.db.session() as session:
        await enqueue(
            session,
            [
                NewDelivery(sub, notice, 1, "telegram", utcnow(), keywords=("catering",))
                for notice in (soon, later)
            ],
        )
    await bot.dispatch()
    group = bot.last(ANN)
    remind_two = group.button("⏰ 2")["callback_data"]
    answer = await bot.press(ANN, group, remind_two)
    assert answer.startswith("I'll remind you on ") and answer.endswith("about “Community cafe”")
    assert bot.fake.message(ANN, group.message_id).button("⏰ 2")["text"] == "⏰ 2 ✓"
    await bot.press(ANN, group, group.button("⏰ 1")["callback_data"])

    listing = await bot.send(ANN, "/reminders")
    lines = listing.text.splitlines()
    assert lines[0] == "⏰ Your reminders (2)"
    assert "1. Meals on wheels" in lines and "2. Community cafe" in lines
    assert any(line.strip().startswith("📅 closes ") for line in lines)
    assert any(line.strip().startswith("⏰ reminding you on ") for line in lines)
    assert [b["text"] for b in listing.buttons] == ["✖️ Cancel 1", "✖️ Cancel 2"]

    # Ben forges Ann's cancel button: nothing of Ann's changes
    cancel_two = listing.button("Cancel 2")["callback_data"]
    forged = await bot.raw_buttons(BEN, cancel_two)
    await bot.press(BEN, forged, cancel_two)
    assert len(await _reminders(bot, later, "pending")) == 2

    assert await bot.press(ANN, listing, cancel_two) == "Reminder cancelled: “Community cafe”"
    assert await _reminders(bot, later, "pending") == []
    again = bot.fake.message(ANN, listing.message_id)
    assert again.text.startswith("⏰ Your reminders (1)") and "Community cafe" not in again.text
    await bot.press(ANN, again, again.button("Cancel 1")["callback_data"])
    assert bot.fake.message(ANN, listing.message_id).text.startswith("You have no reminders set.")
    assert (await bot.send(ANN, "/reminders")).text.startswith("You have no reminders set.")
    assert "not subscribed" in (await bot.send(EVE, "/reminders")).text


async def _reminders(bot: Bot, notice_id: int, status: str) -> list[Any]:
    return await _rows(
        bot.db,
        DeliveryRow,
        DeliveryRow.notice_id == notice_id,
        DeliveryRow.kind == "reminder",
        DeliveryRow.status == status,
    )
