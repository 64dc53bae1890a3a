"""Every settings command and button, through the real Application and the fake Bot API."""

from __future__ import annotations

import dataclasses

from bot.chat.core import data
from bot.chat.keywords import short_hash
from storage.db import Database
from tests.chat.conftest import ANN, BEN, Chat, make_config, no_bad_requests
from tests.fakes.harness import running_bot
from tests.fakes.smtp import SmtpSink
from tests.fakes.telegram_api import FakeTelegram


async def test_settings_screen_buttons_edit_in_place(chat: Chat) -> None:
    assert "not subscribed" in (await chat.send(BEN, "/settings")).text
    await chat.onboard(ANN)
    screen = await chat.send(ANN, "/settings")
    assert screen.text.startswith("⚙️ Your settings")
    assert "Keywords (2): community catering, school meals" in screen.text
    edits = len(chat.fake.edits)

    assert await chat.press(ANN, screen, data("tg", "vcse")) == "Only VCSE-suitable notices"
    assert (await chat.profile(ANN)).vcse_only
    now = chat.current(screen)
    assert "✓ VCSE-suitable only" in [b["text"] for b in now.buttons]
    assert "Suitability: only VCSE-suitable" in now.text

    await chat.press(ANN, now, data("tg", "sme"))
    await chat.press(ANN, now, data("fq", "weekly", "s"))
    await chat.press(ANN, now, data("qh"))
    await chat.press(ANN, now, data("dh"))
    await chat.press(ANN, now, data("tg", "pause"))
    sub, profile = await chat.subscriber(ANN) or (None, None)
    assert sub is not None and profile is not None
    assert profile.sme_only and sub.frequency == "weekly" and sub.paused
    assert sub.quiet_hours == "off" and sub.digest_hour == 9
    now = chat.current(screen)
    assert "▶️ Resume alerts" in [b["text"] for b in now.buttons]
    assert "weekly digest, Mondays at 09:00" in now.text

    # into the keywords view and back, all in the same message
    await chat.press(ANN, now, data("kw", "s"))
    now = chat.current(screen)
    assert now.text.startswith("🏷 Your keywords (2 of 50)")
    await chat.press(ANN, now, now.button("✖ school meals")["callback_data"])
    assert (await chat.profile(ANN)).keywords == ["community catering"]
    now = chat.current(screen)
    # the last keyword can't go (the profile would match nothing)
    answer = await chat.press(ANN, now, now.button("✖ community catering")["callback_data"])
    assert answer.startswith("You need at least one keyword")
    await chat.press(ANN, now, data("st"))
    now = chat.current(screen)
    assert now.text.startswith("⚙️ Your settings")
    await chat.press(ANN, now, data("rgm", "s"))
    now = chat.current(screen)
    await chat.press(ANN, now, now.button("Anywhere in England")["callback_data"])
    assert (await chat.profile(ANN)).regions == ["ENG"]
    await chat.press(ANN, chat.current(screen), data("rgok", "s"))
    assert chat.current(screen).text.startswith("⚙️ Your settings")
    assert len(chat.fake.edits) > edits
    assert (
        len(chat.fake.messages(ANN))
        == len([m for m in chat.fake.messages(ANN) if m.message_id != screen.message_id]) + 1
    )  # one settings message, edited in place


async def test_keywords_add_remove_exclude(chat: Chat) -> None:
    # /add before any subscription subscribes with those words (and goes on with onboarding)
    offered = await chat.send(BEN, "/add catering, school meals")
    assert [b["text"] for b in offered.buttons][:2] == ["✓ catering", "✓ school meals"]
    assert (await chat.profile(BEN)).keywords == ["catering", "school meals"]
    await chat.onboard(ANN, "catering")
    reply = await chat.send(ANN, '/add cleaning\nlaundry; Catering, "deep clean" and ironing')
    assert "Added 4" in reply.text and "Already there: “Catering”" in reply.text
    assert (await chat.profile(ANN)).keywords == [
        "catering",
        "cleaning",
        "laundry",
        '"deep clean"',
        "ironing",
    ]
    ask = await chat.send(ANN, "/add")
    assert "Which keywords shall I add?" in ask.text and "up to 50 keywords" in ask.text
    assert "Added 1" in (await chat.send(ANN, "gardening")).text
    listed = await chat.send(ANN, "/keywords")
    older = await chat.send(ANN, "/keywords")
    assert "6. gardening" in listed.text
    await chat.press(ANN, listed, data("kx", 5, short_hash("gardening"), "k"))
    assert "gardening" not in (await chat.profile(ANN)).keywords
    # stale buttons (another message, indexes moved) remove the right word or say it's gone
    assert await chat.press(ANN, older, data("kx", 5, short_hash("gardening"), "k")) == (
        "That keyword is already gone."
    )
    await chat.press(ANN, chat.current(listed), data("kx", 1, short_hash("cleaning"), "k"))
    assert await chat.press(
        ANN, chat.current(older), data("kx", 2, short_hash("laundry"), "k")
    ) == ("Removed “laundry” — 0 open notices match now.")
    assert (await chat.profile(ANN)).keywords == ["catering", '"deep clean"', "ironing"]
    reply = await chat.send(ANN, "/remove ironing, nonsense")
    assert "Removed: “ironing”" in reply.text and "Not in your keywords: “nonsense”" in reply.text
    assert "Tap ✖" in (await chat.send(ANN, "/remove")).text

    assert "exclude nothing" in (await chat.send(ANN, "/exclude")).text
    assert "Added 2" in (await chat.send(ANN, "/exclude asbestos, construction")).text
    view = await chat.send(ANN, "/exclude")
    await chat.press(ANN, view, data("ex", 0, short_hash("asbestos")))
    assert (await chat.profile(ANN)).exclude == ["construction"]


async def test_regions_typed_and_buttons(chat: Chat) -> None:
    await chat.onboard(ANN)
    # new subscribers watch all the East Midlands: a county typed is covered already
    covered = await chat.send(ANN, "/regions derby")
    assert "Derby is already covered by your regions (All East Midlands)" in covered.text
    assert covered.buttons
    await chat.press(ANN, covered, covered.button("Derby")["callback_data"])
    assert (await chat.profile(ANN)).regions == ["UKF11"]
    # /regions NAME adds, as /add does
    added = await chat.send(ANN, "/regions leicestershire")
    assert "Added Leicestershire &amp; Rutland" in added.text or (
        "Added Leicestershire & Rutland" in added.text
    )
    assert "Your regions: Derby, Leicestershire & Rutland." in added.text
    assert (await chat.profile(ANN)).regions == ["UKF11", "UKF22"]
    bad = await chat.send(ANN, "/regions mars")
    assert bad.text.startswith("I don't know “mars”") and bad.buttons
    assert (await chat.profile(ANN)).regions == ["UKF11", "UKF22"]
    menu = await chat.send(ANN, "/regions")
    await chat.press(ANN, menu, menu.button("All East Midlands")["callback_data"])
    assert (await chat.profile(ANN)).regions == ["UKF"]
    await chat.press(ANN, chat.current(menu), data("rgok", "r"))
    assert chat.current(menu).text == "📍 Saved. Your regions: All East Midlands."
    london = await chat.send(ANN, "/regions london")
    assert "Your regions: All East Midlands, London." in london.text
    assert (await chat.profile(ANN)).regions == ["UKF", "UKI"]
    assert "Anywhere in England" in (await chat.send(ANN, "/regions england")).text
    assert (await chat.profile(ANN)).regions == ["ENG"]


async def test_cpv_codes_validated_and_suggested(chat: Chat) -> None:
    await chat.onboard(ANN)
    reply = await chat.send(ANN, "/cpv 555 55524000 999")
    assert "Added CPV 555 Canteen and catering services" in reply.text
    assert "Added CPV 55524000 School catering services" in reply.text
    assert "“999” isn't a CPV code I know" in reply.text
    assert (await chat.profile(ANN)).cpv == ["555", "55524000"]
    suggest = await chat.send(ANN, "/cpv catering")
    assert "tap one to add it" in suggest.text
    first = suggest.callback_data[0]
    code = first.rpartition(":")[2]
    assert (await chat.press(ANN, suggest, first)).startswith("✅ Added") or code in (
        await chat.profile(ANN)
    ).cpv
    view = await chat.send(ANN, "/cpv")
    await chat.press(ANN, view, data("cpx", "555"))
    assert "555" not in (await chat.profile(ANN)).cpv
    assert "found no CPV codes" in (await chat.send(ANN, "/cpv zzqxj")).text


async def test_value_flags_frequency_quiet_pause(chat: Chat) -> None:
    await chat.onboard(ANN)
    assert "Saved: £10k to £500k" in (await chat.send(ANN, "/value 10k 500k")).text
    profile = await chat.profile(ANN)
    assert (profile.min_value, profile.max_value) == (10_000, 500_000)
    bad = await chat.send(ANN, "/value ten")
    assert "“ten” isn't an amount" in bad.text and "Now: £10k to £500k" in bad.text
    assert "Saved: any value" in (await chat.send(ANN, "/value any")).text
    assert (await chat.profile(ANN)).min_value is None

    assert "Only VCSE-suitable notices from now on" in (await chat.send(ANN, "/vcse on")).text
    assert (await chat.profile(ANN)).vcse_only
    assert "Type on or off" in (await chat.send(ANN, "/sme maybe")).text
    assert "no longer required" in (await chat.send(ANN, "/vcse off")).text

    assert "daily digest at 07:00" in (await chat.send(ANN, "/frequency daily 7am")).text
    sub, _ = await chat.subscriber(ANN) or (None, None)
    assert sub is not None and (sub.frequency, sub.digest_hour) == ("daily", 7)
    assert "Fridays at 17:00" in (await chat.send(ANN, "/frequency weekly fri 17")).text
    bad = await chat.send(ANN, "/frequency hourly")
    assert "“hourly” isn't a frequency" in bad.text
    picker = await chat.send(ANN, "/frequency")
    await chat.press(ANN, picker, data("fq", "instant", "s"))
    sub, _ = await chat.subscriber(ANN) or (None, None)
    assert sub is not None and sub.frequency == "instant"

    assert "Quiet hours set: 22:00-06:30" in (await chat.send(ANN, "/quiet 22-6:30")).text
    assert "/quiet off" in (await chat.send(ANN, "/quiet always")).text
    assert "Quiet hours are off" in (await chat.send(ANN, "/quiet off")).text

    assert "paused" in (await chat.send(ANN, "/pause")).text
    assert "on again" in (await chat.send(ANN, "/resume")).text
    assert "/resume" in (await chat.send(ANN, "/stop")).text
    sub, _ = await chat.subscriber(ANN) or (None, None)
    assert sub is not None and sub.paused
    assert "There's nothing to cancel" in (await chat.send(ANN, "/cancel")).text


async def test_settings_open_in_browser_with_a_public_web_address(
    fake: FakeTelegram, database: Database, smtp: SmtpSink
) -> None:
    """With ``[web] public_url`` set, /settings offers the signed settings page, and the
    button survives every edit of the screen; the link opens that subscriber's page."""
    config = make_config(fake, database.url, smtp)
    config = dataclasses.replace(
        config, web=config.web.model_copy(update={"public_url": "https://alerts.seem.example"})
    )
    async with running_bot(config) as running:
        chat = Chat(fake, database, running, config, smtp)
        chat.options.flood_limit = 10_000
        await chat.onboard(ANN)
        screen = await chat.send(ANN, "/settings")
        button = screen.button("🌐 Open in browser")
        assert button["url"].startswith("https://alerts.seem.example/manage/")
        token = button["url"].rsplit("/", 1)[1]
        signed = running.services.signer.verify("manage", token)
        sub = await chat.subscriber(ANN)
        assert signed is not None and sub is not None and signed.subject == sub[0].public_id
        await chat.press(ANN, screen, data("fq", "weekly", "s"))
        assert (
            chat.current(screen)
            .button("🌐 Open in browser")["url"]
            .startswith("https://alerts.seem.example/manage/")
        )
    no_bad_requests(fake)
