"""/types: which kinds of notice reach a subscriber, and the reserved-contracts filter,
through the real Application and the fake Bot API; signed buttons, role checks."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import sign
from bot.chat.core import NOT_ADMIN, data
from bot.telegram.wording import GARBLED
from tests.chat.conftest import ANN, BEN, GROUP, Chat
from tests.fakes.telegram_api import SentMessage


def _labels(message: SentMessage) -> list[str]:
    return [b["text"] for b in message.buttons]


async def test_types_menu_switches_kinds_and_reserved_filter(chat: Chat) -> None:
    assert "not subscribed" in (await chat.send(BEN, "/types")).text
    await chat.onboard(ANN)
    menu = await chat.send(ANN, "/types")
    assert menu.text.startswith("📨 Which kinds of notice reach you")
    assert "✓ Tenders (UK4)" in menu.text and "✓ Pipeline and planned (UK1, UK3)" in menu.text
    assert "in your digest" in menu.text
    assert "Awards and contract changes are never sent" in menu.text
    assert _labels(menu)[:5] == [
        "✓ Tenders",
        "✓ Market engagement",
        "✓ Dynamic markets to join",
        "✓ Pipeline and planned",
        "✓ Dynamic market changes",
    ]

    early = menu.button("✓ Pipeline and planned")["callback_data"]
    assert early.startswith("s:ty:early:t:")  # signed: a tag after the data
    assert await chat.press(ANN, menu, early) == "Pipeline and planned: off"
    assert (await chat.profile(ANN)).kinds_off == ["pipeline", "planned"]
    now = chat.current(menu)
    assert "✗ Pipeline and planned" in _labels(now) and "✗ Pipeline and planned (UK1" in now.text

    engage = now.button("✓ Market engagement")["callback_data"]
    assert await chat.press(ANN, now, engage) == "Market engagement: off"
    now = chat.current(menu)
    again = now.button("✗ Pipeline and planned")["callback_data"]
    assert await chat.press(ANN, now, again) == "Pipeline and planned: on"
    assert (await chat.profile(ANN)).kinds_off == ["engagement"]

    reserved = chat.current(menu).button("✗ 🔒 Only reserved: supported employment")
    answer = await chat.press(ANN, chat.current(menu), reserved["callback_data"])
    assert answer == "Only contracts reserved for supported employment providers"
    assert (await chat.profile(ANN)).reserved == ["supported_employment"]
    assert "Only contracts (or lots) reserved for supported employment" in chat.current(menu).text
    # one message, edited in place
    assert [m.message_id for m in chat.fake.messages(ANN)].count(menu.message_id) == 1

    screen = await chat.send(ANN, "/settings")
    assert "📨 Kinds: Tenders, Dynamic markets to join, Pipeline and planned" in screen.text
    assert "only reserved for supported employment providers" in screen.text
    await chat.press(ANN, screen, data("ty", "menu", "s"))
    inside = chat.current(screen)
    assert inside.text.startswith("📨 Which kinds of notice reach you")
    assert "« Back to settings" in _labels(inside)
    dm = inside.button("✓ Dynamic markets to join")["callback_data"]
    assert await chat.press(ANN, inside, dm) == "Dynamic markets to join: off"
    await chat.press(ANN, chat.current(screen), data("st"))
    assert chat.current(screen).text.startswith("⚙️ Your settings")
    assert (await chat.profile(ANN)).kinds_off == ["engagement", "dm_intention", "dm_established"]


async def _forged(chat: Chat, chat_id: int, callback_data: str) -> SentMessage:
    """A message carrying a button with ``callback_data`` (as a client could forge it)."""
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data=callback_data)]])
    sent = await chat.app.bot.send_message(chat_id, "x", reply_markup=markup)
    return chat.fake.message(chat_id, sent.message_id)


async def test_unsigned_or_other_chats_buttons_are_refused(chat: Chat) -> None:
    await chat.onboard(ANN)
    await chat.onboard(BEN)
    key = chat.services.signer.button_key()
    for forged in (
        data("ty", "early", "t"),  # typed by hand: no tag
        sign(key, BEN, data("ty", "early", "t")),  # Ben's own button, pressed in Ann's chat
        data("ty", "early", "t") + ":AAAAAAAA",  # a made-up tag
        sign(key, ANN, data("ty", "nosuch", "t")),  # signed, but no such group
        sign(key, ANN, data("ty", "early", "x")),
    ):
        message = await _forged(chat, ANN, forged)
        assert await chat.press(ANN, message, forged) == GARBLED, forged
    assert (await chat.profile(ANN)).kinds_off == []
    # the genuine article, signed for Ann's chat, works
    genuine = sign(key, ANN, data("ty", "early", "t"))
    message = await _forged(chat, ANN, genuine)
    assert await chat.press(ANN, message, genuine) == "Pipeline and planned: off"


async def test_in_a_group_only_admins_change_the_kinds(chat: Chat) -> None:
    chat.fake.add_group(GROUP, "Green Team", admins=[ANN], members=[BEN])
    welcome = await chat.send(ANN, "/start", chat_id=GROUP)
    await chat.send(ANN, "furniture reuse", chat_id=GROUP, reply_to=welcome.message_id)
    menu = await chat.send(BEN, "/types", chat_id=GROUP)  # looking is fine
    early = menu.button("✓ Pipeline and planned")["callback_data"]
    assert await chat.press(BEN, menu, early, chat_id=GROUP) == NOT_ADMIN
    assert (await chat.profile(GROUP)).kinds_off == []
    assert await chat.press(ANN, menu, early, chat_id=GROUP) == "Pipeline and planned: off"
    assert (await chat.profile(GROUP)).kinds_off == ["pipeline", "planned"]
