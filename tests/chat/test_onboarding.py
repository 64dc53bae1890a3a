"""Onboarding end to end: /start -> keywords -> regions -> frequency -> a working
subscription that receives a matching alert through the real pipeline and delivery loop.
Deep links: linking an email subscriber (by a fresh code to the address), bad payloads,
the adviser-invite payload."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.links import Links, Signer, start_payload
from feeds.notice import Notice
from storage.chat import get_state
from storage.db import Database
from storage.notices import store_notice
from storage.subscribers import SubscriberInput, recipients, upsert_subscriber
from storage.types import utcnow
from tests.chat.conftest import ANN, BEN, BOT_USERNAME, EVE, SECRET, Chat, make_config
from tests.fakes.harness import running_bot
from tests.fakes.telegram_api import FakeTelegram


async def test_start_to_working_subscription_and_a_matching_alert(chat: Chat) -> None:
    welcome = await chat.send(ANN, "/start")
    assert welcome.text.startswith("Hello Ann! 👋 I'm bestbot")
    assert "What does your enterprise do?" in welcome.text
    offered = await chat.send(ANN, "Community catering, school meals and  “meals on wheels”\n")
    assert 'look for notices about: “community catering”, “school meals”, “"meals on wheels"”' in (
        offered.text
    )
    assert [b["text"] for b in offered.buttons][:3] == [
        "✓ community catering",
        "✓ school meals",
        '✓ "meals on wheels"',
    ]
    found = await chat.subscriber(ANN)
    assert found is not None
    sub, profile = found
    assert profile.keywords == ["community catering", "school meals", '"meals on wheels"']
    assert profile.description == "Community catering, school meals and “meals on wheels”"
    assert profile.regions == ["UKF"] and sub.telegram_active and sub.frequency == "instant"

    # ✗ drops a word from the keywords at once; ✓ brings it back
    answer = await chat.press(ANN, offered, offered.button("meals on wheels")["callback_data"])
    assert answer == 'Dropped “"meals on wheels"”'
    assert (await chat.profile(ANN)).keywords == ["community catering", "school meals"]
    assert '✗ "meals on wheels"' in [b["text"] for b in chat.current(offered).buttons]
    n = chat.count(ANN)
    await chat.press(ANN, offered, offered.button("Next")["callback_data"])
    asked = (await chat.fake.wait_for_messages(ANN, n + 1))[n]
    assert "What's your enterprise called?" in asked.text
    assert chat.current(offered).reply_markup is None
    regions = await chat.send(ANN, "Bread & Roses Kitchen")
    assert regions.text.startswith("Thanks, Bread &amp; Roses Kitchen!") or regions.text.startswith(
        "Thanks, Bread & Roses Kitchen!"
    )
    sub, _ = await chat.subscriber(ANN) or (None, None)
    assert sub is not None and sub.name == "Bread & Roses Kitchen"

    # regions: untick "All East Midlands" by picking Nottingham, then add Derbyshire
    answer = await chat.press(ANN, regions, regions.button("Nottingham")["callback_data"])
    assert answer == "Nottingham: added"
    edited = chat.current(regions)
    assert "✅ Nottingham" in [b["text"] for b in edited.buttons]
    await chat.press(ANN, edited, edited.button("Derbyshire")["callback_data"])
    assert (await chat.profile(ANN)).regions == ["UKF14", "UKF12", "UKF13"]
    edited = chat.current(regions)
    assert "Now: Derbyshire, Nottingham" in edited.text
    await chat.press(ANN, edited, edited.button("Next")["callback_data"])
    edited = chat.current(regions)
    assert "How often would you like alerts?" in edited.text
    assert "Done" not in edited.text
    n = chat.count(ANN)
    await chat.press(ANN, edited, edited.button("Daily")["callback_data"])
    done = chat.current(regions)
    assert done.text.startswith("✅ All set!") and done.reply_markup is None
    assert "daily digest at 08:00" in done.text
    # and what the settings find right now (nothing is stored yet)
    found_now = (await chat.fake.wait_for_messages(ANN, n + 1))[n]
    assert "Nothing open matches right now" in found_now.text
    async with chat.db.session() as session:
        assert await get_state(session, ANN) is None

    # back to instant for the alert, through /frequency
    assert "instantly" in (await chat.send(ANN, "/frequency instant")).text

    # a matching notice in Nottingham goes through the pipeline and the Dispatcher
    now = utcnow()
    notice = Notice(
        source="find_a_tender",
        ocid="ocds-h6vhtk-0chat1",
        release_id="r1",
        notice_type="UK4",
        stage="tender",
        title="School meals service for Nottingham primary schools",
        description="Provision of school meals and community catering.",
        buyer="Nottingham City Council",
        regions=("UKF14",),
        deadline=now + timedelta(days=20),
        published=now,
        url="https://www.find-tender.service.gov.uk/Notice/0chat1",
    )
    async with chat.db.session() as session:
        await store_notice(session, notice)
    n = chat.count(ANN)
    assert await chat.deliver() == 1
    alert = (await chat.fake.wait_for_messages(ANN, n + 1))[n]
    assert "School meals service for Nottingham" in alert.text


async def test_welcome_back_and_conversation_survives_a_restart(
    fake: FakeTelegram, database: Database
) -> None:
    config = make_config(fake, database.url, None)
    async with running_bot(config) as running:
        first = Chat(fake, database, running, config, None)
        await first.send(BEN, "/start")
    # a new process (or another worker) carries on the same conversation
    async with running_bot(config) as running:
        second = Chat(fake, database, running, config, None)
        reply = await second.send(BEN, "laundry")
        assert "✓ laundry" in [b["text"] for b in reply.buttons]
        assert (await second.profile(BEN)).keywords == ["laundry"]
        back = await second.send(BEN, "/start")
        assert back.text.startswith("Welcome back!")
        await second.send(BEN, "/pause")
        assert "paused: send /resume" in (await second.send(BEN, "/start")).text


async def test_onboarding_answers_that_hold_no_keywords_are_explained(chat: Chat) -> None:
    await chat.send(EVE, "/start")
    reply = await chat.send(EVE, "🎉🎉 *_[")
    assert "couldn't find what you do" in reply.text and "What does your enterprise do?" in (
        reply.text
    )
    assert await chat.subscriber(EVE) is None
    n = chat.count(EVE)
    chat.fake.user_sends_sticker(EVE)
    assert "Please type it" in (await chat.fake.wait_for_messages(EVE, n + 1))[n].text
    await chat.settle(EVE)
    long = "x" * 5000
    reply = await chat.send(EVE, f"<script>alert(1)</script>, cleaning, {long}")
    assert "<script" not in reply.text.replace("&lt;", "")
    assert (await chat.profile(EVE)).keywords == ["cleaning"]


def _links() -> Links:
    return Links(Signer(SECRET), "https://alerts.example.org", BOT_USERNAME)


async def _email_subscriber(chat: Chat, email: str = "eddie@example.org") -> int:
    async with chat.db.session() as session:
        sub_id, _ = await upsert_subscriber(
            session,
            SubscriberInput(
                name="Eddie",
                email=email,
                telegram_chat_id=None,
                frequency="daily",
                profile={"keywords": ["gardening"]},
            ),
        )
    return sub_id


async def _link_of(chat: Chat, sub_id: int) -> str:
    async with chat.db.session() as session:
        recipient = (await recipients(session, [sub_id]))[sub_id]
    link = _links().telegram_link(recipient)
    assert link is not None
    return link


def _code_in(chat: Chat, to: str) -> str:
    assert chat.smtp is not None
    mails = [m.message for m in chat.smtp.messages if to in (m.header("To") or "")]
    found = re.search(r"Your code is (\d{6})", mails[-1].get_body(("plain",)).get_content())
    assert found is not None
    return found.group(1)


async def test_deep_link_links_an_email_subscriber_after_a_code_to_the_address(
    chat: Chat,
) -> None:
    sub_id = await _email_subscriber(chat)
    link = await _link_of(chat, sub_id)
    assert link.startswith(f"https://t.me/{BOT_USERNAME}?start=")
    payload = link.rpartition("=")[2]
    assert len(payload) <= 64 and all(c.isalnum() or c in "-_" for c in payload)
    # Ann had her own set-up; opening the link alone changes nothing…
    await chat.onboard(ANN)
    reply = await chat.send(ANN, f"/start {payload}")
    assert "emailed a 6-digit code to e***@example.org" in reply.text
    sub, _ = await chat.subscriber(ANN) or (None, None)
    assert sub is not None and sub.id != sub_id
    # …until the code sent to the subscription's own address is typed here
    reply = await chat.send(ANN, _code_in(chat, "eddie@example.org"))
    assert "✅ Linked!" in reply.text and "e***@example.org" in reply.text
    sub, profile = await chat.subscriber(ANN) or (None, None)
    assert sub is not None and profile is not None
    assert sub.id == sub_id and sub.telegram_active and sub.email_active
    assert profile.keywords == ["gardening"]
    answer = await chat.press(ANN, reply, reply.button("Telegram")["callback_data"])
    assert answer == "Alerts will come on Telegram."
    sub, _ = await chat.subscriber(ANN) or (None, None)
    assert sub is not None and not sub.email_active and sub.telegram_active
    # the link was single-use: control moved, so the same link no longer works
    again = await chat.send(BEN, f"/start {payload}")
    assert again.text.startswith("Sorry, that link didn't work")


async def test_a_forwarded_link_asks_the_address_and_tells_the_old_chat(chat: Chat) -> None:
    sub_id = await _email_subscriber(chat)
    payload = (await _link_of(chat, sub_id)).rpartition("=")[2]
    await chat.send(ANN, f"/start {payload}")
    await chat.send(ANN, _code_in(chat, "eddie@example.org"))
    # a new email (new link version) is forwarded to Ben, who opens it
    payload = (await _link_of(chat, sub_id)).rpartition("=")[2]
    reply = await chat.send(BEN, f"/start {payload}")
    assert "code" in reply.text
    # Ben can't get the code (it went to Eddie's inbox): guessing fails, nothing moves
    for guess in ("000000", "111111"):
        assert "isn't right" in (await chat.send(BEN, guess)).text
    sub, _ = await chat.subscriber(ANN) or (None, None)
    assert sub is not None and sub.id == sub_id
    # with the code (Eddie passed it on), control moves and Ann's chat is told
    n = chat.count(ANN)
    reply = await chat.send(BEN, _code_in(chat, "eddie@example.org"))
    assert "✅ Linked!" in reply.text
    notice = (await chat.fake.wait_for_messages(ANN, n + 1))[n]
    assert "now managed from another Telegram chat" in notice.text
    assert await chat.subscriber(ANN) is None


async def test_an_expired_or_tampered_link_does_nothing(chat: Chat) -> None:
    sub_id = await _email_subscriber(chat)
    async with chat.db.session() as session:
        recipient = (await recipients(session, [sub_id]))[sub_id]
    old = Signer(SECRET).sign(
        "link", recipient.public_id, ttl=timedelta(days=30), now=utcnow() - timedelta(days=31)
    )
    forged = Signer("another-secret").sign("link", recipient.public_id, ttl=timedelta(days=1))
    for token in (old, forged):
        reply = await chat.send(ANN, f"/start {start_payload(token)}")
        assert reply.text.startswith("Sorry, that link didn't work")
    assert chat.smtp is not None and not chat.smtp.messages


async def test_bad_or_forged_payloads_get_a_friendly_reply_and_onboarding(chat: Chat) -> None:
    forged = start_payload(Signer("another-secret-entirely").sign("link", "abc"))
    for payload in (forged, "garbage", "123-abc", "unsubscribe-1"):
        reply = await chat.send(BEN, f"/start {payload}")
        assert reply.text.startswith("Sorry, that link didn't work")
        assert "What does your enterprise do?" in reply.text
    await chat.onboard(BEN)
    reply = await chat.send(BEN, "/start 99-nope")
    assert "Your alerts are unchanged" in reply.text


async def test_an_adviser_invite_payload_goes_to_the_invite_handler(chat: Chat) -> None:
    reply = await chat.send(ANN, "/start adv-1-0-0-notasignature")
    assert "adviser invite link is not valid" in reply.text


def test_alert_emails_carry_the_manage_by_telegram_link() -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from bot.delivery.mail import Mailer, MailSettings
    from bot.render.model import AlertView
    from storage.subscribers import Recipient

    view = AlertView(
        delivery_id=1,
        notice_id=1,
        kind="alert",
        title="School meals",
        url=None,
        buyer=None,
        value_amount=None,
        value_min=None,
        currency=None,
        deadline=None,
        regions=(),
        suitable_sme=None,
        suitable_vcse=None,
        reasons=(),
        keywords=(),
        changes={},
    )
    person = Recipient(
        id=42,
        public_id="P" * 22,
        link_version=3,
        name="Eddie",
        email="eddie@example.org",
        email_active=True,
        telegram_chat_id=None,
        telegram_active=False,
        frequency="instant",
        paused=False,
    )
    mailer = Mailer(MailSettings(timezone=ZoneInfo("Europe/London")), _links())
    message, _ = mailer.alerts(person, [view], datetime.now(UTC))
    link = _links().telegram_link(person)
    assert link is not None and link in message.get_body(("plain",)).get_content()
    assert "P" * 22 in link and "42" not in link.rpartition("=")[2].split("-")[0]


async def test_an_old_manage_link_never_reaches_whoever_gets_a_reused_id(chat: Chat) -> None:
    """#17.4: SQLite gives a deleted subscriber's id to the next one; the old email's
    "manage by Telegram" link names the first one's random public id, so it does nothing
    for the second — no code to their address, no link to the opener's chat."""
    from sqlalchemy import text

    from storage.models import SubscriberRow

    first = await _email_subscriber(chat, "first@example.org")
    old = (await _link_of(chat, first)).rpartition("=")[2]
    async with chat.db.session() as session:
        await session.delete(await session.get(SubscriberRow, first))
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            await session.exec(  # a sequence never goes back by itself; a restore can
                text("SELECT setval(pg_get_serial_sequence('subscriber', 'id'), :id, false)"),
                params={"id": first},
            )
    second = await _email_subscriber(chat, "second@example.org")
    assert second == first  # the id was reused
    reply = await chat.send(ANN, f"/start {old}")
    assert reply.text.startswith("Sorry, that link didn't work")
    assert chat.smtp is not None and chat.smtp.to("second@example.org") == []
    async with chat.db.session() as session:
        row = await session.get(SubscriberRow, second)
    assert row is not None and row.telegram_chat_id is None
