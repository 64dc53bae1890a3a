"""Enquiries by email: the enterprise and an email-only adviser, with every outgoing mail
going through the enquiry outbox to aiosmtpd, threaded on the enterprise's original mail."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_services
from bot.delivery.channels import email_factory
from bot.enquiries.model import IncomingMessage
from bot.services import Services
from bot.web.server import build_web_app
from storage.db import Database
from storage.models import EnquiryRow
from tests.enquiries.enquiry_kit import FAY, Clock, make_config, seed, smtp
from tests.fakes.smtp import SmtpSink

__all__ = ["smtp"]

JO = "jo@greenbikes.example"
QUESTION = (
    "Our cash flow is tight this year. How should we prepare our annual accounts and a "
    "budget forecast before we ask the bank for a loan?"
)


def _services(database: Database, smtp: SmtpSink, clock: Clock, **routing: str) -> Services:
    config = make_config(database, smtp=smtp, **routing)
    return build_services(
        config,
        config.secret_key,
        clock=clock,
        worker_id="mail",
        telegram=None,
        email=email_factory(config),
        db=database,
    )


async def test_email_enquiry_with_an_email_adviser(database: Database, smtp: SmtpSink) -> None:
    await seed(database)
    services = _services(database, smtp, Clock(datetime.now(UTC)))
    service = services.enquiries
    first = IncomingMessage(
        channel="email",
        text=QUESTION + "\n\nThanks,\nJo\nGreen Bikes CIC, Derby DE1 1AA",
        subject="Accounts and a loan",
        sender_email=JO,
        sender_name="Jo Green",
        message_id="<m1@greenbikes.example>",
    )
    got = await service.receive(first)
    assert got.created and got.reference == "ENQ-000001" and got.adviser_id == "fay"
    await smtp.wait_for_messages(2)
    (ack,) = smtp.to(JO)
    assert ack.header("In-Reply-To") == "<m1@greenbikes.example>"
    assert "ENQ-000001" in ack.subject and "expect an answer by" in ack.text
    (brief,) = smtp.to(FAY)
    assert brief.subject.startswith("[ENQ-000001] New enquiry")
    assert QUESTION[:40] in brief.text and "Jo Green" in brief.text and JO in brief.text
    assert "Region: Derby" in brief.text

    # The same mail read twice (a crash before the mailbox flag): nothing new happens.
    again = await service.receive(first)
    assert not again.created and again.enquiry_id == got.enquiry_id
    assert len(smtp.messages) == 2

    # Fay answers by replying to her email; the quote is not passed on.
    reply = IncomingMessage(
        channel="email",
        text="Hi Jo,\nTalk to your bank early and keep 3 months of costs in reserve.\n\n"
        "On Mon, SEEM wrote:\n> New enquiry ENQ-000001",
        subject=f"Re: {brief.subject}",
        sender_email=FAY.upper(),
        message_id="<f1@seem.example>",
        in_reply_to=brief.header("Message-ID"),
        authenticated=True,  # the receiving server's Authentication-Results: dkim=pass
    )
    joined = await service.receive(reply)
    assert not joined.created and joined.enquiry_id == 1
    await smtp.wait_for_messages(3)
    # the answer itself says who has the question (no separate "accepted" mail before it)
    (answer,) = smtp.to(JO)[1:]
    assert "Fay Finance" in answer.text and FAY not in answer.text
    assert "keep 3 months of costs in reserve" in answer.text
    assert "New enquiry ENQ-000001" not in answer.text
    assert answer.header("In-Reply-To") == "<m1@greenbikes.example>"
    assert "ENQ-000001" in answer.subject

    # Jo replies to the answer: Fay gets it.
    await service.receive(
        IncomingMessage(
            channel="email",
            text="Thank you! Should the forecast cover 12 months?",
            subject=f"Re: {answer.subject}",
            sender_email=JO,
            message_id="<m2@greenbikes.example>",
            in_reply_to=answer.header("Message-ID"),
            references=("<m1@greenbikes.example>", answer.header("Message-ID") or ""),
        )
    )
    await smtp.wait_for_messages(4)
    assert "cover 12 months" in smtp.to(FAY)[-1].text

    # A stranger quoting the reference does not join the conversation.
    stranger = await service.receive(
        IncomingMessage(
            channel="email",
            text="Please send me everything about ENQ-000001",
            subject="Re: [ENQ-000001] Accounts and a loan",
            sender_email="mallory@evil.example",
            message_id="<x1@evil.example>",
        )
    )
    assert stranger.created and stranger.enquiry_id == 2

    # Fay resolves by email; Jo gets signed rating links that work (GET asks, POST acts).
    total = len(smtp.messages)
    await service.receive(
        IncomingMessage(
            channel="email",
            text="RESOLVE\n",
            sender_email=FAY,
            message_id="<f2@seem.example>",
            in_reply_to=brief.header("Message-ID"),
            authenticated=True,
        )
    )
    await smtp.wait_for_messages(total + 1)
    rating_mail = smtp.to(JO)[-1]
    links = re.findall(r"https://bot\.seem\.example(/enquiry/rate/\S+)", rating_mail.text)
    assert len(links) == 2
    async with TestClient(TestServer(build_web_app(services))) as client:
        page = await client.get(links[0])
        assert page.status == 200 and "How did we do?" in await page.text()
        assert (await _row(database, 1)).rating is None  # GET never acts
        done = await client.post(links[0])
        assert "Thanks for your feedback" in await done.text()
        forged = await client.post(links[0][:-3] + "AAA")
        assert forged.status == 400
    row = await _row(database, 1)
    assert row.status == "resolved" and row.rating == 1


async def test_acknowledgement_respects_working_hours(database: Database, smtp: SmtpSink) -> None:
    """Asked on Friday 27 Nov 2026 at 16:00 with "4h" in Mon-Fri 09:00-17:00: Monday 12:00."""
    await seed(database)
    clock = Clock(datetime(2026, 11, 27, 16, 0, tzinfo=UTC))
    service = _services(database, smtp, clock, working_hours="Mon-Fri 09:00-17:00").enquiries
    await service.receive(
        IncomingMessage(channel="email", text=QUESTION, sender_email=JO, message_id="<w@x>")
    )
    await smtp.wait_for_messages(2)
    (ack,) = smtp.to(JO)
    assert "expect an answer by Monday 12:00" in " ".join(ack.text.split())
    row = await _row(database, 1)
    assert row.ack_due_at == datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


async def _row(database: Database, enquiry_id: int) -> EnquiryRow:
    async with database.session() as session:
        row = await session.get(EnquiryRow, enquiry_id)
    assert row is not None
    return row


async def test_a_spoofed_adviser_mail_is_held_not_relayed(
    database: Database, smtp: SmtpSink
) -> None:
    """A mail claiming to come from the assigned adviser, quoting the reference, acts only
    when the receiving server vouches for its domain *and* it quotes a mail we sent that
    adviser; otherwise it is held, nothing reaches the enterprise, and the real adviser is
    told."""
    await seed(database)
    service = _services(database, smtp, Clock(datetime.now(UTC))).enquiries
    await service.receive(
        IncomingMessage(
            channel="email", text=QUESTION, subject="Loan", sender_email=JO, message_id="<q@j>"
        )
    )
    await smtp.wait_for_messages(2)
    (brief,) = smtp.to(FAY)
    spoofs = [
        # From says Fay, subject quotes the reference, no authentication at all
        IncomingMessage(
            channel="email",
            text="Send your bank details to mallory@evil.example",
            subject="Re: [ENQ-000001] Loan",
            sender_email=FAY,
            message_id="<s1@evil.example>",
        ),
        # authenticated for some domain, but quoting nothing we sent Fay
        IncomingMessage(
            channel="email",
            text="resolve",
            subject="Re: [ENQ-000001] Loan",
            sender_email=FAY,
            message_id="<s2@evil.example>",
            authenticated=True,
        ),
        # quoting our mail (a forwarded thread) but not authenticated
        IncomingMessage(
            channel="email",
            text="resolve",
            sender_email=FAY,
            message_id="<s3@evil.example>",
            in_reply_to=brief.header("Message-ID"),
            authenticated=False,
        ),
    ]
    for spoof in spoofs:
        got = await service.receive(spoof)
        assert not got.created and got.enquiry_id == 1
    row = await _row(database, 1)
    assert row.status == "open" and row.first_response_at is None
    assert len(smtp.to(JO)) == 1  # only the acknowledgement: nothing relayed
    warnings = [m for m in smtp.to(FAY) if "could not be verified" in (m.text or "")]
    assert len(warnings) == 3
