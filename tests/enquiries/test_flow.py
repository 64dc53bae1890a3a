"""The whole enquiry flow through the real Application and the fake Bot API: ask, route,
accept, relay both ways, resolve, rate; /queue, /away, /back, /stats; forged presses."""

from __future__ import annotations

from typing import Any

import pytest

from bot.callbacks import pack
from bot.enquiries.model import ACCEPT, PASS, RATE_UP, RESOLVE
from storage import enquiries as store
from storage.db import Database
from tests.enquiries.enquiry_kit import (
    ADMIN,
    ANN,
    BEN,
    DUTY,
    EVE,
    TENDER_Q,
    TESS,
    TOM,
    fake,
    running,
    seed,
    verbs,
)
from tests.fakes.telegram_api import FakeTelegram

__all__ = ["fake"]
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def e(enquiry_id: int, verb: str, *args: int) -> str:
    return pack("e", enquiry_id, verb, *args)


async def test_ask_accept_relay_resolve_rate(fake: FakeTelegram, database: Database) -> None:
    await seed(database)
    async with running(fake, database) as bot:
        tess_mark = bot.mark(TESS)
        ack = await bot.send(ANN, f"/ask {TENDER_Q}")
        assert "ENQ-000001" in ack.text and "expect an answer by" in ack.text
        (brief,) = await bot.after(TESS, tess_mark)
        assert "New enquiry ENQ-000001" in brief.text
        assert "Tendering and bids" in brief.text
        assert "Ann's Kitchen CIC" in brief.text or "Ann" in brief.text
        assert "school meals" in brief.text  # the enterprise's profile
        assert TENDER_Q in brief.text
        assert verbs(brief) == [e(1, ACCEPT), e(1, PASS), e(1, RESOLVE)]
        # exactly one adviser got it
        assert bot.fake.messages(TOM) == [] and bot.fake.messages(DUTY) == []

        ann_mark = bot.mark(ANN)
        answer = await bot.press(TESS, brief, e(1, ACCEPT))
        assert answer.startswith("Accepted ENQ-000001")
        (accepted,) = await bot.after(ANN, ann_mark)
        assert "Tess Tendering" in accepted.text and "ENQ-000001" in accepted.text
        assert "user9001" not in accepted.text and "@" not in accepted.text

        # The adviser replies to the enquiry message: the enterprise gets it.
        ann_mark = bot.mark(ANN)
        confirm = await bot.send(
            TESS, "Start with the <specification> & the scoring.", brief.message_id
        )
        assert "Sent to the enterprise" in confirm.text
        (relay,) = await bot.after(ANN, ann_mark)
        assert "Tess Tendering" in relay.text
        assert "Start with the <specification> & the scoring." in relay.text

        # The enterprise replies to that: the adviser gets it.
        tess_mark = bot.mark(TESS)
        await bot.send(ANN, "Thanks! Where do I find the scoring?", relay.message_id)
        (back,) = await bot.after(TESS, tess_mark)
        assert "Where do I find the scoring?" in back.text and "ENQ-000001" in back.text

        # Resolve asks to confirm; then the enterprise is asked for a rating and gives one.
        ann_mark = bot.mark(ANN)
        assert await bot.press(TESS, brief, e(1, RESOLVE)) == "Resolve ENQ-000001? Confirm below."
        assert verbs(bot.fake.message(TESS, brief.message_id)) == [e(1, "rsy"), e(1, "back")]
        assert bot.mark(ANN) == ann_mark and (await bot.enquiry(1)).status == "accepted"
        answer = await bot.press(TESS, brief, e(1, "rsy"))
        assert answer.startswith("Resolved ENQ-000001")
        (rate,) = await bot.after(ANN, ann_mark)
        assert "resolved" in rate.text
        assert await bot.press(ANN, rate, e(1, RATE_UP)) == "Thanks for your feedback!"

        row = await bot.enquiry(1)
        assert row.status == "resolved" and row.rating == 1
        assert row.first_response_at is not None and row.accepted_at is not None
        kinds = [k for k, _ in await bot.events(1)]
        assert kinds == [
            "received",
            "routed",
            "accepted",
            "replied",
            "message",
            "resolved",
            "rated",
        ]
        assert ("accepted", "adviser:tess") in await bot.events(1)


async def test_forged_and_replayed_presses_are_refused(
    fake: FakeTelegram, database: Database
) -> None:
    await seed(database)
    async with running(fake, database) as bot:
        tess_mark = bot.mark(TESS)
        await bot.send(ANN, f"/ask {TENDER_Q}")
        (brief,) = await bot.after(TESS, tess_mark)

        # A stranger and another adviser craft the same buttons in their own chats.
        for who in (EVE, DUTY):
            forged = await bot.app.bot.send_message(
                who, "x", reply_markup=_markup(e(1, ACCEPT), e(1, RESOLVE))
            )
            msg = bot.fake.message(who, forged.message_id)
            assert "isn't yours" in await bot.press(who, msg, e(1, ACCEPT))
            assert "isn't yours" in await bot.press(who, msg, e(1, RESOLVE))
        # Ben forges a rating for Ann's enquiry, and a garbled button is refused too.
        forged = await bot.app.bot.send_message(
            BEN, "x", reply_markup=_markup(e(1, RATE_UP), "e:x")
        )
        msg = bot.fake.message(BEN, forged.message_id)
        assert "isn't yours" in await bot.press(BEN, msg, e(1, RATE_UP))
        assert "didn't understand" in await bot.press(BEN, msg, "e:x")

        row = await bot.enquiry(1)
        assert row.status == "open" and row.rating is None
        assert ("refused", "adviser:duty") in await bot.events(1)

        # Ben's and Dee's buttons signed for their own chats still aren't theirs.
        for who in (BEN, DUTY):
            signed = bot.sign(who, e(1, ACCEPT))
            forged = await bot.app.bot.send_message(who, "x", reply_markup=_markup(signed))
            msg = bot.fake.message(who, forged.message_id)
            assert "isn't yours" in await bot.press(who, msg, signed)
        assert (await bot.enquiry(1)).status == "open"

        # Tess passes it on (to whoever fits best, no note); her old Accept button is now a
        # replay and is refused.
        tom_mark = bot.mark(TOM)
        assert await bot.press(TESS, brief, e(1, PASS)) == "Pass ENQ-000001 to whom?"
        assert await bot.press(TESS, brief, e(1, "pto", 0)) == "Passing to whoever fits best"
        assert "Passed on" in await bot.press(TESS, brief, e(1, "pgo", 0))
        (tom_brief,) = await bot.after(TOM, tom_mark)
        assert "Passed on to you" in tom_brief.text
        assert bot.fake.message(TESS, brief.message_id).callback_data == []  # buttons gone
        for data in (e(1, ACCEPT), bot.sign(TESS, e(1, ACCEPT))):
            replay = await bot.app.bot.send_message(TESS, "x", reply_markup=_markup(data))
            replayed = bot.fake.message(TESS, replay.message_id)
            assert "isn't yours" in await bot.press(TESS, replayed, data)
        # ...and her reply to the old message is not relayed.
        ann_count = bot.mark(ANN)
        refused = await bot.send(TESS, "Late answer", brief.message_id)
        assert "isn't yours" in refused.text
        assert bot.mark(ANN) == ann_count
        row = await bot.enquiry(1)
        assert row.adviser_id is not None
        async with bot.db.session() as session:
            tom = await store.adviser_by_code(session, "tom")
        assert tom is not None and row.adviser_id == tom.id
        # Never back to the one who passed: Tom passes too, it goes to the duty adviser.
        duty_mark = bot.mark(DUTY)
        await bot.press(TOM, tom_brief, e(1, PASS))
        await bot.press(TOM, tom_brief, e(1, "pto", 0))
        await bot.press(TOM, tom_brief, e(1, "pgo", 0))
        (duty_brief,) = await bot.after(DUTY, duty_mark)
        assert "ENQ-000001" in duty_brief.text


async def test_adviser_commands_and_admin_stats(fake: FakeTelegram, database: Database) -> None:
    await seed(database)
    async with running(fake, database) as bot:
        tess_mark = bot.mark(TESS)
        await bot.send(ANN, f"/ask {TENDER_Q}")
        await bot.after(TESS, tess_mark)

        queue = await bot.send(TESS, "/queue")
        assert "ENQ-000001" in queue.text and "waiting for you to accept" in queue.text
        for command in ("/queue", "/away", "/back"):
            reply = await bot.send(EVE, command)
            assert reply.text.startswith("Sorry, I don't know"), reply.text
        assert (await bot.send(ANN, "/stats")).text.startswith("Sorry, I don't know")

        away = await bot.send(TESS, "/away until 2099-01-05")
        assert "away until Mon 5 Jan" in away.text
        bad = await bot.send(TESS, "/away until someday")
        assert "couldn't read that date" in bad.text
        # Away: the next tendering question goes to Tom, not Tess.
        tom_mark = bot.mark(TOM)
        await bot.send(BEN, "/ask What should go in our tender method statement?")
        (brief,) = await bot.after(TOM, tom_mark)
        assert "ENQ-000002" in brief.text
        assert "You're marked away" not in (await bot.send(TESS, "/back")).text
        async with bot.db.session() as session:
            tess = await store.adviser_by_code(session, "tess")
        assert tess is not None and not tess.away

        stats = (await bot.send(ADMIN, "/stats")).text
        assert stats.startswith("This week\nSubscribers: ")  # the headline (tests/reports)
        assert "\n\nFeedback: 0 👍, 0 👎" in stats
        assert "Open: 2 (overdue: 0)" in stats
        assert "Tendering and bids: 2/2" in stats
        assert "Tess Tendering: 1/1" in stats and "Tom Bids: 1/1" in stats


async def test_ask_then_next_message_and_hostile_text(
    fake: FakeTelegram, database: Database
) -> None:
    await seed(database)
    async with running(fake, database) as bot:
        prompt = await bot.send(EVE, "/ask")
        assert "What would you like to ask" in prompt.text
        duty_mark = bot.mark(DUTY)
        hostile = "<b>hi</b> & <script>alert(1)</script> is this a question? \u202e"
        ack = await bot.send(EVE, hostile)
        assert "ENQ-000001" in ack.text
        (brief,) = await bot.after(DUTY, duty_mark)  # nothing fits: the duty adviser
        assert "<b>hi</b> & <script>alert(1)</script>" in brief.text
        assert "<Eve & Co>" in brief.text and "Not an alerts subscriber" in brief.text
        # The waiting state was used up: plain text is no new question but goes to the
        # adviser of the open one.
        duty_mark = bot.mark(DUTY)
        sent = await bot.send(EVE, "hello again")
        assert sent.text == "Sent to your adviser about ENQ-000001."
        (relayed,) = await bot.after(DUTY, duty_mark)
        assert "hello again" in relayed.text and "ENQ-000001" in relayed.text
        # /ask then another command cancels the question: the next message is no new one.
        await bot.send(EVE, "/ask")
        await bot.send(EVE, "/help")
        assert "ENQ-000001" in (await bot.send(EVE, "just chatting")).text
        async with bot.db.session() as session:
            assert await store.get_enquiry(session, 2) is None


def _markup(*data: str) -> object:
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in data]])


async def _alerted_notice(database: Database, ocid: str, title: str, days_left: int) -> int:
    """A stored notice and a due Telegram alert of it for ANN (to be dispatched)."""
    from datetime import timedelta

    from storage.models import NoticeRow
    from storage.outbox import NewDelivery, enqueue
    from storage.types import utcnow

    deadline = utcnow() + timedelta(days=days_left)
    async with database.session() as session:
        notice = NoticeRow(
            source="test",
            ocid=ocid,
            content_hash=ocid,
            stage="tender",
            title=title,
            deadline=deadline,
            data={
                "title": title,
                "url": f"https://www.find-tender.service.gov.uk/Notice/{ocid}",
                "buyer": "Nottingham City Council",
                "deadline": deadline.isoformat(),
                "regions": ["UKF14"],
            },
        )
        session.add(notice)
        await session.flush()
        assert notice.id is not None
        sub = await store.subscriber_for(session, ANN, None)
        assert sub is not None and sub.id is not None
        await enqueue(
            session,
            [
                NewDelivery(
                    subscriber_id=sub.id,
                    notice_id=notice.id,
                    version=1,
                    channel="telegram",
                    due_at=utcnow() - timedelta(seconds=1),
                    keywords=("catering",),
                )
            ],
        )
        return notice.id


async def _dispatch(bot: Any, database: Database) -> int:
    return int((await bot.running.app.services.send_alerts()).sent)


ASK_HOW = "Send your question in one message (send any command to cancel)."


async def test_ask_button_under_an_alert_attaches_the_notice(
    fake: FakeTelegram, database: Database
) -> None:
    await seed(database)
    title = "School catering framework <Lot 2> & cleaning"
    notice_id = await _alerted_notice(database, "ocds-1", title, days_left=20)
    async with running(fake, database) as bot:
        assert await _dispatch(bot, database) == 1
        alert = bot.last(ANN)
        ask = alert.button("Ask an adviser")["callback_data"]
        assert ask.startswith("ask:")

        # Someone else's forged press is refused.
        forged = await bot.app.bot.send_message(BEN, "x", reply_markup=_markup(ask))
        assert "isn't yours" in await bot.press(BEN, bot.fake.message(BEN, forged.message_id), ask)

        ann_mark = bot.mark(ANN)
        assert await bot.press(ANN, alert, ask, settle=False) == f"Ask about: {title}"
        prompt = (await bot.after(ANN, ann_mark))[0]
        assert prompt.text == (
            f"What would you like to ask about this opportunity, “{title}”? {ASK_HOW}"
        )
        tess_mark = bot.mark(TESS)
        ack = await bot.send(
            ANN, "Can we bid for just one lot as a small social enterprise tender?"
        )
        assert "ENQ-000001" in ack.text
        (brief,) = await bot.after(TESS, tess_mark)
        assert f"About: {title}" in brief.text
        assert "Buyer: Nottingham City Council" in brief.text
        assert (await bot.enquiry(1)).notice_id == notice_id


async def test_ask_button_in_a_grouped_message_asks_about_that_number(
    fake: FakeTelegram, database: Database
) -> None:
    await seed(database)
    await _alerted_notice(database, "ocds-soon", "Meals on wheels, north", days_left=3)
    later = await _alerted_notice(database, "ocds-later", "Community cafe lease", days_left=30)
    async with running(fake, database) as bot:
        assert await _dispatch(bot, database) == 2  # two deliveries, one message
        group = bot.last(ANN)
        assert "1. Closes " in group.text and " — notice\n    Meals on wheels, north" in group.text
        assert "2. Closes " in group.text and "\n    Community cafe lease" in group.text
        ann_mark = bot.mark(ANN)
        ask = group.button("❓ 2")["callback_data"]
        # the toast names the notice the numbered button is about
        assert await bot.press(ANN, group, ask, settle=False) == "Ask about: Community cafe lease"
        prompt = (await bot.after(ANN, ann_mark))[0]
        assert "“Community cafe lease”" in prompt.text
        await bot.send(ANN, "Could three of us bid together as a consortium for this one?")
        assert (await bot.enquiry(1)).notice_id == later
