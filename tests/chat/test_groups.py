"""A team group as the subscriber: everyone gets the alerts, only admins change settings
(checked with getChatMember on every update, since callback data can be forged)."""

from __future__ import annotations

from bot.chat.core import NOT_ADMIN, data
from tests.chat.conftest import ANN, BEN, GROUP, Chat


async def test_group_admins_set_up_and_members_cannot(chat: Chat) -> None:
    chat.fake.add_group(GROUP, "Green Team", admins=[ANN], members=[BEN])
    assert (await chat.send(BEN, "/start", chat_id=GROUP)).text == NOT_ADMIN
    welcome = await chat.send(ANN, "/start", chat_id=GROUP)
    assert welcome.text.startswith("Hello Green Team!")
    assert (welcome.reply_markup or {}).get("force_reply") is True
    # a member's chatter is ignored; the admin's answer (a reply) sets the keywords
    n = chat.count(GROUP)
    chat.fake.user_sends(BEN, "ignore me", chat_id=GROUP, reply_to=welcome.message_id)
    await chat.settle(BEN)
    assert chat.count(GROUP) == n
    offered = await chat.send(
        ANN, "furniture reuse, removals", chat_id=GROUP, reply_to=welcome.message_id
    )
    assert [b["text"] for b in offered.buttons][:2] == ["✓ furniture reuse", "✓ removals"]
    assert await chat.press(BEN, offered, offered.callback_data[0], chat_id=GROUP) == NOT_ADMIN
    n = chat.count(GROUP)
    await chat.press(ANN, offered, offered.button("Next")["callback_data"], chat_id=GROUP)
    asked = (await chat.fake.wait_for_messages(GROUP, n + 1))[n]
    assert "What's your enterprise called?" in asked.text
    regions = await chat.send(ANN, "Green Team CIC", chat_id=GROUP, reply_to=asked.message_id)
    assert "Where do you work?" in regions.text
    sub, profile = await chat.subscriber(GROUP) or (None, None)
    assert sub is not None and profile is not None
    assert sub.name == "Green Team CIC" and profile.keywords == ["furniture reuse", "removals"]
    assert await chat.press(BEN, regions, regions.callback_data[0], chat_id=GROUP) == NOT_ADMIN
    assert (await chat.profile(GROUP)).regions == ["UKF"]


async def test_group_members_cannot_change_settings(chat: Chat) -> None:
    chat.fake.add_group(GROUP, "Green Team", admins=[ANN], members=[BEN])
    # an admin's /add subscribes the group straight away
    offered = await chat.send(ANN, "/add furniture reuse, removals", chat_id=GROUP)
    assert "✓ removals" in [b["text"] for b in offered.buttons]
    assert (await chat.send(BEN, "/add cleaning", chat_id=GROUP)).text == NOT_ADMIN
    assert (await chat.send(BEN, "/forget", chat_id=GROUP)).text == NOT_ADMIN
    assert (await chat.send(BEN, "/mydata", chat_id=GROUP)).text == NOT_ADMIN
    screen = await chat.send(BEN, "/settings", chat_id=GROUP)  # looking is fine
    assert screen.text.startswith("⚙️ Your settings")
    assert await chat.press(BEN, screen, data("tg", "vcse"), chat_id=GROUP) == NOT_ADMIN
    assert not (await chat.profile(GROUP)).vcse_only

    assert "Added 1" in (await chat.send(ANN, "/add@bestbot_test_bot cleaning", chat_id=GROUP)).text
    await chat.press(ANN, screen, data("tg", "vcse"), chat_id=GROUP)
    assert (await chat.profile(GROUP)).vcse_only
    member_checks = [r for r in chat.fake.calls("getChatMember") if r.status == 200]
    assert len(member_checks) >= 7
