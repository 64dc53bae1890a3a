"""The DSN / ARF reader on real-shaped reports (Postfix, Exchange Online, Gmail, an ISP's
feedback loop) and on mail that is not a report at all."""

from __future__ import annotations

import pytest

from bot.delivery.reports import ComplaintReport, DeliveryReport, parse_report
from bot.links import Signer, bounce_tag
from tests.email.reports_kit import report

SIGNER = Signer("k" * 32)
RCPT = "eddie@example.org"
TAG = bounce_tag(SIGNER, RCPT, "AbCdEfGhIjKlMnOpQrStUv")


def test_postfix_hard_bounce() -> None:
    parsed = parse_report(report("postfix_hard_bounce.eml", tag=TAG, rcpt=RCPT))
    assert isinstance(parsed, DeliveryReport) and parsed.standard
    (status,) = parsed.recipients
    assert (status.address, status.action, status.status, status.kind) == (
        RCPT,
        "failed",
        "5.1.1",
        "hard",
    )
    assert "User unknown" in status.diagnostic
    assert TAG in parsed.tags
    assert parsed.report_id == "<20250123180004.4Xk2Lq1Zb9z9vG@mx1.seem.example>"


def test_exchange_mailbox_full_is_soft_and_the_tag_comes_from_the_returned_message() -> None:
    # sent to the plain From address (no VERP): only the returned copy carries the tag
    raw = report("exchange_mailbox_full.eml", tag=TAG, rcpt=RCPT, bounce_to="alerts@seem.example")
    parsed = parse_report(raw)
    assert isinstance(parsed, DeliveryReport)
    (status,) = parsed.recipients
    assert (status.status, status.kind) == ("5.2.2", "soft")
    assert parsed.tags == (TAG,)


def test_gmail_delay_is_only_a_delay() -> None:
    parsed = parse_report(report("gmail_delayed.eml", tag=TAG, rcpt=RCPT))
    assert isinstance(parsed, DeliveryReport)
    assert [r.kind for r in parsed.recipients] == ["delayed"]
    assert parsed.tags == (TAG,)  # from Delivered-To / To


def test_arf_complaint() -> None:
    parsed = parse_report(report("arf_complaint.eml", tag=TAG, rcpt=RCPT))
    assert isinstance(parsed, ComplaintReport)
    assert parsed.feedback_type == "abuse"
    assert parsed.recipients == (RCPT,)
    assert parsed.tags == (TAG,)


def test_arf_with_the_recipient_redacted_still_has_the_tag() -> None:
    raw = report("arf_complaint.eml", tag=TAG, rcpt="redacted@example.org")
    raw = raw.replace(b"Original-Rcpt-To: <redacted@example.org>\r\n", b"")
    parsed = parse_report(raw)
    assert isinstance(parsed, ComplaintReport)
    assert parsed.recipients == () and TAG in parsed.tags


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        ("5.1.1", "hard"),
        ("5.1.10", "hard"),
        ("5.2.1", "hard"),
        ("5.0.0", "hard"),
        ("5.4.4", "hard"),
        ("5.2.2", "soft"),
        ("5.3.4", "soft"),
        ("5.7.1", "soft"),
        ("5.7.26", "soft"),
        ("4.2.2", "soft"),
        ("4.4.7", "soft"),
        ("", "soft"),
    ],
)
def test_status_codes(status: str, kind: str) -> None:
    raw = report("postfix_hard_bounce.eml", tag=TAG, rcpt=RCPT)
    raw = raw.replace(b"Status: 5.1.1", f"Status: {status}".encode())
    parsed = parse_report(raw)
    assert isinstance(parsed, DeliveryReport)
    assert parsed.recipients[0].kind == kind


def test_success_reports_name_no_failure() -> None:
    raw = report("gmail_delayed.eml", tag=TAG, rcpt=RCPT).replace(
        b"Action: delayed", b"Action: delivered"
    )
    parsed = parse_report(raw)
    assert isinstance(parsed, DeliveryReport)
    assert [r.kind for r in parsed.recipients] == ["ok"]


def test_a_qmail_style_bounce_with_our_tag_is_a_non_standard_report() -> None:
    raw = (
        "From: MAILER-DAEMON@mail.example.net\r\n"
        f"To: bounces+{TAG}@seem.example\r\n"
        "Subject: failure notice\r\n"
        "Message-ID: <qmail-1@mail.example.net>\r\n\r\n"
        "Hi. This is the qmail-send program at mail.example.net.\r\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\r\n\r\n"
        f"<{RCPT}>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n"
    ).encode()
    parsed = parse_report(raw)
    assert isinstance(parsed, DeliveryReport) and not parsed.standard
    assert parsed.tags == (TAG,)


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage",
        b"From: jane@example.org\r\nTo: enquiries@seem.example\r\nSubject: Question about"
        b" a tender\r\n\r\nHello, can you help with our bid for the Nottingham meals contract?",
        b"From: jane@example.org\r\nSubject: Automatic reply: away\r\nAuto-Submitted: auto-replied"
        b"\r\n\r\nI am out of the office until Monday.",
        # a bounce about someone else's mail: no tag of ours anywhere
        b"From: MAILER-DAEMON@mx.example.net\r\nTo: someone@else.example\r\nSubject: Undelivered"
        b" Mail Returned to Sender\r\n\r\nThe message could not be delivered.",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x",
    ],
)
def test_mail_that_is_not_a_report_about_our_mail(raw: bytes) -> None:
    parsed = parse_report(raw)
    assert parsed is None or (isinstance(parsed, DeliveryReport) and not parsed.recipients)
