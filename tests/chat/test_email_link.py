"""/email and /verify through the real email channel (aiosmtplib) to an aiosmtpd server."""

from __future__ import annotations

import re

from sqlmodel import select

from bot.chat.core import data
from storage.models import EmailCodeRow
from storage.subscribers import SubscriberInput, upsert_subscriber
from tests.chat.conftest import ANN, BEN, Chat


def _code(chat: Chat, index: int = -1) -> str:
    assert chat.smtp is not None
    mail = chat.smtp.messages[index]
    found = re.search(r"\b(\d{6})\b", mail.subject)
    assert found is not None
    assert found.group(1) in (mail.message.get_body(("plain",)) or mail.message).get_content()
    return found.group(1)


async def test_email_code_verify_and_choose_channels(chat: Chat) -> None:
    assert chat.smtp is not None
    await chat.onboard(ANN)
    assert "doesn't look like an email address" in (await chat.send(ANN, "/email nope")).text
    assert "followed by your address" in (await chat.send(ANN, "/email")).text
    sent = await chat.send(ANN, "/email Jane@Example.ORG")
    assert "sent a 6-digit code to Jane@example.org" in sent.text
    await chat.smtp.wait_for_messages(1)
    mail = chat.smtp.messages[0]
    assert mail.rcpt_tos == ["Jane@example.org"]
    # the verification mail goes by the one brand ([brand] name), in subject and signature
    assert mail.subject.startswith("Your SEEM contract alerts code: ")
    assert "SEEM contract alerts — BEST Procurement" in (mail.text or "")
    code = _code(chat)
    async with chat.db.session() as session:
        row = (await session.exec(select(EmailCodeRow))).one()
    assert code not in row.code_hash and len(row.code_hash) == 64  # only a keyed hash
    # asking again at once doesn't send another
    assert "a moment ago" in (await chat.send(ANN, "/email Jane@Example.ORG")).text
    assert len(chat.smtp.messages) == 1

    wrong = "000000" if code != "000000" else "111111"
    assert "4 tries left" in (await chat.send(ANN, f"/verify {wrong}")).text
    assert "6-digit code" in (await chat.send(ANN, "/verify 12ab")).text
    ok = await chat.send(ANN, code)  # typing just the code works too
    assert "✅ Jane@example.org is linked" in ok.text
    sub, _ = await chat.subscriber(ANN) or (None, None)
    assert sub is not None and sub.email == "Jane@example.org" and sub.email_verified
    assert not sub.email_active  # until they choose
    assert await chat.press(ANN, ok, data("ch", "b")) == (
        "Alerts will come on Telegram and by email."
    )
    sub, _ = await chat.subscriber(ANN) or (None, None)
    assert sub is not None and sub.email_active and sub.telegram_active
    assert "already linked" in (await chat.send(ANN, "/email jane@example.org")).text
    assert "no code waiting" in (await chat.send(ANN, "/verify 123456")).text


async def test_five_tries_then_a_new_code_is_needed(chat: Chat) -> None:
    assert chat.smtp is not None
    await chat.onboard(BEN)
    await chat.send(BEN, "/email ben@example.org")
    await chat.smtp.wait_for_messages(1)
    code = _code(chat)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        assert (
            f"{left} {'try' if left == 1 else 'tries'} left"
            in (await chat.send(BEN, f"/verify {wrong}")).text
        )
    assert "last try" in (await chat.send(BEN, f"/verify {wrong}")).text
    assert "no code waiting" in (await chat.send(BEN, f"/verify {code}")).text
    sub, _ = await chat.subscriber(BEN) or (None, None)
    assert sub is not None and sub.email is None


async def test_expired_code_and_address_of_another_subscriber(chat: Chat) -> None:
    assert chat.smtp is not None
    async with chat.db.session() as session:
        await upsert_subscriber(
            session,
            SubscriberInput(
                name="Eddie",
                email="eddie@example.org",
                telegram_chat_id=None,
                frequency="daily",
                profile={"keywords": ["gardening"]},
            ),
        )
    await chat.onboard(ANN)
    await chat.send(ANN, "/email eddie@example.org")
    await chat.smtp.wait_for_messages(1)
    reply = await chat.send(ANN, f"/verify {_code(chat)}")
    assert "already gets alerts from us" in reply.text
    sub, _ = await chat.subscriber(ANN) or (None, None)
    assert sub is not None and sub.email is None

    chat.options.code_resend_after = chat.options.code_ttl * 0
    await chat.send(ANN, "/email ann@example.org")
    await chat.smtp.wait_for_messages(2)
    async with chat.db.session() as session:
        row = (await session.exec(select(EmailCodeRow))).one()
        row.expires_at = row.created_at
        session.add(row)
    assert "expired" in (await chat.send(ANN, f"/verify {_code(chat)}")).text


async def test_smtp_failure_is_explained(chat: Chat) -> None:
    assert chat.smtp is not None
    await chat.onboard(ANN)
    chat.smtp.fail_next(1, code=554, text="no thanks")
    reply = await chat.send(ANN, "/email ann@example.org")
    assert "couldn't send the email" in reply.text
    async with chat.db.session() as session:
        assert (await session.exec(select(EmailCodeRow))).first() is None
