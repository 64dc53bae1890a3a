"""What big mailbox providers look at, on mail a real SMTP server received from the composed
App: subject with the brand and the notice, List-Id, Reply-To, Feedback-ID, one-click
unsubscribe, the VERP return path, the Date of the clock, and a DKIM signature that
verifies (and breaks when the mail is altered)."""

from __future__ import annotations

import email.utils
import re
from collections.abc import AsyncIterator

import dkim
import pytest

from bot.links import read_bounce_tag
from storage.db import Database
from tests.email.kit import (
    BOUNCES,
    CLOCK,
    FROM,
    PUBLIC_URL,
    TITLE,
    cycle,
    dkim_keys,
    dkim_record,
    email_config,
    subscribe,
)
from tests.fakes.smtp import SmtpSink

EDDIE = "eddie@example.org"


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as sink:
        yield sink


def _dns(record: bytes):  # type: ignore[no-untyped-def]
    def lookup(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"bestbot._domainkey.seem.example."
        return record

    return lookup


async def test_alert_mail_carries_brand_list_headers_verp_and_a_valid_dkim_signature(
    smtp: SmtpSink, database: Database
) -> None:
    await subscribe(database, EDDIE, ["catering services"])
    config = email_config(
        smtp,
        database,
        reply_to="Enquiries <enquiries@seem.example>",
        bounce_address=BOUNCES,
        feedback_id_prefix="seem",
        dkim_selector="bestbot",
        dkim_key=dkim_keys()[0],
    )
    report = await cycle(config)
    assert report.ok

    (mail,) = smtp.to(EDDIE)
    assert mail.subject == f"SEEM alert: {TITLE} — closes 7 Mar"
    assert mail.header("From") == f"SEEM contract alerts <{FROM}>"
    assert mail.header("Reply-To") == "Enquiries <enquiries@seem.example>"
    assert mail.header("List-Id") == "SEEM contract alerts <alerts.seem.example>"
    assert mail.header("Feedback-ID") == "seem:alert:instant:bestbot"
    unsubscribe = mail.header("List-Unsubscribe") or ""
    assert re.fullmatch(
        rf"<{re.escape(PUBLIC_URL)}/unsubscribe/[A-Za-z0-9._-]+>, "
        rf"<mailto:{re.escape(FROM)}\?subject=unsubscribe>",
        unsubscribe,
    ), unsubscribe
    assert mail.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    assert email.utils.parsedate_to_datetime(mail.header("Date") or "") == CLOCK

    # VERP: the envelope sender names this mail's tag; the private header never leaves.
    assert mail.mail_from.startswith("bounces+") and mail.mail_from.endswith("@seem.example")
    tag = read_bounce_tag(mail.mail_from)
    assert tag is not None and tag.public_id is not None
    assert mail.header("X-Bestbot-Tag") == mail.mail_from[len("bounces+") : -len("@seem.example")]
    assert mail.header("X-Bestbot-Envelope-From") is None

    # DKIM: d= is the From domain, the one-click headers are signed, and it verifies.
    signature = mail.header("DKIM-Signature") or ""
    assert "d=seem.example" in signature and "s=bestbot" in signature
    signed = re.search(r"h=([^;]+)", signature.replace(" ", "").replace("\n", ""))
    assert signed is not None
    names = signed.group(1).lower().split(":")
    assert {"from", "subject", "list-unsubscribe", "list-unsubscribe-post", "list-id"} <= set(names)
    assert dkim.verify(mail.data, dnsfunc=_dns(dkim_record()))
    tampered = mail.data.replace(b"Hampshire Primary", b"Hampshire Prim4ry", 1)
    assert tampered != mail.data
    assert not dkim.verify(tampered, dnsfunc=_dns(dkim_record()))


async def test_without_dkim_or_bounce_address_mail_is_unsigned_and_from_the_sender(
    smtp: SmtpSink, database: Database
) -> None:
    await subscribe(database, EDDIE, ["catering services"])
    await cycle(email_config(smtp, database, from_address="Alerts Desk <alerts@seem.example>"))
    (mail,) = smtp.to(EDDIE)
    assert mail.header("DKIM-Signature") is None
    assert mail.mail_from == FROM
    assert mail.header("From") == "Alerts Desk <alerts@seem.example>"
    assert mail.header("Reply-To") is None
    # a Feedback-ID is always there: the short brand name stands in for the prefix
    assert mail.header("Feedback-ID") == "seem:alert:instant:bestbot"
    assert read_bounce_tag(mail.header("X-Bestbot-Tag")) is not None


async def test_the_brand_is_the_configured_one_everywhere(
    smtp: SmtpSink, database: Database
) -> None:
    await subscribe(database, EDDIE, ["catering services"], frequency="daily")
    config = email_config(
        smtp, database, brand={"name": "BEST Procurement alerts", "short_name": "BEST"}
    )
    # a daily subscriber: the match waits for the digest at 08:00 London time
    await cycle(config)
    assert smtp.messages == []
    await cycle(config, CLOCK.replace(day=24, hour=8, minute=1))
    (mail,) = smtp.to(EDDIE)
    assert mail.subject == "BEST daily digest: 1 new opportunity"
    assert mail.header("From") == f"BEST Procurement alerts <{FROM}>"
    assert "signed up for BEST Procurement alerts" in (mail.text or "")
    assert "SEEM contract alerts" not in (mail.text or "") + (mail.html or "")
    # the digest keeps each item's "why" and its action links
    assert "Why: matched" in (mail.text or "")
    assert "Relevant: https://alerts.seem.example/act/" in (mail.text or "")
    assert "Manage your alerts: https://alerts.seem.example/manage/" in (mail.text or "")
