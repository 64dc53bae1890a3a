"""Linking email and Telegram: /email + /verify, and the "manage by Telegram" deep link.

* ``/email ADDRESS`` sends a 6-digit code through the real email channel (SMTP). The code is
  valid for 15 minutes and 5 tries, and only an HMAC of it (keyed with the service's secret
  key, bound to the subscriber and the address) is stored: a leaked database does not give
  the code away, and 10^6 codes can't be brute-forced offline without the key.
* ``/verify CODE`` (or just typing the code) links the address; the subscriber then picks
  Telegram, email or both.
* An address that already belongs to another subscriber is not taken over by /verify; the
  email subscriber uses the link in their emails instead (:func:`manage_link`), which proves
  the same thing and keeps their existing settings.
"""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import logging
import secrets
from email.message import EmailMessage

from bot import tokens
from bot.channels import email_factory
from bot.chat.account import account, subscribed
from bot.chat.core import Turn, command, esc
from bot.chat.settings import channel_question
from bot.chat.text import InputError, parse_code, parse_email
from bot.config import Config
from bot.email_channel import POLICY, EmailError
from storage.chat import (
    clear_state,
    drop_email_code,
    email_code,
    link_chat,
    put_email_code,
    set_state,
    subscriber_by_email,
)
from storage.subscribers import mask_email
from storage.types import utcnow

log = logging.getLogger(__name__)

LINK_PURPOSE = "link"


def link_payload(secret: str, subscriber_id: int) -> str:
    """The /start parameter for linking: the signed token with its dot as a hyphen."""
    return tokens.sign(secret, LINK_PURPOSE, subscriber_id).replace(".", "-", 1)


def manage_link(config: Config, subscriber_id: int) -> str | None:
    """``https://t.me/<bot>?start=<token>`` for an email footer; None without a bot username.

    ``config.secret_key`` must be the key in use (the Service replaces a generated key with
    the one kept in the database).
    """
    username = config.telegram.bot_username
    if not username:
        return None
    payload = link_payload(config.secret_key, subscriber_id)
    return f"https://t.me/{username.lstrip('@')}?start={payload}"


def _token(payload: str) -> str | None:
    if "." in payload:
        return payload
    head, sep, tail = payload.partition("-")
    if not sep or not head.isdigit():
        return None
    return f"{head}.{tail}"


async def link_by_payload(turn: Turn, payload: str) -> bool:
    """``/start <id>-<sig>``: link this chat to that subscriber; False if not a valid link."""
    token = _token(payload)
    secret = await turn.secret_key()
    if token is None or secret is None:
        return False
    subscriber_id = tokens.verify(secret, LINK_PURPOSE, token)
    if subscriber_id is None:
        return False
    if not await turn.is_admin():
        await turn.reply("Only this group's admins can link alerts to this group.")
        return True
    async with turn.state.db.session() as session:
        result = await link_chat(session, subscriber_id, turn.chat_id)
        if result is None:
            return False
        await clear_state(session, turn.chat_id)
        masked = esc(mask_email(result.subscriber.email) or "your email subscription")
    if result.already:
        lead = f"This chat already manages the alerts for {masked}."
    else:
        lead = f"✅ Linked! This chat now manages the alerts for {masked}."
        if result.replaced:
            lead += " (The separate set-up you had here before was replaced by it.)"
    async with account(turn) as acc:
        if acc is None:
            return False
        question, markup = channel_question(acc)
    await turn.reply(f"{lead}\n\n{question}\nSend /settings to see everything.", markup)
    return True


# --------------------------------------------------------------------------- codes


def code_hash(secret: str, subscriber_id: int, address: str, code: str) -> str:
    message = f"bestbot-email-code\x00{subscriber_id}\x00{address.lower()}\x00{code}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _message(config: Config, to: str, code: str, minutes: int) -> EmailMessage:
    msg = EmailMessage(policy=POLICY)
    msg["From"] = config.email.from_address or "alerts@bestbot.invalid"
    msg["To"] = to
    msg["Subject"] = f"Your bestbot code: {code}"
    msg["Date"] = email.utils.formatdate(usegmt=True)
    domain = (config.email.from_email or "bestbot.invalid").rpartition("@")[2]
    msg["Message-ID"] = email.utils.make_msgid(idstring="bestbot-code", domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(
        f"Your code is {code}\n\n"
        f"Send /verify {code} to bestbot on Telegram within {minutes} minutes to get "
        "contract alerts at this address.\n\n"
        "If you didn't ask for this, ignore this email: nothing changes without the code.\n\n"
        "-- \nBEST Procurement alerts, Social Enterprise East Midlands\n"
    )
    return msg


@command("email")
async def on_email(turn: Turn) -> None:
    config = turn.state.config
    factory = email_factory(config) if config is not None else None
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
        if factory is None or config is None:
            await turn.reply(
                "Sorry, email isn't set up on this service yet, so I can't send a code."
            )
            return
        if acc.sub.email and acc.sub.email.lower() == address.lower() and acc.sub.email_verified:
            question, markup = channel_question(acc)
            await turn.reply(f"{esc(address)} is already linked.\n\n{question}", markup)
            return
        moment = utcnow()
        pending = await email_code(acc.session, acc.id)
        if pending is not None and moment - pending.created_at < turn.options.code_resend_after:
            await turn.reply(
                "I sent a code a moment ago — please check your inbox (and spam folder). "
                "You can ask for a new one in a minute."
            )
            return
        secret = await turn.secret_key() or ""
        code = f"{secrets.randbelow(10**6):06d}"
        minutes = int(turn.options.code_ttl.total_seconds() // 60)
        await put_email_code(
            acc.session,
            acc.id,
            address,
            code_hash(secret, acc.id, address, code),
            moment + turn.options.code_ttl,
        )
        await set_state(acc.session, turn.chat_id, "verify")
        sub_id = acc.id
    try:
        async with factory() as sender:
            await sender.send(_message(config, address, code, minutes))
    except (EmailError, ValueError) as exc:
        log.warning("verification email failed: %s", type(exc).__name__)
        async with turn.state.db.session() as session:
            await drop_email_code(session, sub_id)
            await clear_state(session, turn.chat_id)
        await turn.reply(
            "Sorry, I couldn't send the email just now. Please check the address and try "
            "again in a few minutes."
        )
        return
    await turn.reply(
        f"📧 I've sent a 6-digit code to {esc(address)}. Send /verify followed by the code "
        f"(or just type it) within {minutes} minutes."
    )


@command("verify")
async def on_verify(turn: Turn) -> None:
    await verify(turn, turn.args)


async def verify(turn: Turn, text: str) -> None:
    try:
        code = parse_code(text)
    except InputError as exc:
        await turn.reply(esc(str(exc)))
        return
    secret = await turn.secret_key() or ""
    async with subscribed(turn) as acc:
        pending = await email_code(acc.session, acc.id)
        if pending is None:
            await turn.reply("There's no code waiting. Send /email followed by your address first.")
            return
        if pending.expires_at <= utcnow() or pending.attempts >= turn.options.code_tries:
            await drop_email_code(acc.session, acc.id)
            await clear_state(acc.session, turn.chat_id)
            await turn.reply(
                "That code has expired or had too many tries. Send /email followed by your "
                "address for a new one."
            )
            return
        pending.attempts += 1
        acc.session.add(pending)
        expected = code_hash(secret, acc.id, pending.email, code)
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
        acc.session.add(acc.sub)
        question, markup = channel_question(acc)
    await turn.reply(f"✅ {esc(address)} is linked.\n\n{question}", markup)
