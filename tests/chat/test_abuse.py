"""Bad input and abuse: a helpful reply every time, nothing stored lost, no 400s; flood
protection for one user that leaves everyone else alone."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.chat.throttle import SLOW_DOWN
from tests.chat.conftest import ANN, BEN, EVE, Chat


async def test_bad_input_gets_a_helpful_reply_and_keeps_what_is_stored(chat: Chat) -> None:
    await chat.onboard(ANN, "catering, laundry")
    cases = {
        "/add": "Which keywords shall I add?",
        "/cancel": "cancelled",
        "/add " + "x" * 5000: "Too long (at most 60 characters)",
        "/add <script>alert(1)</script>": "Added 1",
        "/add *_[": "didn't find any keywords",
        "/add 🎉🎉🎉": "No letters or digits",
        "/add \u202egnihtemos\u202c, \x07bell\x00": "Added 2",
        "/add مرحبا": "Added 1",
        "/frequency hourly": "isn't a frequency",
        "/value ten": "isn't an amount",
        "/value 500k 10k": "is above the largest",
        "/regions mars": "I don't know “mars”",
        "/cpv 999": "isn't a CPV code I know",
        "/vcse sometimes": "Type on or off",
        "/quiet 25:00-07:00": "/quiet 21:00-07:00",
        "/email <b>@</b>": "doesn't look like an email address",
        "/verify abc": "6-digit code",
        "/frobnicate": "I don't know /frobnicate",
        "hello": "I read commands",
    }
    for text, expected in cases.items():
        reply = await chat.send(ANN, text)
        assert expected in reply.text, (text, reply.text)
    keywords = (await chat.profile(ANN)).keywords
    assert keywords[:2] == ["catering", "laundry"]
    assert "gnihtemos" in keywords and "bell" in keywords  # control and bidi marks removed
    assert all(len(k) <= 60 for k in keywords)

    many = ", ".join(f"word{i}" for i in range(200))
    reply = await chat.send(ANN, f"/add {many}")
    assert "you can have at most 50 keywords" in reply.text
    assert len((await chat.profile(ANN)).keywords) == 50
    assert (await chat.profile(ANN)).keywords[:2] == ["catering", "laundry"]

    for send in (chat.fake.user_sends_sticker, chat.fake.user_sends_photo):
        n = chat.count(ANN)
        send(ANN)
        reply = (await chat.fake.wait_for_messages(ANN, n + 1))[n]
        assert reply.text.startswith("I can only read text")
    n = chat.count(ANN)
    chat.fake.user_forwards(ANN, "/add spam, eggs")
    reply = (await chat.fake.wait_for_messages(ANN, n + 1))[n]
    await chat.settle(ANN)
    assert "I can't" in reply.text or "forwarded" in reply.text
    assert "spam" not in (await chat.profile(ANN)).keywords


async def test_flood_is_throttled_politely_and_others_are_unaffected(chat: Chat) -> None:
    chat.options.flood_limit = 30
    chat.options.flood_window = timedelta(seconds=3)
    for _ in range(100):
        chat.fake.user_sends(EVE, "/keywords")
    ben = await chat.send(BEN, "/help")  # handled after all of Eve's: Ben isn't throttled
    assert ben.text.startswith("Hello Ben!")
    replies = chat.fake.messages(EVE)
    assert len(replies) == 31  # 30 answered, one polite note, the rest dropped
    assert [r.text for r in replies].count(SLOW_DOWN) == 1
    assert replies[-1].text == SLOW_DOWN
    await asyncio.sleep(3.1)  # the next window
    assert "not subscribed" in (await chat.send(EVE, "/keywords")).text
