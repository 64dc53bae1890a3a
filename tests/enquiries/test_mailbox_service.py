"""Email intake through the real EnquiryService: Dovecot in, aiosmtpd out, a real database.

The enterprise's mail opens an enquiry, bestbot's acknowledgement goes out by SMTP, the
enterprise's reply to that acknowledgement joins the enquiry, and neither our own mail
coming back nor an out-of-office answer to it opens anything (no mail loops).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from bot.config import Config, config_from_dict
from bot.delivery.channels import email_factory
from bot.enquiries.mailbox import DONE_KEYWORD, poll_mailbox
from storage import enquiries as store
from storage.db import Database
from storage.models import EnquiryMessageRow, EnquiryRow
from tests.enquiries import mailbox_samples as s
from tests.enquiries.enquiry_kit import enquiry_service
from tests.fakes import dovecot as dovecot_fakes
from tests.fakes.dovecot import Dovecot
from tests.fakes.smtp import SmtpSink

dovecot_server = dovecot_fakes.dovecot_server
dovecot = dovecot_fakes.dovecot

ENTERPRISE = "jo@greenbikes.example"
MAILBOX = "enquiries@seem.example"


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as sink:
        yield sink


def _config(server: Dovecot, smtp: SmtpSink, database: Database) -> Config:
    return config_from_dict(
        {
            "database": {"url": database.url},
            "email": {
                "from_address": f"SEEM enquiries <{MAILBOX}>",
                "smtp_host": smtp.hostname,
                "smtp_port": smtp.port,
                "starttls": False,
                "inbound": {
                    "host": server.host,
                    "port": server.port,
                    "username": server.user,
                    "password": server.password,
                    "ssl": False,
                    "address": MAILBOX,
                },
            },
            "web": {"secret_key": "s" * 32},
            "routing": {"working_hours": "24/7"},
        },
        env={},
    )


async def _rows(database: Database) -> tuple[list[EnquiryRow], list[EnquiryMessageRow]]:
    async with database.session() as session:
        enquiries = list((await session.exec(select(EnquiryRow))).all())
        messages = list((await session.exec(select(EnquiryMessageRow))).all())
    return enquiries, messages


async def test_mail_round_trip_through_the_enquiry_service(
    dovecot: Dovecot, smtp: SmtpSink, database: Database
) -> None:
    config = _config(dovecot, smtp, database)
    inbound = config.email.inbound
    assert inbound is not None and config.email.from_email == MAILBOX
    async with database.session() as session:
        await store.upsert_advisers(
            session,
            [
                store.AdviserInput(
                    code="tina",
                    name="Tina Adviser",
                    topics=["tendering", "general"],
                    capacity=5,
                    email="tina@seem.example",
                )
            ],
        )
    service = enquiry_service(config, database, email=email_factory(config))
    own = [config.email.from_email or ""]

    dovecot.append(s.ALTERNATIVE)
    report = await poll_mailbox(inbound, service, own_addresses=own)

    assert (report.new, report.joined, report.errors) == (1, 0, 0), report.line()
    [enquiry], [first] = await _rows(database)
    assert enquiry.email == ENTERPRISE
    assert enquiry.thread_id == "<CAF1234abc@mail.greenbikes.example>"
    assert "ISO 9001" in enquiry.text and first.email_message_id == enquiry.thread_id
    [ack] = smtp.to(ENTERPRISE)
    ack_id = ack.header("Message-ID")
    assert ack_id and store.reference(enquiry.id or 0) in ack.subject

    reply = s.crlf(
        f"""From: Jo Bloggs <{ENTERPRISE}>
To: {MAILBOX}
Subject: Re: {ack.subject}
Message-ID: <reply-9@mail.greenbikes.example>
In-Reply-To: {ack_id}
References: <CAF1234abc@mail.greenbikes.example> {ack_id}
Content-Type: text/plain; charset=utf-8

Thanks. Is the deadline noon or midnight?
"""
    )
    out_of_office = s.crlf(
        f"""From: Jo Bloggs <{ENTERPRISE}>
To: {MAILBOX}
Subject: Automatic reply: {ack.subject}
Message-ID: <oof-9@mail.greenbikes.example>
In-Reply-To: {ack_id}
Auto-Submitted: auto-replied
Content-Type: text/plain

I'm away until Monday.
"""
    )
    dovecot.append(reply)
    dovecot.append(ack.data)  # our own acknowledgement looping back into the mailbox
    dovecot.append(out_of_office)
    report = await poll_mailbox(inbound, service, own_addresses=own)

    assert (report.new, report.joined, report.ignored, report.errors) == (0, 1, 2, 0)
    enquiries, messages = await _rows(database)
    assert len(enquiries) == 1
    assert [m.email_message_id for m in messages] == [
        "<CAF1234abc@mail.greenbikes.example>",
        "<reply-9@mail.greenbikes.example>",
    ]
    assert "noon or midnight" in messages[1].text

    # A crash before the flags were stored: every mail is read again, nothing is doubled.
    imap = dovecot.client()
    imap.uid("STORE", "1:*", "-FLAGS.SILENT", f"(\\Seen {DONE_KEYWORD})")
    imap.logout()
    report = await poll_mailbox(inbound, service, own_addresses=own)
    assert (report.new, report.joined, report.ignored) == (0, 2, 2)
    assert [len(rows) for rows in await _rows(database)] == [1, 2]
