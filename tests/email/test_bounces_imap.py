"""Bounces and complaints end to end: the composed App mails a real SMTP sink, real DSN and
ARF reports for that mail are delivered to a real Dovecot, the mailbox job reads them, and
the address is never mailed again — even when the subscriber is switched back on."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.app import App, channels
from bot.config import Config
from bot.enquiries.mailbox import DONE_KEYWORD, REPORT_KEYWORD, mailbox_job
from bot.links import read_bounce_tag
from storage.db import Database
from storage.models import (
    DeliveryRow,
    EnquiryRow,
    MessageRow,
    SubscriberRow,
    SuppressionRow,
)
from storage.subscribers import SubscriberInput, upsert_subscriber
from tests.email.kit import BOUNCES, CLOCK, SAMPLE, email_config, subscribe
from tests.email.reports_kit import report
from tests.fakes import dovecot as dovecot_fakes
from tests.fakes.dovecot import Dovecot
from tests.fakes.smtp import ReceivedMail, SmtpSink

dovecot_server = dovecot_fakes.dovecot_server
dovecot = dovecot_fakes.dovecot

EDDIE = "eddie@example.org"
JANE = "jane@example.org"
OCID = "ocds-b5fd17-8e9e80b5-0a39-4580-a5f2-2b35442a9378"


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as sink:
        yield sink


def _amended(tmp_path: Path, days: int = 7) -> Path:
    """The catering notice re-published with its deadline moved (an update to send)."""
    package = json.loads(SAMPLE.read_text(encoding="utf-8"))
    (release,) = [r for r in package["releases"] if r["ocid"] == OCID]
    release = copy.deepcopy(release)
    release["id"] += f"-amended-{days}"
    release["date"] = "2025-01-24T10:00:00Z"
    release["tender"]["tenderPeriod"]["endDate"] = f"2025-03-{7 + days:02d}T13:00:00Z"
    package["releases"] = [release]
    path = tmp_path / f"amended-{days}.json"
    path.write_text(json.dumps(package), encoding="utf-8")
    return path


class Service:
    """The App as ``bestbot run`` composes it, with a clock the test moves."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.now = CLOCK

    async def cycle(self, config: Config | None = None) -> Any:
        async with (
            channels(config or self.config, receive=False) as (_b, telegram, email),
            App(
                config or self.config, clock=lambda: self.now, telegram=telegram, email=email
            ) as app,
        ):
            return await app.cycle()

    async def read_mailbox(self) -> Any:
        async with (
            channels(self.config, receive=False) as (_b, telegram, email),
            App(self.config, clock=lambda: self.now, telegram=telegram, email=email) as app,
        ):
            inbound = self.config.email.inbound
            assert inbound is not None
            services = app.services
            return await mailbox_job(
                inbound, services.enquiries, [self.config.email.from_email], services.bounces
            )


def _config(smtp: SmtpSink, database: Database, server: Dovecot, **extra: Any) -> Config:
    inbound = {
        "host": server.host,
        "port": server.port,
        "username": server.user,
        "password": server.password,
        "ssl": False,
        "address": "enquiries@seem.example",
    }
    return email_config(smtp, database, bounce_address=BOUNCES, inbound=inbound, **extra)


def _tag(mail: ReceivedMail) -> str:
    tag = mail.mail_from.removeprefix("bounces+").removesuffix("@seem.example")
    assert read_bounce_tag(tag) is not None, mail.mail_from
    return tag


async def _rows(db: Database, model: Any) -> list[Any]:
    async with db.session() as session:
        return list((await session.exec(select(model))).all())


async def test_a_hard_bounce_suppresses_the_address_and_no_mail_goes_to_it_again(
    smtp: SmtpSink, database: Database, dovecot: Dovecot, tmp_path: Path
) -> None:
    eddie = await subscribe(database, EDDIE, ["catering services"])
    jane = await subscribe(database, JANE, ["catering"])
    service = Service(_config(smtp, database, dovecot))
    await service.cycle()
    (to_eddie,) = smtp.to(EDDIE)
    assert len(smtp.to(JANE)) == 1

    # Eddie's mailbox does not exist: his provider's MTA bounces it to our VERP address.
    uid = dovecot.append(report("postfix_hard_bounce.eml", tag=_tag(to_eddie), rcpt=EDDIE))
    # A forged "bounce" for Jane carrying Eddie's tag must not touch Jane.
    dovecot.append(
        report("postfix_hard_bounce.eml", tag=_tag(to_eddie), rcpt=JANE, msgid="2").replace(
            b"<20250123180004.4Xk2Lq1Zb9z9vG@mx1", b"<forged@mx1"
        )
    )
    service.now = CLOCK + timedelta(minutes=5)
    mailbox = await service.read_mailbox()
    assert (mailbox.reports, mailbox.new, mailbox.errors) == (2, 0, 0), mailbox.line()
    assert {DONE_KEYWORD, REPORT_KEYWORD} <= dovecot.flags()[uid]
    assert await _rows(database, EnquiryRow) == []  # no report became an enquiry

    (row,) = await _rows(database, SuppressionRow)
    assert (row.address, row.reason) == (EDDIE, "hard_bounce")
    assert "5.1.1" in (row.detail or "")
    subs = {s.id: s for s in await _rows(database, SubscriberRow)}
    assert not subs[eddie].email_active and subs[jane].email_active

    # The buyer moves the deadline: Jane gets the update, Eddie nothing.
    service.now = CLOCK.replace(day=24, hour=10, minute=5)
    await service.cycle(_config(smtp, database, dovecot, feed=_amended(tmp_path)))
    assert len(smtp.to(JANE)) == 2 and len(smtp.to(EDDIE)) == 1

    # SEEM staff re-import Eddie (which switches his email on again): still nothing goes to
    # the suppressed address — the courier checks the list before every send.
    async with database.session() as session:
        await upsert_subscriber(
            session,
            SubscriberInput(
                name=None,
                email=EDDIE,
                telegram_chat_id=None,
                frequency="instant",
                profile={"keywords": ["catering services"]},
            ),
        )
    service.now = CLOCK.replace(day=25, hour=10, minute=5)
    await service.cycle(_config(smtp, database, dovecot, feed=_amended(tmp_path, days=14)))
    assert len(smtp.to(JANE)) == 3
    assert len(smtp.to(EDDIE)) == 1
    dropped = [
        d
        for d in await _rows(database, DeliveryRow)
        if d.subscriber_id == eddie and d.kind != "alert"
    ]
    assert dropped and {d.status for d in dropped} == {"cancelled"}
    assert any("suppression list" in (d.last_error or "") for d in dropped)


async def test_soft_bounces_suppress_on_the_third_within_fourteen_days(
    smtp: SmtpSink, database: Database, dovecot: Dovecot
) -> None:
    await subscribe(database, EDDIE, ["catering services"])
    service = Service(_config(smtp, database, dovecot))
    await service.cycle()
    (mail,) = smtp.to(EDDIE)
    full = "exchange_mailbox_full.eml"

    def bounce(n: int) -> bytes:
        return report(full, tag=_tag(mail), rcpt=EDDIE, bounce_to=mail.mail_from, msgid=str(n))

    dovecot.append(bounce(1))
    dovecot.append(bounce(1))  # the same report delivered twice counts once
    dovecot.append(bounce(2))
    assert (await service.read_mailbox()).reports == 3
    assert await _rows(database, SuppressionRow) == []
    # a delay is no bounce
    dovecot.append(report("gmail_delayed.eml", tag=_tag(mail), rcpt=EDDIE, msgid="d"))
    await service.read_mailbox()
    assert await _rows(database, SuppressionRow) == []

    # the third soft bounce, 13 days after the first, suppresses the address
    service.now = CLOCK + timedelta(days=13)
    dovecot.append(bounce(3))
    await service.read_mailbox()
    (row,) = await _rows(database, SuppressionRow)
    assert (row.address, row.reason) == (EDDIE, "soft_bounce")
    assert row.detail is not None and row.detail.startswith("3 soft bounces within 14 days")


async def test_soft_bounces_spread_over_more_than_fourteen_days_do_not_suppress(
    smtp: SmtpSink, database: Database, dovecot: Dovecot
) -> None:
    await subscribe(database, EDDIE, ["catering services"])
    service = Service(_config(smtp, database, dovecot))
    await service.cycle()
    (mail,) = smtp.to(EDDIE)
    for n, day in enumerate((0, 8, 16)):
        service.now = CLOCK + timedelta(days=day)
        dovecot.append(
            report("exchange_mailbox_full.eml", tag=_tag(mail), rcpt=EDDIE, msgid=f"s{n}")
        )
        await service.read_mailbox()
    assert await _rows(database, SuppressionRow) == []


async def test_a_complaint_suppresses_and_tells_the_admins(
    smtp: SmtpSink, database: Database, dovecot: Dovecot
) -> None:
    eddie = await subscribe(database, EDDIE, ["catering services"])
    await subscribe(database, JANE, ["catering"])
    service = Service(_config(smtp, database, dovecot))
    await service.cycle()
    (mail,) = smtp.to(EDDIE)
    (to_jane,) = smtp.to(JANE)
    dovecot.append(report("arf_complaint.eml", tag=_tag(mail), rcpt=EDDIE))
    assert (await service.read_mailbox()).reports == 1
    (row,) = await _rows(database, SuppressionRow)
    assert (row.address, row.reason) == (EDDIE, "complaint")
    subs = {s.id: s for s in await _rows(database, SubscriberRow)}
    assert not subs[eddie].email_active
    (told,) = [m for m in await _rows(database, MessageRow) if m.purpose == "complaint"]
    assert (told.recipient, told.channel, told.chat_id) == ("admin", "telegram", 4242)
    assert EDDIE in told.body and "Spam complaint" in told.body

    # an ISP that redacts the recipient: the tag alone names the subscriber
    raw = report("arf_complaint.eml", tag=_tag(to_jane), rcpt="x@example.org", msgid="j")
    dovecot.append(raw.replace(b"Original-Rcpt-To: <x@example.org>\r\n", b""))
    await service.read_mailbox()
    assert {r.address for r in await _rows(database, SuppressionRow)} == {EDDIE, JANE}
