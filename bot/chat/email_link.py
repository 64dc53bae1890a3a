"""Linking email and Telegram: /email + /verify, and the "manage by Telegram" deep link.

* ``/email ADDRESS`` sends a 6-digit code to the address (through the message outbox, sent at
  once while the person waits). The code is valid for 15 minutes and 5 tries, and only an
  HMAC of it (keyed with the service's secret, bound to the subscriber and the address) is
  stored: a leaked database does not give the code away.
* ``/verify CODE`` (or just typing the code) links the address; the subscriber then picks
  Telegram, email or both.
* **A deep link proves nothing by itself.** The "manage by Telegram" link in every alert
  email can be forwarded, so opening it never moves a subscription: it is short-lived
  (``bot.links.MANAGE_TTL``) and names the subscription's link version, and it only starts a
  check — a fresh code emailed to the subscription's own address. Whoever types that code
  here manages the alerts from this chat; the chat that managed them before is told, and
  the subscription's link version moves on, so the old link (and every other old one) stops
  working.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from bot.chat.account import account, subscribed
from bot.chat.core import Turn, esc
from bot.chat.settings import channel_question
from bot.chat.text import InputError, parse_code, parse_email
from bot.links import from_start_payload
from bot.render.email import email_message
from bot.telegram import replies
from storage.chat import (
    clear_state,
    drop_email_code,
    email_code,
    get_state,
    link_chat,
    put_email_code,
    set_state,
    subscriber_by_email,
    subscriber_by_public_id,
)
from storage.messages import SENT, NewMessage, message_status, queue_message
from storage.models import EmailCodeRow, MessageRow
from storage.subscribers import mask_email

log = logging.getLogger(__name__)

LINK_PURPOSE = "link"
LINK_STEP = "link"


def code_hash(secret: str, subscriber_id: int, address: str, code: str) -> str:
    message = f"bestbot-email-code\x00{subscriber_id}\x00{address.lower()}\x00{code}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _code_mail(turn: Turn, to: str, code: str, minutes: int, why: str) -> NewMessage:
    brand = turn.services.mailer.settings.brand.name
    rendered = email_message(
        f"Your {brand} code: {code}",
        f"Your code is {code}\n\n{why} within {minutes} minutes.\n\n"
        "If you didn't ask for this, ignore this email: nothing changes without the code.\n\n"
        f"-- \n{brand} — BEST Procurement, Social Enterprise East Midlands",
    )
    return NewMessage(
        channel="email",
        purpose="code",
        recipient="subscriber",
        email_to=to,
        subject=rendered.subject,
        body=rendered.text,
        body_html=rendered.html,
        email_message_id=turn.services.mailer.new_message_id("bestbot-code"),
        due_at=turn.services.clock(),
    )


async def _send_code(turn: Turn, message: NewMessage) -> str:
    """Queue and send a code mail now; "sent", "slow" (it will be retried) or "failed"."""
    async with turn.services.db.session() as session:
        row: MessageRow = queue_message(session, message)
    await turn.services.send_messages()
    async with turn.services.db.session() as session:
        status = await message_status(session, row.id)
    if status == SENT:
        return "sent"
    return "slow" if status == "pending" else "failed"


# --------------------------------------------------------------------------- deep links


async def link_by_payload(turn: Turn, payload: str) -> bool:
    """``/start <token>`` from an email: check the token, then email a code to the
    subscription's address; False if the payload is not a valid, current link."""
    services = turn.services
    token = services.signer.verify(LINK_PURPOSE, from_start_payload(payload), now=services.clock())
    if token is None:
        return False
    if not await turn.is_admin():
        await turn.reply("Only this group's admins can link alerts to this group.")
        return True
    async with services.db.session() as session:
        sub = await subscriber_by_public_id(session, token.subject)
        if sub is None or sub.id is None or sub.link_version != token.version or not sub.email:
            return False
        if sub.telegram_chat_id == turn.chat_id:
            await turn.reply(
                f"This chat already manages the alerts for {esc(mask_email(sub.email) or '')}. "
                "Send /settings to see them."
            )
            return True
        sub_id, address, version = sub.id, sub.email, sub.link_version
        code = f"{secrets.randbelow(10**6):06d}"
        moment = services.clock()
        await put_email_code(
            session,
            sub_id,
            address,
            code_hash(_secret(turn), sub_id, address, code),
            moment + turn.options.code_ttl,
        )
        await set_state(
            session,
            turn.chat_id,
            LINK_STEP,
            {"subscriber": token.subject, "version": version},
            expires_at=moment + turn.options.code_ttl,
        )
    minutes = int(turn.options.code_ttl.total_seconds() // 60)
    why = "To manage these alerts from Telegram, type this code in the chat with the bot"
    outcome = await _send_code(turn, _code_mail(turn, address, code, minutes, why))
    masked = esc(mask_email(address) or "the subscription's address")
    if outcome == "failed":
        await turn.reply(
            "Sorry, I couldn't send the email just now. Please try the link again later."
        )
        return True
    lead = "I've emailed" if outcome == "sent" else "I'm emailing"
    await turn.reply(
        f"🔐 To make sure these alerts are yours, {lead} a 6-digit code to {masked}. "
        f"Type it here within {minutes} minutes (or /cancel)."
    )
    return True


async def confirm_link(turn: Turn, text: str) -> bool:
    """The code typed after opening a link; True when this chat was at that step."""
    services = turn.services
    async with services.db.session() as session:
        state = await get_state(session, turn.chat_id)
    if state is None or state.step != LINK_STEP:
        return False
    try:
        code = parse_code(text)
    except InputError as exc:
        await turn.reply(esc(str(exc)))
        return True
    public_id = str((state.data or {}).get("subscriber", ""))
    async with services.db.session() as session:
        sub = await subscriber_by_public_id(session, public_id)
        pending = await email_code(session, sub.id) if sub is not None and sub.id else None
        if sub is None or sub.id is None or pending is None or _expired(turn, pending):
            await clear_state(session, turn.chat_id)
            await turn.reply(
                "That code has expired. Open the link in your email again for a new one."
            )
            return True
        pending.attempts += 1
        session.add(pending)
        if not hmac.compare_digest(
            code_hash(_secret(turn), sub.id, pending.email, code), pending.code_hash
        ):
            left = turn.options.code_tries - pending.attempts
            await turn.reply(
                f"That code isn't right — {left} {'try' if left == 1 else 'tries'} left."
                if left > 0
                else "That code isn't right, and that was the last try. Open the link again."
            )
            if left <= 0:
                await drop_email_code(session, sub.id)
                await clear_state(session, turn.chat_id)
            return True
        await drop_email_code(session, sub.id)
        await clear_state(session, turn.chat_id)
        result = await link_chat(session, sub.id, turn.chat_id)
        if result is None:
            return True
        masked = esc(mask_email(result.subscriber.email) or "your email subscription")
    if result.previous_chat is not None and result.previous_chat != turn.chat_id:
        await replies.send_html(
            turn.context.bot,
            result.previous_chat,
            f"ℹ️ Your contract alerts for {masked} are now managed from another Telegram chat "
            "(someone opened the link in one of your alert emails and typed the code sent to "
            "your address). If that wasn't you or your team, email SEEM straight away.",
        )
    lead = f"✅ Linked! This chat now manages the alerts for {masked}."
    if result.replaced:
        lead += " (The separate set-up you had here before was replaced by it.)"
    async with account(turn) as acc:
        if acc is None:
            return True
        question, markup = channel_question(acc)
    await turn.reply(f"{lead}\n\n{question}\nSend /settings to see everything.", markup)
    return True


def _secret(turn: Turn) -> str:
    return turn.services.signer.key_for("email-code")


def _expired(turn: Turn, pending: EmailCodeRow) -> bool:
    return (
        pending.expires_at <= turn.services.clock() or pending.attempts >= turn.options.code_tries
    )


# --------------------------------------------------------------------------- /email, /verify


async def on_email(turn: Turn) -> None:
    services = turn.services
    async with subscribed(turn) as acc:
        try:
            address = parse_email(turn.args)
        except InputError as exc:
            now = (
                f"Your alerts email: {esc(acc.sub.email)}.\n"
                if acc.sub.email and acc.sub.email_verified
                else ""
            )
            await turn.reply(now + esc(str(exc)))
            return
        if services.email is None:
            await turn.reply(
                "Sorry, email isn't set up on this service yet, so I can't send a code."
            )
            return
        if acc.sub.email and acc.sub.email.lower() == address.lower() and acc.sub.email_verified:
            question, markup = channel_question(acc)
            await turn.reply(f"{esc(address)} is already linked.\n\n{question}", markup)
            return
        moment = services.clock()
        pending = await email_code(acc.session, acc.id)
        if pending is not None and moment - pending.created_at < turn.options.code_resend_after:
            await turn.reply(
                "I sent a code a moment ago — please check your inbox (and spam folder). "
                "You can ask for a new one in a minute."
            )
            return
        code = f"{secrets.randbelow(10**6):06d}"
        minutes = int(turn.options.code_ttl.total_seconds() // 60)
        await put_email_code(
            acc.session,
            acc.id,
            address,
            code_hash(_secret(turn), acc.id, address, code),
            moment + turn.options.code_ttl,
        )
        await set_state(acc.session, turn.chat_id, "verify")
        sub_id = acc.id
    why = f"Send /verify {code} to the bot on Telegram to get contract alerts at this address"
    outcome = await _send_code(turn, _code_mail(turn, address, code, minutes, why))
    if outcome == "failed":
        async with services.db.session() as session:
            await drop_email_code(session, sub_id)
            await clear_state(session, turn.chat_id)
        await turn.reply(
            "Sorry, I couldn't send the email just now. Please check the address and try "
            "again in a few minutes."
        )
        return
    lead = "I've sent" if outcome == "sent" else "I'm sending (the mail server is slow)"
    await turn.reply(
        f"📧 {lead} a 6-digit code to {esc(address)}. Send /verify followed by the code "
        f"(or just type it) within {minutes} minutes."
    )


async def on_verify(turn: Turn) -> None:
    await verify(turn, turn.args)


async def verify(turn: Turn, text: str) -> None:
    try:
        code = parse_code(text)
    except InputError as exc:
        await turn.reply(esc(str(exc)))
        return
    async with subscribed(turn) as acc:
        pending = await email_code(acc.session, acc.id)
        if pending is None:
            await turn.reply("There's no code waiting. Send /email followed by your address first.")
            return
        if _expired(turn, pending):
            await drop_email_code(acc.session, acc.id)
            await clear_state(acc.session, turn.chat_id)
            await turn.reply(
                "That code has expired or had too many tries. Send /email followed by your "
                "address for a new one."
            )
            return
        pending.attempts += 1
        acc.session.add(pending)
        expected = code_hash(_secret(turn), acc.id, pending.email, code)
        if not hmac.compare_digest(expected, pending.code_hash):
            left = turn.options.code_tries - pending.attempts
            if left <= 0:
                await drop_email_code(acc.session, acc.id)
                await clear_state(acc.session, turn.chat_id)
                await turn.reply(
                    "That code isn't right, and that was the last try. "
                    "Send /email again for a new code."
                )
            else:
                tries = "try" if left == 1 else "tries"
                await turn.reply(f"That code isn't right — {left} {tries} left.")
            return
        address = pending.email
        owner = await subscriber_by_email(acc.session, address)
        await drop_email_code(acc.session, acc.id)
        await clear_state(acc.session, turn.chat_id)
        if owner is not None and owner.id != acc.id:
            await turn.reply(
                f"{esc(address)} already gets alerts from us through a separate subscription. "
                "To manage that one here, open the “Change your alerts” link at the bottom of "
                "one of those emails."
            )
            return
        acc.sub.email = address
        acc.sub.email_verified = True
        acc.sub.link_version += 1  # the address changed: earlier links stop working
        acc.session.add(acc.sub)
        question, markup = channel_question(acc)
    await turn.reply(f"✅ {esc(address)} is linked.\n\n{question}", markup)
