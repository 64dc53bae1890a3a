"""Onboarding end to end: /start -> keywords -> regions -> frequency -> a working
subscription that receives a matching alert through the real pipeline and Dispatcher.
Deep links: linking an email subscriber, a bad payload, a registered payload prefix."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from telegram import Update

from bot.channels import telegram_application
from bot.chat import onboarding
from bot.chat.core import Context
from bot.chat.email_link import link_payload, manage_link
from bot.dispatcher import Dispatcher, DispatchSettings
from bot.pipeline import TimingDefaults, match_and_enqueue
from bot.telegram_channel import TelegramSender
from bot.tokens import sign
from feeds.notice import Notice
from storage.chat import get_state
from storage.db import Database
from storage.notices import store_notice
from storage.subscribers import SubscriberInput, upsert_subscriber
from storage.types import utcnow
from tests.chat.conftest import ANN, BEN, BOT_USERNAME, EVE, SECRET, Chat, make_config
from tests.fakes.telegram_api import FakeTelegram


async def test_start_to_working_subscription_and_a_matching_alert(chat: Chat) -> None:
    welcome = await chat.send(ANN, "/start")
    assert welcome.text.startswith("Hello Ann! 👋 I'm bestbot")
    assert "What does your enterprise do?" in welcome.text
    regions = await chat.send(ANN, "Community catering, school meals and  “meals on wheels”\n")
    assert 'I\'ll look for: “Community catering”, “school meals”, “"meals on wheels"”' in (
        regions.text
    )
    found = await chat.subscriber(ANN)
    assert found is not None
    sub, profile = found
    assert profile.keywords == ["Community catering", "school meals", '"meals on wheels"']
    assert profile.regions == ["UKF"] and sub.telegram_active and sub.frequency == "instant"

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
    await chat.press(ANN, edited, edited.button("Daily")["callback_data"])
    done = chat.current(regions)
    assert done.text.startswith("✅ All set!") and done.reply_markup is None
    assert "daily digest at 08:00" in done.text
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
        stored = await store_notice(session, notice)
    report = await match_and_enqueue(
        chat.db, [stored], TimingDefaults(ZoneInfo("Europe/London"), None), now
    )
    assert report.queued == 1
    n = chat.count(ANN)
    dispatcher = Dispatcher(
        chat.db, DispatchSettings(), worker_id="t", telegram=TelegramSender(chat.app.bot)
    )
    assert (await dispatcher.run_until_idle()).sent == 1
    alert = (await chat.fake.wait_for_messages(ANN, n + 1))[n]
    assert "School meals service for Nottingham" in alert.text


async def test_welcome_back_and_conversation_survives_a_restart(
    fake: FakeTelegram, database: Database
) -> None:
    config = make_config(fake, database.url, None)
    async with telegram_application(config, receive_updates=True) as app:
        first = Chat(fake, database, app, config, None)
        await first.send(BEN, "/start")
    # a new process (or another worker) carries on the same conversation
    async with telegram_application(config, receive_updates=True) as app:
        second = Chat(fake, database, app, config, None)
        reply = await second.send(BEN, "laundry")
        assert "Where do you work?" in reply.text
        assert (await second.profile(BEN)).keywords == ["laundry"]
        back = await second.send(BEN, "/start")
        assert back.text.startswith("Welcome back!")
        await second.send(BEN, "/pause")
        assert "paused: send /resume" in (await second.send(BEN, "/start")).text


async def test_onboarding_answers_that_hold_no_keywords_are_explained(chat: Chat) -> None:
    await chat.send(EVE, "/start")
    reply = await chat.send(EVE, "🎉🎉 *_[")
    assert "couldn't find any words" in reply.text and "up to 50 keywords" in reply.text
    assert await chat.subscriber(EVE) is None
    n = chat.count(EVE)
    chat.fake.user_sends_sticker(EVE)
    assert "type your keywords" in (await chat.fake.wait_for_messages(EVE, n + 1))[n].text
    await chat.settle(EVE)
    long = "x" * 5000
    reply = await chat.send(EVE, f"<script>alert(1)</script>, {long}")
    assert "Too long (at most 60 characters)" in reply.text
    assert (await chat.profile(EVE)).keywords == ["script>alert(1)</script"]


async def test_deep_link_links_an_email_subscriber(chat: Chat) -> None:
    async with chat.db.session() as session:
        sub_id, _ = await upsert_subscriber(
            session,
            SubscriberInput(
                name="Eddie",
                email="eddie@example.org",
                telegram_chat_id=None,
                frequency="daily",
                profile={"keywords": ["gardening"]},
            ),
        )
    link = manage_link(chat.config, sub_id)
    assert link == f"https://t.me/{BOT_USERNAME}?start={link_payload(SECRET, sub_id)}"
    payload = link.rpartition("=")[2]
    assert len(payload) <= 64 and all(c.isalnum() or c in "-_" for c in payload)
    # Ann had her own set-up; the link replaces it with Eddie's subscription
    await chat.onboard(ANN)
    reply = await chat.send(ANN, f"/start {payload}")
    assert "✅ Linked!" in reply.text and "e***@example.org" in reply.text
    sub, profile = await chat.subscriber(ANN) or (None, None)
    assert sub is not None and profile is not None
    assert sub.id == sub_id and sub.telegram_active and sub.email_active
    assert profile.keywords == ["gardening"]
    answer = await chat.press(ANN, reply, reply.button("Telegram")["callback_data"])
    assert answer == "Alerts will come on Telegram."
    sub, _ = await chat.subscriber(ANN) or (None, None)
    assert sub is not None and not sub.email_active and sub.telegram_active
    # the raw token works too, and says so when already linked
    raw = sign(SECRET, "link", sub_id)
    assert "already manages" in (await chat.send(ANN, f"/start {raw}")).text


async def test_bad_or_forged_payloads_get_a_friendly_reply_and_onboarding(chat: Chat) -> None:
    forged = link_payload("another-secret-entirely", 1)
    for payload in (forged, "garbage", "123-abc", "unsubscribe-1"):
        reply = await chat.send(BEN, f"/start {payload}")
        assert reply.text.startswith("Sorry, that link didn't work")
        assert "What does your enterprise do?" in reply.text
    await chat.onboard(BEN)
    reply = await chat.send(BEN, "/start 99-nope")
    assert "Your alerts are unchanged" in reply.text


async def test_registered_start_payloads_for_other_features(chat: Chat) -> None:
    seen: list[str] = []

    async def invite(update: Update, context: Context, payload: str) -> bool:
        seen.append(payload)
        if payload == "adv-good":
            assert update.effective_chat is not None
            await context.bot.send_message(update.effective_chat.id, "Invite accepted")
            return True
        return False

    onboarding.register_start_payload("adv-", invite)
    try:
        assert (await chat.send(ANN, "/start adv-good")).text == "Invite accepted"
        assert (await chat.send(ANN, "/start adv-bad")).text.startswith("Sorry, that link")
        assert seen == ["adv-good", "adv-bad"]
    finally:
        onboarding._START_PAYLOADS.pop("adv-", None)


def test_alert_emails_carry_the_manage_by_telegram_link() -> None:
    from datetime import UTC, datetime

    from bot.app import Service, _email_builder
    from bot.config import config_from_dict
    from bot.render import AlertView
    from storage.models import SubscriberRow

    config = config_from_dict(
        {"telegram": {"bot_username": BOT_USERNAME}, "web": {"secret_key": SECRET}}, env={}
    )
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
    sub = SubscriberRow(id=42, email="eddie@example.org", frequency="instant")
    message = _email_builder(Service(config))(
        views=[view],
        subscriber=sub,
        now=datetime.now(UTC),
        tz=ZoneInfo("Europe/London"),
        unsubscribe_url="https://alerts.example.org/u/x",
        from_address="alerts@seem.example.org",
        from_email="alerts@seem.example.org",
    )
    link = manage_link(config, 42)
    assert link is not None and link in message.get_body(("plain",)).get_content()
