"""/start, /help, /cancel and free text: onboarding from "hello" to a working subscription.

The conversation: /start -> a short welcome and "What does your enterprise do?" -> the answer
becomes the keywords (split on commas, "and" and new lines) and the subscription exists from
that moment (East Midlands, instant) -> region buttons -> frequency buttons -> done. The step
a chat is at is kept in the ``chat_state`` table, so a restart or another worker carries on.

Deep links (``https://t.me/<bot>?start=<payload>``) are read by :func:`on_start`: an
adviser invite (``adv-<token>``, :func:`bot.enquiries.telegram.on_invite`) or an email
subscriber's "manage by Telegram" link (:func:`bot.chat.email_link.link_by_payload`). The
list is explicit, in :data:`START_PAYLOADS`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Update

from bot.chat import email_link
from bot.chat.account import NOT_SUBSCRIBED, account
from bot.chat.core import Context, Turn, esc, turn_for
from bot.chat.keywords import LIMITS, add_words, skipped_lines
from bot.chat.settings import regions_markup, regions_text
from bot.chat.text import MAX_KEYWORDS, clean, split_keywords
from bot.telegram.wording import NON_TEXT, UNKNOWN_COMMAND
from storage.chat import clear_state, create_chat_subscriber, get_state, set_state

log = logging.getLogger(__name__)

StartHandler = Callable[[Update, Context, str], Awaitable[bool]]

#: Where new subscribers start: SEEM's own region.
DEFAULT_REGIONS = ["UKF"]

QUESTION = (
    "<b>What does your enterprise do?</b> Reply in a few words, e.g. "
    "<i>community catering, school meals, cleaning</i>."
)
BAD_LINK = (
    "Sorry, that link didn't work — it may be old or incomplete. "
    "No problem: let's set you up from here."
)
FORWARDED = (
    "That's a forwarded message, so I won't use it. Please type your answer yourself, "
    "or send /help to see what I can do."
)


async def _invite(update: Update, context: Context, payload: str) -> bool:
    from bot.enquiries.telegram import on_invite

    await on_invite(update, context, payload.removeprefix("adv-"))
    return True


#: ``/start`` payloads by prefix (longest first); anything else is an email-link token.
START_PAYLOADS: tuple[tuple[str, StartHandler], ...] = (("adv-", _invite),)


def _payload_handler(payload: str) -> StartHandler | None:
    for prefix, handler in START_PAYLOADS:
        if payload.startswith(prefix):
            return handler
    return None


def welcome(name: str) -> str:
    hello = f"Hello {esc(name[:64])}! 👋" if name else "Hello! 👋"
    return (
        f"{hello} I'm <b>bestbot</b>, from BEST Procurement at Social Enterprise East "
        "Midlands.\n\nI watch Find a Tender and Contracts Finder and tell you when a public "
        "contract fits what your enterprise does — free, and it takes under a minute to set "
        "up.\n\n" + QUESTION
    )


async def _begin(turn: Turn, lead: str = "") -> None:
    async with turn.services.db.session() as session:
        await set_state(session, turn.chat_id, "keywords")
    name = turn.chat_title or turn.first_name if turn.is_group else turn.first_name
    text = welcome(name)
    await turn.reply(f"{esc(lead)}\n\n{text}" if lead else text, force_reply=turn.is_group)


async def on_start(turn: Turn) -> None:
    payload = clean(turn.args).split(" ")[0] if clean(turn.args) else ""
    if payload:
        handler = _payload_handler(payload)
        handled = False
        try:
            if handler is not None:
                handled = await handler(turn.update, turn.context, payload)
            else:
                handled = await email_link.link_by_payload(turn, payload)
        except Exception as exc:
            log.warning("start payload handler failed: %s: %s", type(exc).__name__, exc)
            handled = False
        if handled:
            return
        async with account(turn) as acc:
            subscribed = acc is not None
        if subscribed:
            await turn.reply(
                esc(
                    BAD_LINK.split(" No problem")[0]
                    + " Your alerts are unchanged: /settings shows them."
                )
            )
            return
        await _begin(turn, BAD_LINK)
        return
    async with account(turn) as acc:
        if acc is not None:
            paused = (
                "\nYour alerts are paused: send /resume to start them again."
                if acc.sub.paused
                else ""
            )
            await turn.reply(
                "Welcome back! Your contract alerts are set up. "
                f"Send /settings to see or change them, /help for every command.{paused}"
            )
            return
    await _begin(turn)


HELP = (
    "Hello{name}! I'm <b>bestbot</b>, the contract alerts service of BEST Procurement "
    "(Social Enterprise East Midlands). I watch Find a Tender and Contracts Finder and tell "
    "you about public contracts that match your enterprise's keywords.\n\n"
    "<b>Set up and change</b>\n"
    "/start — set up alerts\n"
    "/settings — every setting on one screen, with buttons\n"
    "/keywords — your keywords (✖ to remove)\n"
    "/add — add keywords: /add school meals, catering\n"
    "/remove — remove keywords: /remove catering\n"
    "/exclude — words that rule a notice out\n"
    "/regions — where you work: /regions leicestershire\n"
    "/cpv — CPV codes: /cpv 555 or /cpv catering\n"
    "/value — contract value: /value 10k 500k or /value any\n"
    "/vcse, /sme — only notices suitable for VCSEs / SMEs: on or off\n"
    "/types — which kinds reach you: tenders, market engagement, dynamic markets, "
    "pipeline; and contracts reserved for supported employment or mutuals\n"
    "/frequency — instant, daily or weekly: /frequency daily 8\n"
    "/quiet — quiet hours: /quiet 21:00-07:00 or /quiet off\n"
    "/email — get alerts by email too; /verify — enter the emailed code\n"
    "/pause, /resume, /stop — pause or restart alerts\n\n"
    "<b>Your data</b>\n"
    "/privacy — what we keep and why\n"
    "/mydata — a copy of everything we hold about you\n"
    "/forget — delete it all\n\n"
    "Under each alert you can tap 👍/👎, 🔕 Mute a keyword, or ⏰ Remind me before the deadline."
)


async def on_help(turn: Turn) -> None:
    name = f" {esc(turn.first_name[:64])}" if turn.first_name else ""
    await turn.reply(HELP.format(name=name))


async def on_cancel(turn: Turn) -> None:
    async with turn.services.db.session() as session:
        state = await get_state(session, turn.chat_id)
        await clear_state(session, turn.chat_id)
    if state is None:
        await turn.reply("There's nothing to cancel. Send /help to see what I can do.")
    else:
        await turn.reply("OK, cancelled. Send /help to see what I can do.")


# --------------------------------------------------------------------------- free text


async def _onboarding_answer(turn: Turn, text: str) -> None:
    split = split_keywords(text)
    good = split.good[:MAX_KEYWORDS]
    if not good:
        problems = "\n".join(skipped_lines(split))
        await turn.reply(
            (problems + "\n\n" if problems else "")
            + "I couldn't find any words to look for in that. "
            + QUESTION
            + "\n"
            + esc(LIMITS),
            force_reply=turn.is_group,
        )
        return
    async with turn.services.db.session() as session:
        await clear_state(session, turn.chat_id)
    async with account(turn) as acc:
        if acc is None:
            name = (turn.chat_title if turn.is_group else turn.first_name) or None
            async with turn.services.db.session() as session:
                alerts = turn.services.config.alerts
                await create_chat_subscriber(
                    session,
                    turn.chat_id,
                    name[:200] if name else None,
                    {"keywords": good, "regions": list(DEFAULT_REGIONS)},
                    frequency=alerts.default_frequency,
                    digest_hour=alerts.digest_hour,
                    weekly_day=alerts.weekly_day,
                )
            lead = "Thanks! I'll look for: " + ", ".join(f"“{esc(w)}”" for w in good[:20])
            if len(good) > 20:
                lead += f" …and {len(good) - 20} more"
        else:
            lead = await add_words(acc, text)
        skipped = skipped_lines(split)
        if acc is None and skipped:
            lead += "\n" + "\n".join(skipped)
        if len(split.good) > MAX_KEYWORDS:
            lead += f"\n(Only the first {MAX_KEYWORDS} keywords were kept.)"
    async with account(turn) as acc:
        regions = list(acc.profile.regions) if acc is not None else list(DEFAULT_REGIONS)
    await turn.reply(f"{lead}\n\n{regions_text(regions, 'o')}", regions_markup(regions, "o"))


async def _dispatch_text(turn: Turn, text: str) -> bool:
    """Give free text to the conversation step waiting for it; False if none is."""
    async with turn.services.db.session() as session:
        state = await get_state(session, turn.chat_id)
    step = state.step if state is not None else None
    if step == "keywords":
        await _onboarding_answer(turn, text)
        return True
    if step == "add":
        async with account(turn) as acc:
            if acc is None:
                await turn.reply(esc(NOT_SUBSCRIBED))
            else:
                await clear_state(acc.session, turn.chat_id)
                await turn.reply(await add_words(acc, text))
        return True
    if step == "verify" and "".join(clean(text).split()).isdigit():
        await email_link.verify(turn, text)
        return True
    if step == email_link.LINK_STEP:
        return await email_link.confirm_link(turn, text)
    return False


async def on_unknown_command(update: Update, context: Context) -> None:
    message = update.effective_message
    word = (message.text or "/").split()[0] if message is not None else "/"
    word = word if len(word) <= 40 else word[:39] + "…"
    turn = turn_for(update, context, with_args=False)
    if turn is not None:
        await turn.reply(esc(UNKNOWN_COMMAND.format(command=word)))


async def on_text(update: Update, context: Context) -> None:
    """Free text in a private chat."""
    turn = turn_for(update, context, with_args=False)
    message = update.effective_message
    if turn is None or message is None:
        return
    if getattr(message, "forward_origin", None) is not None:
        await turn.reply(esc(FORWARDED))
        return
    if await _dispatch_text(turn, message.text or ""):
        return
    async with account(turn) as acc:
        subscribed = acc is not None
    if subscribed:
        await turn.reply(
            esc(
                "I read commands rather than chat. To add keywords send /add followed by "
                "them; /settings shows everything; /help lists every command."
            )
        )
    else:
        await turn.reply(
            "Hello! Send /start to set up contract alerts — it takes under a minute. "
            "/help shows what I can do."
        )


async def on_group_text(update: Update, context: Context) -> None:
    """Free text in a group: only an admin's answer to a question the bot asked there."""
    turn = turn_for(update, context, with_args=False)
    message = update.effective_message
    if turn is None or message is None or getattr(message, "forward_origin", None) is not None:
        return
    async with turn.services.db.session() as session:
        state = await get_state(session, turn.chat_id)
    if state is None or state.step not in ("keywords", "add"):
        return
    if not await turn.is_admin():
        return
    await _dispatch_text(turn, message.text or "")


async def on_non_text(update: Update, context: Context) -> None:
    """Stickers, photos, files... in a private chat."""
    turn = turn_for(update, context, with_args=False)
    if turn is None:
        return
    async with turn.services.db.session() as session:
        state = await get_state(session, turn.chat_id)
    if state is not None and state.step in ("keywords", "add"):
        await turn.reply(
            "I can only read text. Please type your keywords, e.g. "
            "<i>community catering, school meals</i> (or /cancel)."
        )
        return
    await turn.reply(esc(NON_TEXT))
