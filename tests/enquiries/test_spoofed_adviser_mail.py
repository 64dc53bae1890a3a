"""Issue #18.2 through the real mail path: Dovecot in, the SMTP sink out, a real database.

An enterprise's question goes to Tina, an email adviser, who is sent a brief. Then mail
claiming to be Tina arrives in the IMAP mailbox — with no ``Authentication-Results``, with
one forged by the sender under another server's name, with our server's verdict for the
wrong domain, with our server's verdict but quoting none of our mail — and each is held:
nothing reaches the enterprise, the enquiry stays open, Tina is warned. Only Tina's real
reply (our server's ``dkim=pass`` for her domain, quoting the brief) is passed on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.config import Config, config_from_dict
from bot.delivery.channels import email_factory
from bot.enquiries.mail_auth import vouches_for
from bot.enquiries.mailbox import poll_mailbox
from storage import enquiries as store
from storage.db import Database
from storage.models import EnquiryRow
from tests.enquiries import mailbox_samples as s
from tests.enquiries.enquiry_kit import enquiry_service
from tests.fakes import dovecot as dovecot_fakes
from tests.fakes.dovecot import Dovecot
from tests.fakes.smtp import SmtpSink

dovecot_server = dovecot_fakes.dovecot_server
dovecot = dovecot_fakes.dovecot

JO = "jo@greenbikes.example"
TINA = "tina@seem.example"
MAILBOX = "enquiries@seem.example"
OUR_SERVER = "mx.seem.example"


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
                    "authserv_id": OUR_SERVER,
                },
            },
            "web": {"secret_key": "s" * 32},
            "routing": {"working_hours": "24/7"},
        },
        env={},
    )


def _mail(n: int, body: str, *, headers: str = "", in_reply_to: str | None = None) -> bytes:
    quoting = f"In-Reply-To: {in_reply_to}\nReferences: {in_reply_to}\n" if in_reply_to else ""
    return s.crlf(
        f"""{headers}From: Tina Adviser <{TINA}>
To: {MAILBOX}
Subject: Re: [ENQ-000001] Tender help
Message-ID: <tina-{n}@mail.seem.example>
{quoting}Content-Type: text/plain; charset=utf-8

{body}
"""
    )


async def _enquiry(database: Database) -> EnquiryRow:
    async with database.session() as session:
        row = await session.get(EnquiryRow, 1)
    assert row is not None
    return row


async def test_mail_claiming_to_be_the_adviser_acts_only_with_our_servers_word_and_our_mail(
    dovecot: Dovecot, smtp: SmtpSink, database: Database
) -> None:
    config = _config(dovecot, smtp, database)
    inbound = config.email.inbound
    assert inbound is not None
    async with database.session() as session:
        await store.upsert_advisers(
            session,
            [
                store.AdviserInput(
                    code="tina",
                    name="Tina Adviser",
                    topics=["tendering", "general"],
                    capacity=5,
                    email=TINA,
                )
            ],
        )
    service = enquiry_service(config, database, email=email_factory(config))
    own = [MAILBOX]
    dovecot.append(s.ALTERNATIVE)  # Jo's question (a real-shaped multipart mail)
    assert (await poll_mailbox(inbound, service, own_addresses=own)).new == 1
    [brief] = smtp.to(TINA)
    brief_id = brief.header("Message-ID")
    assert brief_id
    to_jo = len(smtp.to(JO))  # the acknowledgement

    spoofs = [
        _mail(1, "Send your bank details to mallory@evil.example"),
        _mail(  # an Authentication-Results the sender wrote, under another server's name
            2,
            "resolve",
            headers="Authentication-Results: mx.evil.example; dkim=pass header.d=seem.example\n",
            in_reply_to=brief_id,
        ),
        _mail(  # our server's verdict, but for the spoofer's own domain
            3,
            "resolve",
            headers=f"Authentication-Results: {OUR_SERVER}; dkim=pass header.d=evil.example;"
            " spf=pass smtp.mailfrom=tina@seem.example\n",
            in_reply_to=brief_id,
        ),
        _mail(  # our server vouches, but the mail quotes none of ours
            4,
            "resolve",
            headers=f"Authentication-Results: {OUR_SERVER}; dkim=pass header.d=seem.example\n",
        ),
    ]
    for spoof in spoofs:
        dovecot.append(spoof)
    report = await poll_mailbox(inbound, service, own_addresses=own)
    assert report.errors == 0 and report.new == 0, report.line()
    assert len(smtp.to(JO)) == to_jo  # nothing relayed
    row = await _enquiry(database)
    assert row.status == "open" and row.first_response_at is None
    warned = [m for m in smtp.to(TINA) if "could not be verified" in (m.text or "")]
    assert len(warned) == len(spoofs)

    genuine = _mail(
        5,
        "Yes: a CIC can bid. Start with the selection questionnaire.",
        headers=f"Authentication-Results: {OUR_SERVER} (2026 mail filter);\n"
        "  dkim=pass (2048-bit key) header.d=seem.example header.i=@seem.example;\n"
        "  dmarc=pass header.from=seem.example\n",
        in_reply_to=brief_id,
    )
    dovecot.append(genuine)
    await poll_mailbox(inbound, service, own_addresses=own)
    answers = [m for m in smtp.to(JO)[to_jo:] if "selection questionnaire" in (m.text or "")]
    assert len(answers) == 1
    assert (await _enquiry(database)).first_response_at is not None


@pytest.mark.parametrize(
    ("headers", "sender", "vouched"),
    [
        ([f"{OUR_SERVER}; dkim=pass header.d=seem.example"], TINA, True),
        ([f"{OUR_SERVER}; dkim=pass header.i=@seem.example"], TINA, True),
        ([f"{OUR_SERVER}; dmarc=pass (p=reject) header.from=seem.example"], TINA, True),
        ([f"{OUR_SERVER} 1; dkim=pass header.d=seem.example"], "t@mail.seem.example", True),
        ([f"{OUR_SERVER}; dkim=pass header.d=seem.example"], "tina@notseem.example", False),
        ([f"{OUR_SERVER}; spf=pass smtp.mailfrom=tina@seem.example"], TINA, False),
        ([f"{OUR_SERVER}; dkim=fail header.d=seem.example"], TINA, False),
        ([f"{OUR_SERVER}; dkim=neutral (pass) header.d=seem.example"], TINA, False),
        ([f"{OUR_SERVER}; none"], TINA, False),
        (["mx.evil.example; dkim=pass header.d=seem.example"], TINA, False),
        ([f"x{OUR_SERVER}; dkim=pass header.d=seem.example"], TINA, False),
        ([f"(comment) {OUR_SERVER}; dkim=pass header.d=seem.example"], TINA, True),
        (["mx.evil.example; none", f"{OUR_SERVER}; dkim=pass header.d=seem.example"], TINA, True),
        ([f'{OUR_SERVER}; dkim=pass header.d="seem.example"'], TINA, True),
        ([f"{OUR_SERVER}; dkim=pass header.d=seem.example"], None, False),
        ([], TINA, False),
        (["garbage without a semicolon"], TINA, False),
    ],
)
def test_only_our_servers_pass_for_the_senders_domain_counts(
    headers: list[str], sender: str | None, vouched: bool
) -> None:
    assert vouches_for(headers, OUR_SERVER, sender) is vouched
    assert vouches_for(headers, None, sender) is False  # no authserv_id: nothing believed
