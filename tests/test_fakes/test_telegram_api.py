"""The fake Bot API driven by the real python-telegram-bot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.flood import FloodLimits
from tests.fakes.telegram_api import FakeTelegram

USER = 1001
OTHER = 1002
GROUP = -4001

# RetryAfter's own __init__ reads its deprecated int ``retry_after``
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
async def bot(fake_telegram: FakeTelegram) -> AsyncIterator[Bot]:
    fake_telegram.add_user(USER, "Ann")
    async with Bot(
        fake_telegram.token,
        base_url=fake_telegram.base_url,
        base_file_url=fake_telegram.base_file_url,
    ) as b:
        yield b


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d or "x", callback_data=d) for d in data]])


async def test_get_me_and_send_html(bot: Bot, fake_telegram: FakeTelegram) -> None:
    assert bot.username == fake_telegram.bot_username
    msg = await bot.send_message(
        USER,
        '<b>Care &amp; support</b> &lt;Lot 1&gt; <a href="https://example.org/n?a=1&amp;b=2">'
        "notice</a>",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard("fb:1:up", "fb:1:down"),
    )
    assert msg.text == "Care & support <Lot 1> notice"
    assert msg.chat_id == USER and msg.message_id == 1
    assert msg.reply_markup is not None
    sent = fake_telegram.messages(USER)[0]
    assert sent.text == msg.text
    assert sent.links == ["https://example.org/n?a=1&b=2"]
    assert sent.callback_data == ["fb:1:up", "fb:1:down"]
    assert [e["type"] for e in sent.entities] == ["bold", "text_link"]
    reply = await bot.send_message(USER, "again", reply_to_message_id=msg.message_id)
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == msg.message_id
    assert fake_telegram.messages(USER)[1].reply_to_message_id == msg.message_id
    assert fake_telegram.status_counts() == {200: 3}


@pytest.mark.parametrize(
    ("html", "detail"),
    [
        ("<p>para</p>", 'Unsupported start tag "p"'),
        ("<b>unclosed", "Can't find end tag"),
        ("<b><i>x</b></i>", "Unmatched end tag"),
        ("a < b", "Unsupported start tag"),
        ("AT&T", "'&'"),
        ("x<br/>y", 'Unsupported start tag "br/"'),
        ("<span>x</span>", "tg-spoiler"),
    ],
)
async def test_bad_html_is_rejected(bot: Bot, html: str, detail: str) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities") as info:
        await bot.send_message(USER, html, parse_mode=ParseMode.HTML)
    assert detail.lower() in info.value.message.lower()


async def test_html_tags_telegram_accepts(bot: Bot) -> None:
    text = (
        "<strong>s</strong><em>e</em><ins>i</ins><del>d</del><tg-spoiler>x</tg-spoiler>"
        '<span class="tg-spoiler">y</span><code>c</code><pre><code class="language-py">p'
        "</code></pre><blockquote expandable>q</blockquote> a > b &#8212; &quot;z&quot;"
    )
    msg = await bot.send_message(USER, text, parse_mode=ParseMode.HTML)
    assert msg.text == 'seidxycpq a > b — "z"'
    pre = [e for e in msg.entities if e.type == "pre"]
    assert pre[0].language == "py"


async def test_length_limits_after_parsing(bot: Bot, fake_telegram: FakeTelegram) -> None:
    await bot.send_message(USER, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER, "😀" * 2049)  # counted in UTF-16 units
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(USER, "<b> </b>", parse_mode=ParseMode.HTML)
    assert len(fake_telegram.errors(400)) == 3


async def test_callback_data_limits(bot: Bot) -> None:
    await bot.send_message(USER, "ok", reply_markup=keyboard("é" * 32))  # 64 bytes
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "no", reply_markup=keyboard("é" * 33))
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "no", reply_markup=keyboard(""))
    bad_url = InlineKeyboardMarkup([[InlineKeyboardButton("go", url="http://localhost:8080/")]])
    with pytest.raises(BadRequest, match=r"(?i)Wrong HTTP URL"):
        await bot.send_message(USER, "no", reply_markup=bad_url)


async def test_chat_not_found_blocked_and_deactivated(
    bot: Bot, fake_telegram: FakeTelegram
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)Chat not found"):
        await bot.send_message(OTHER, "hello")
    fake_telegram.add_user(OTHER, "Bob", started=False)
    with pytest.raises(BadRequest, match=r"(?i)Chat not found"):
        await bot.send_message(OTHER, "hello")
    fake_telegram.user_blocks(USER)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(USER, "hello")
    fake_telegram.user_unblocks(USER)
    fake_telegram.user_deactivates(USER)
    with pytest.raises(Forbidden, match=r"(?i)user is deactivated"):
        await bot.send_message(USER, "hello")


async def test_edit_rules(bot: Bot, fake_telegram: FakeTelegram) -> None:
    msg = await bot.send_message(USER, "v1", reply_markup=keyboard("a"))
    with pytest.raises(BadRequest, match=r"(?i)Message is not modified"):
        await bot.edit_message_text("v1", USER, msg.message_id, reply_markup=keyboard("a"))
    with pytest.raises(BadRequest, match=r"(?i)Message to edit not found"):
        await bot.edit_message_text("v2", USER, 999)
    edited = await bot.edit_message_text("v2", USER, msg.message_id)
    assert isinstance(edited, type(msg)) and edited.reply_markup is None  # keyboard dropped
    await bot.edit_message_reply_markup(USER, msg.message_id, reply_markup=keyboard("b"))
    sent = fake_telegram.message(USER, msg.message_id)
    assert sent.text == "v2" and sent.callback_data == ["b"]
    assert sent.history == [("v1", keyboard("a").to_dict()), ("v2", None)]
    assert [e.method for e in fake_telegram.edits] == ["editMessageText", "editMessageReplyMarkup"]
    assert await bot.delete_message(USER, msg.message_id)
    with pytest.raises(BadRequest, match=r"(?i)Message to delete not found"):
        await bot.delete_message(USER, msg.message_id)
    assert fake_telegram.messages(USER) == []


async def test_private_flood_limit_gives_retry_after(fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_user(USER)
    async with Bot(fake_telegram.token, base_url=fake_telegram.base_url) as bot:
        for i in range(3):  # the burst
            await bot.send_message(USER, f"m{i}")
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(USER, "one too many")
    assert "Retry in 1 seconds" in str(info.value)
    assert fake_telegram.flood_errors == 1
    assert fake_telegram.errors(429)[0].retry_after == 1
    assert len(fake_telegram.messages(USER)) == 3


async def test_group_and_global_limits_with_manual_clock() -> None:
    now = [0.0]
    limits = FloodLimits(global_burst=5).scaled(10)  # 300 msg/s globally, 200 msg/min a group
    async with FakeTelegram(limits=limits, clock=lambda: now[0]) as fake:
        fake.add_group(GROUP, admins=[USER])
        for uid in range(1, 8):
            fake.add_user(uid)
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            for uid in range(1, 6):
                await bot.send_message(uid, "hi")
            with pytest.raises(RetryAfter):
                await bot.send_message(6, "hi")
            assert fake.errors(429)[-1].retry_after == pytest.approx(1 / 300, abs=0.001)
            now[0] += 1 / 300
            await bot.send_message(6, "hi")
            sent = 0
            with pytest.raises(RetryAfter):
                for _ in range(25):
                    now[0] += 0.01  # well under the global limit
                    await bot.send_message(GROUP, "g")
                    sent += 1
            assert sent == 20  # the group burst, despite the scaled refill (~0.8 in 0.25 s)
            assert fake.errors(429)[-1].retry_after == pytest.approx(0.3 - 0.2, abs=0.05)


async def test_injected_errors(bot: Bot, fake_telegram: FakeTelegram) -> None:
    fake_telegram.inject_error("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter, match="Retry in 7 seconds"):
        await bot.send_message(USER, "x")
    await bot.send_message(USER, "x")


async def test_token_and_unknown_method(fake_telegram: FakeTelegram) -> None:
    async with httpx.AsyncClient() as client:
        r = await client.post(f"{fake_telegram.base_url}1:wrong/getMe")
        assert r.status_code == 401
        assert r.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        r = await client.post(f"{fake_telegram.base_url}{fake_telegram.token}/sendFoo")
        assert r.status_code == 404 and r.json()["description"] == "Not Found"
        r = await client.post(
            f"{fake_telegram.base_url}{fake_telegram.token}/getme", json={}
        )  # method names are case-insensitive; JSON bodies work
        assert r.json()["result"]["username"] == fake_telegram.bot_username
    bot = Bot("1:wrong", base_url=fake_telegram.base_url)
    try:
        with pytest.raises(InvalidToken):
            await bot.initialize()
    finally:
        await bot.shutdown()


async def test_command_scopes_and_descriptions_are_checked(
    bot: Bot, fake_telegram: FakeTelegram
) -> None:
    from telegram import BotCommandScopeChat, BotCommandScopeChatAdministrators

    await bot.set_my_commands([("help", "Help")])
    await bot.set_my_commands([("queue", "Queue")], scope=BotCommandScopeChat(USER))
    assert [c["command"] for c in fake_telegram.commands_for_chat(USER)] == ["queue"]
    assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(USER))] == [
        "queue"
    ]
    fake_telegram.add_user(OTHER, "Other", started=False)
    assert fake_telegram.commands_for_chat(OTHER) == fake_telegram.default_commands
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):  # never opened the bot
        await bot.set_my_commands([("queue", "Queue")], scope=BotCommandScopeChat(OTHER))
    with pytest.raises(BadRequest, match=r"(?i)chat administrators scope"):
        await bot.set_my_commands(
            [("queue", "Queue")], scope=BotCommandScopeChatAdministrators(USER)
        )
    await bot.delete_my_commands(scope=BotCommandScopeChat(USER))
    assert fake_telegram.commands_for_chat(USER) == fake_telegram.default_commands

    await bot.set_my_description("What I do" * 10)
    await bot.set_my_short_description("Short")
    assert (await bot.get_my_description()).description == "What I do" * 10
    assert (await bot.get_my_short_description()).short_description == "Short"
    with pytest.raises(BadRequest, match=r"(?i)too long"):
        await bot.set_my_description("x" * 513)
    with pytest.raises(BadRequest, match=r"(?i)too long"):
        await bot.set_my_short_description("x" * 121)
    await bot.set_my_description("")
    assert (await bot.get_my_description()).description == ""


async def test_send_document_and_download(bot: Bot, fake_telegram: FakeTelegram) -> None:
    msg = await bot.send_document(
        USER, b"a,b\n1,2\n", filename="export.csv", caption="<i>Export</i>", parse_mode="HTML"
    )
    assert msg.document is not None and msg.document.file_name == "export.csv"
    assert msg.caption == "Export"
    sent = fake_telegram.messages(USER)[0]
    assert sent.document is not None and sent.document.data == b"a,b\n1,2\n"
    file = await bot.get_file(msg.document.file_id)
    assert await file.download_as_bytearray() == b"a,b\n1,2\n"


def _png(width: int, height: int) -> bytes:
    """A real PNG of the given size (drawn by Pillow, which matplotlib brings)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (0, 114, 178)).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_send_photo_checks_the_image(bot: Bot, fake_telegram: FakeTelegram) -> None:
    msg = await bot.send_photo(USER, _png(1080, 1080), caption="<b>Chart</b>", parse_mode="HTML")
    assert msg.photo and (msg.photo[-1].width, msg.photo[-1].height) == (1080, 1080)
    assert msg.caption == "Chart"
    [sent] = fake_telegram.messages(USER)
    assert sent.method == "sendPhoto" and sent.photo is not None
    assert sent.photo.data.startswith(b"\x89PNG")
    with pytest.raises(BadRequest, match=r"(?i)IMAGE_PROCESS_FAILED"):
        await bot.send_photo(USER, b"a,b\n1,2\n", filename="not-a-picture.png")
    with pytest.raises(BadRequest, match=r"(?i)PHOTO_INVALID_DIMENSIONS"):
        await bot.send_photo(USER, _png(2100, 100))
    with pytest.raises(BadRequest, match="caption is too long"):
        await bot.send_photo(USER, _png(10, 10), caption="x" * 1025)


async def test_send_media_group_is_all_or_nothing(bot: Bot, fake_telegram: FakeTelegram) -> None:
    from telegram import InputMediaPhoto

    album = [
        InputMediaPhoto(_png(1080, 1080), caption="first", filename="a.png"),
        InputMediaPhoto(_png(800, 600), filename="b.png"),
    ]
    sent = await bot.send_media_group(USER, album)
    assert len(sent) == 2 and sent[0].media_group_id == sent[1].media_group_id
    assert [m.caption for m in sent] == ["first", None]
    recorded = fake_telegram.messages(USER)
    assert [m.method for m in recorded] == ["sendMediaGroup"] * 2
    assert all(m.photo is not None for m in recorded)
    with pytest.raises(BadRequest, match="2-10 items"):
        await bot.send_media_group(USER, [InputMediaPhoto(_png(10, 10))])
    broken = [InputMediaPhoto(_png(10, 10)), InputMediaPhoto(b"GIF? no", filename="x.gif")]
    with pytest.raises(BadRequest, match=r"(?i)IMAGE_PROCESS_FAILED"):
        await bot.send_media_group(USER, broken)
    assert len(fake_telegram.messages(USER)) == 2  # nothing of the broken album was sent


async def test_commands_chat_info_and_admins(bot: Bot, fake_telegram: FakeTelegram) -> None:
    await bot.set_my_commands([("start", "Start"), ("profile", "Your profile")])
    assert [c.command for c in await bot.get_my_commands()] == ["start", "profile"]
    assert fake_telegram.default_commands[1] == {
        "command": "profile",
        "description": "Your profile",
    }
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("Bad-Cmd", "x")])
    fake_telegram.add_group(GROUP, "Buyers", admins=[USER], members=[OTHER])
    chat = await bot.get_chat(GROUP)
    assert chat.title == "Buyers" and chat.type == "group"
    assert (await bot.get_chat_member(GROUP, USER)).status == "creator"
    assert (await bot.get_chat_member(GROUP, OTHER)).status == "member"
    admins = await bot.get_chat_administrators(GROUP)
    assert [a.user.id for a in admins] == [USER]
    await bot.send_chat_action(USER, "typing")
    assert fake_telegram.chat_actions == [(USER, "typing")]
    fake_telegram.bot_removed_from(GROUP)
    with pytest.raises(Forbidden, match=r"(?i)kicked"):
        await bot.send_message(GROUP, "hi")


async def test_get_updates_long_poll_offsets(bot: Bot, fake_telegram: FakeTelegram) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    assert await bot.get_updates(timeout=0.3) == ()  # type: ignore[arg-type]
    assert loop.time() - start >= 0.25
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    fake_telegram.user_sends(USER, "hello")
    updates = await asyncio.wait_for(poll, 2)
    assert [u.message.text for u in updates if u.message] == ["hello"]
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [updates[0].update_id]  # not confirmed yet
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == ()
    # a second bot process polling terminates the first poll with 409, like Telegram
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    async with Bot(fake_telegram.token, base_url=fake_telegram.base_url) as twin:
        assert await twin.get_updates(timeout=0.2) == ()  # type: ignore[arg-type]
    with pytest.raises(Conflict):
        await asyncio.wait_for(first, 2)


async def run_app(fake: FakeTelegram, app: Application) -> None:  # type: ignore[type-arg]
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)


async def stop_app(app: Application) -> None:  # type: ignore[type-arg]
    assert app.updater is not None
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


async def test_application_round_trip(fake_telegram: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_html(
            f"Welcome, <b>{update.effective_user.first_name if update.effective_user else ''}"
            f"</b> ({' '.join(context.args or [])})",
            reply_markup=keyboard("mute:care"),
            do_quote=True,
        )

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Muted")
        await query.edit_message_text(f"Muted {query.data}")

    app = ApplicationBuilder().token(fake_telegram.token).base_url(fake_telegram.base_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(pressed))
    await run_app(fake_telegram, app)
    try:
        fake_telegram.user_starts(USER, payload="ref42", first_name="Ann")
        [welcome] = await fake_telegram.wait_for_messages(USER, 1)
        assert welcome.text == "Welcome, Ann (ref42)"
        assert welcome.parse_mode == "HTML"
        assert welcome.reply_to_message_id == 1  # quotes the /start message
        fake_telegram.user_sends(USER, "plain words")
        msgs = await fake_telegram.wait_for_messages(USER, 2)
        assert msgs[1].text == "echo: plain words"
        qid = fake_telegram.user_presses(USER, welcome.message_id, "mute:care")
        [answer] = await fake_telegram.wait_for_callback_answers(1)
        assert answer.callback_query_id == qid and answer.text == "Muted"
        await fake_telegram.wait_for_edits(1)
        assert fake_telegram.message(USER, welcome.message_id).text == "Muted mute:care"
        assert fake_telegram.unanswered_callbacks() == []
        fake_telegram.user_sends_sticker(USER)
        await fake_telegram.wait_for_updates_delivered()
    finally:
        await stop_app(app)
    assert fake_telegram.errors(400) == []
    assert len(fake_telegram.messages(USER)) == 2


async def test_user_presses_requires_existing_button(bot: Bot, fake_telegram: FakeTelegram) -> None:
    msg = await bot.send_message(USER, "x", reply_markup=keyboard("a"))
    with pytest.raises(ValueError, match=r"(?i)no button"):
        fake_telegram.user_presses(USER, msg.message_id, "b")
    qid = fake_telegram.user_presses(USER, msg.message_id, "a")
    await bot.answer_callback_query(qid)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(qid)


async def test_aio_rate_limiter_waits_out_a_429(fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_user(USER)
    fake_telegram.inject_error("sendMessage", 429, retry_after=0.05)
    app = (
        ApplicationBuilder()
        .token(fake_telegram.token)
        .base_url(fake_telegram.base_url)
        .rate_limiter(AIORateLimiter(max_retries=2))
        .build()
    )
    async with app:
        await app.bot.send_message(USER, "after the flood")
    assert fake_telegram.flood_errors == 1
    assert [m.text for m in fake_telegram.messages(USER)] == ["after the flood"]


async def test_group_messages_and_commands(fake_telegram: FakeTelegram) -> None:
    fake_telegram.add_group(GROUP, "Buyers", admins=[USER])
    with pytest.raises(ValueError, match="add_group"):
        fake_telegram.user_sends(USER, "hi", chat_id=-999)
    msg = fake_telegram.user_sends(USER, f"/stats@{fake_telegram.bot_username}", chat_id=GROUP)
    assert msg["chat"] == {"id": GROUP, "type": "group", "title": "Buyers"}
    assert msg["entities"] == [{"type": "bot_command", "offset": 0, "length": 23}]
    async with Bot(fake_telegram.token, base_url=fake_telegram.base_url) as bot:
        [update] = await bot.get_updates()
        assert update.effective_message is not None
        assert update.effective_message.parse_entities() != {}
        reply = await bot.send_message(GROUP, "ok", reply_to_message_id=msg["message_id"])
        assert reply.message_id == msg["message_id"] + 1
