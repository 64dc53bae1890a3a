"""Data rights (UK GDPR): /privacy explains, /mydata exports, /forget deletes.

/mydata sends one JSON document with every row about the subscriber (see
:func:`storage.chat.export_subscriber`; other features add theirs through
``storage.chat.EXTRA_EXPORTS``). /forget asks for a tap to confirm, then deletes the subscriber
and, by cascade, everything about them; a later /start begins from scratch. Someone who only
asked advisers questions (never subscribed) gets the same: /mydata shows the questions,
/forget deletes them and every row about the chat (:func:`storage.chat.forget_chat`).
"""

from __future__ import annotations

import json
import logging

from telegram.error import TelegramError

from bot.chat.account import account
from bot.chat.core import Turn, data, esc, kb
from storage.chat import (
    clear_state,
    export_subscriber,
    forget_chat,
    forget_subscriber,
    get_state,
)
from storage.enquiries import export_for_chat
from storage.types import utcnow

log = logging.getLogger(__name__)

PRIVACY = (
    "🔒 <b>Your data and bestbot</b>\n\n"
    "<b>Who</b>: Social Enterprise East Midlands (SEEM) runs bestbot for the BEST Procurement "
    "partnership.\n\n"
    "<b>What we keep</b>: this chat's id and name; your keywords and settings; your email "
    "address if you link one (while a code is pending, only a scrambled form of it); which "
    "alerts we sent you and your 👍/👎 on them; questions you ask our advisers; the notices you "
    "said you are open to partners for (shown to SEEM advisers, as you agreed).\n\n"
    "<b>Why</b>: to find contracts that suit you and send them (the service you asked for), "
    "and to improve the matching.\n\n"
    "<b>How long</b>: while you are subscribed. Pausing keeps your settings; /forget deletes "
    "everything at once, for good.\n\n"
    "<b>Your rights</b>: /mydata sends you a copy of everything; /forget deletes it; ask a "
    "SEEM adviser to correct anything. You can also complain to the Information "
    "Commissioner's Office (ico.org.uk)."
)


async def on_privacy(turn: Turn) -> None:
    await turn.reply(PRIVACY)


async def on_mydata(turn: Turn) -> None:
    async with account(turn) as acc:
        if acc is not None:
            export = await export_subscriber(acc.session, acc.id)
        else:
            async with turn.services.db.session() as session:
                asked = await export_for_chat(session, turn.chat_id)
            if not asked:
                state = await get_state_for(turn)
                extra = " (only that you started a conversation; /cancel clears it)"
                await turn.reply(f"I don't hold any data about this chat{extra if state else ''}.")
                return
            export = {"subscriber": None, "enquiries": asked}
    document = {
        "about": "Everything bestbot (BEST Procurement, Social Enterprise East Midlands) "
        "stores about you.",
        "exported_at": utcnow().isoformat(),
        **export,
    }
    payload = json.dumps(document, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    try:
        await turn.context.bot.send_document(
            turn.chat_id,
            payload,
            filename="bestbot-my-data.json",
            caption="Here is everything we store about you. /forget deletes it.",
        )
    except TelegramError as exc:
        log.warning("mydata document failed: %s", type(exc).__name__)
        await turn.reply("Sorry, I couldn't send the file just now. Please try again later.")


async def get_state_for(turn: Turn) -> bool:
    async with turn.services.db.session() as session:
        return await get_state(session, turn.chat_id) is not None


FORGET_QUESTIONS = (
    "⚠️ <b>Delete everything?</b>\n\nThis deletes the questions you asked our advisers and "
    "their answers, for good."
)
FORGET_ASK = (
    "⚠️ <b>Delete everything?</b>\n\nThis deletes your subscription, keywords, settings, "
    "linked email, alert history, feedback and partner listings, for good. You can start "
    "again any time with /start."
)


def open_warning(refs: list[str]) -> str:
    """What /forget says about open enquiries before it deletes them."""
    if not refs:
        return ""
    what = "question" if len(refs) == 1 else "questions"
    return (
        f"\n\n⚠️ You have an open {what} with a SEEM adviser ({esc(', '.join(refs))}). "
        "Deleting ends it: your adviser will be told, and won't be able to answer you."
    )


async def on_forget(turn: Turn) -> None:
    """Ask before deleting — and say first if an adviser is working on a question."""
    async with account(turn) as acc:
        sub_id = acc.id if acc is not None else None
    enquiries = turn.services.enquiries
    refs = await enquiries.open_before_forget(turn.chat_id, sub_id)
    if sub_id is None and not await enquiries.asked_from(turn.chat_id):
        async with turn.services.db.session() as session:
            await clear_state(session, turn.chat_id)
        await turn.reply("I don't hold any data about this chat, so there is nothing to delete.")
        return
    ask = FORGET_ASK if sub_id is not None else FORGET_QUESTIONS
    await turn.reply(
        ask + open_warning(refs),
        kb([[("🗑 Yes, delete everything", data("fg", "y")), ("No, keep it", data("fg", "n"))]]),
    )


async def on_forget_button(turn: Turn, args: list[str]) -> None:
    choice = args[0] if args else ""
    if choice == "n":
        await turn.answer("Nothing deleted")
        await turn.show("Nothing was deleted. Your alerts carry on as before.", None)
        return
    if choice != "y":
        await turn.answer("Sorry, I didn't understand that button.")
        return
    async with account(turn) as acc:
        sub_id = acc.id if acc is not None else None
    enquiries = turn.services.enquiries
    async with turn.services.db.write_session() as session:
        # the advisers are told in the same transaction as the delete (rows that outlive it)
        ended = await enquiries.withdraw(session, turn.chat_id, sub_id)
        if sub_id is not None:
            await forget_subscriber(session, sub_id, turn.chat_id, turn.user_id)
        else:  # someone who only asked questions: every row that names them
            await forget_chat(session, turn.chat_id, turn.user_id)
    await enquiries.flush()
    told = f" Your adviser has been told that {', '.join(ended)} is closed." if ended else ""
    await turn.answer("Deleted")
    await turn.show(
        esc(
            "Done — everything about you is deleted." + told + " Send /start if you ever want "
            "alerts again."
        ),
        None,
    )
