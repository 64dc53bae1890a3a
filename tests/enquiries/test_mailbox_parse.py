"""parse_mail: real-looking mail in, enquiry parts or a reason to ignore out; never raises."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.enquiries.mail_parse import (
    MAX_TEXT_CHARS,
    SYNTHETIC_DOMAIN,
    Ignored,
    ParsedMail,
    html_to_text,
    parse_mail,
)
from bot.enquiries.mailbox import IncomingMessage, to_incoming
from tests.enquiries import mailbox_samples as s


def parsed(raw: bytes, own: tuple[str, ...] = (s.OWN,)) -> ParsedMail:
    result = parse_mail(raw, own)
    assert isinstance(result, ParsedMail), result
    return result


def ignored(raw: bytes, own: tuple[str, ...] = (s.OWN,)) -> Ignored:
    result = parse_mail(raw, own)
    assert isinstance(result, Ignored), result
    return result


# --------------------------------------------------------------------------- enquiries


def test_multipart_alternative_prefers_plain_text() -> None:
    mail = parsed(s.ALTERNATIVE)
    assert mail.sender_email == "jo@greenbikes.example"  # domain lower-cased, local part kept
    assert mail.sender_name == "Jo Bloggs"
    assert mail.subject == "Help with a council bike repair tender"
    assert mail.message_id == "<CAF1234abc@mail.greenbikes.example>"
    assert mail.in_reply_to is None and mail.references == ()
    assert "Do we need\nISO 9001 to apply?" in mail.text
    assert "HTML VERSION" not in mail.text
    # Nothing stripped: the signature stays for the triage to weigh.
    assert mail.text.endswith("Green Bikes CIC | 0116 000 0000")
    assert not mail.truncated


def test_html_only_becomes_safe_text() -> None:
    mail = parsed(s.HTML_ONLY)
    assert "How do we evidence social value & local jobs?" in mail.text
    assert "- Care at home\n- Day services" in mail.text
    assert "Thanks\nPriya <Manager>" in mail.text
    for hidden in ("alert", "color", "Ignore me", "<", "track.example"):
        assert hidden not in mail.text.replace("<Manager>", "")


def test_quoted_printable_and_encoded_subject() -> None:
    mail = parsed(s.QUOTED_PRINTABLE)
    assert mail.subject == "Contract value £250k"
    assert "worth £250,000 over three years and this line is long enough" in mail.text
    assert "Café staff included." in mail.text
    assert mail.sender_name is None and mail.sender_email == "sam@foodbank.example"


def test_base64_body() -> None:
    assert parsed(s.BASE64).text == "How do we register on Find a Tender? — Ana"


def test_non_utf8_charsets_in_headers_and_body() -> None:
    mail = parsed(s.LATIN1)
    assert mail.sender_name == "Renée Dupré"
    assert mail.subject == "Café tender – question"
    assert mail.text == "Notre café social veut répondre. Coût: 5 000 £?"


def test_reply_keeps_thread_headers_and_quote() -> None:
    mail = parsed(s.REPLY)
    assert mail.subject == "Re: [ENQ-000123] Help with a council bike repair tender"
    assert mail.in_reply_to == "<bestbot.111@seem.example>"
    assert mail.references == ("<CAF1234abc@mail.greenbikes.example>", "<bestbot.111@seem.example>")
    assert "> You don't need ISO 9001." in mail.text


def test_to_incoming_maps_every_field() -> None:
    msg = to_incoming(parsed(s.REPLY))
    assert msg == IncomingMessage(
        channel="email",
        text=parsed(s.REPLY).text,
        subject="Re: [ENQ-000123] Help with a council bike repair tender",
        sender_email="jo@greenbikes.example",
        sender_name="Jo Bloggs",
        message_id="<reply-2@mail.greenbikes.example>",
        in_reply_to="<bestbot.111@seem.example>",
        references=("<CAF1234abc@mail.greenbikes.example>", "<bestbot.111@seem.example>"),
        authenticated=False,  # no Authentication-Results from our server
    )


def test_subject_stands_in_for_an_empty_body() -> None:
    raw = s.crlf("From: a@b.example\nSubject: Can we bid as a consortium?\nMessage-ID: <e@b>\n\n\n")
    mail = parsed(raw)
    assert mail.text == "" and to_incoming(mail).text == "Can we bid as a consortium?"


def test_missing_message_id_gets_a_stable_synthetic_one() -> None:
    first, second = parsed(s.NO_MESSAGE_ID), parsed(s.NO_MESSAGE_ID)
    assert first.message_id == second.message_id
    assert first.message_id.startswith("<") and first.message_id.endswith(f"@{SYNTHETIC_DOMAIN}>")
    other = parsed(s.NO_MESSAGE_ID.replace(b"jointly", b"together"))
    assert other.message_id != first.message_id


def test_attachments_are_skipped_for_the_body() -> None:
    raw = s.crlf(
        """From: a@b.example
Subject: With attachment
Message-ID: <att@b.example>
Content-Type: multipart/mixed; boundary="m"

--m
Content-Type: text/plain; name="notes.txt"
Content-Disposition: attachment; filename="notes.txt"

ATTACHED NOTES
--m
Content-Type: text/html

<p>The real question</p>
--m--
"""
    )
    assert parsed(raw).text == "The real question"


def test_long_body_is_capped() -> None:
    raw = s.crlf("From: a@b.example\nSubject: long\nMessage-ID: <l@b>\n\n") + b"word " * 40_000
    mail = parsed(raw)
    assert len(mail.text) == MAX_TEXT_CHARS and mail.truncated


def test_control_characters_and_folding_are_removed() -> None:
    raw = (
        b'From: "Evil\x07 \xe2\x80\xaeName" <e@b.example>\r\n'
        b"Subject: =?utf-8?q?Line1=0D=0ABcc:_x@y=00?=\r\n"
        b"Message-ID: <c@b>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Hi\x00 there\x1b[31m\r\nbye\x7f\r\n"
    )
    mail = parsed(raw)
    assert mail.subject == "Line1 Bcc: x@y"
    assert mail.sender_name == "Evil Name"
    assert mail.text == "Hi there[31m\nbye"


def test_unknown_charset_decodes_with_replacement() -> None:
    raw = s.crlf(
        "From: a@b.example\nSubject: x\nMessage-ID: <u@b>\n"
        "Content-Type: text/plain; charset=x-klingon\n\nplain words \xe9\n"
    )
    assert parsed(raw).text.startswith("plain words ")


def test_auto_submitted_no_is_a_person() -> None:
    assert parsed(s.simple(1, headers="Auto-Submitted: no\n")).subject == "Question 1"


@pytest.mark.parametrize(
    "subject", ["Out of office hours support?", "Automatic reply to tenders - how?", "Leave policy"]
)
def test_enquiries_that_merely_mention_absence_are_kept(subject: str) -> None:
    assert parsed(s.simple(1, subject=subject)).subject == subject


# --------------------------------------------------------------------------- robots


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (s.OUTLOOK_OOF, "auto-submitted (auto-replied)"),
        (s.OOF_SUBJECT_ONLY, "auto-reply (subject)"),
        (s.DSN, "auto-submitted (auto-replied)"),
        (s.BARE_DSN, "delivery report (delivery-status)"),
        (s.LIST_MAIL, "precedence list"),
        (s.OWN_MAIL, "our own message"),
        (s.NO_FROM, "no usable From address"),
        (s.simple(1, headers="X-Autoreply: yes\n"), "auto-reply (X-Autoreply)"),
        (s.simple(1, headers="X-Autorespond: Vacation\n"), "auto-reply (X-Autorespond)"),
        (s.simple(1, headers="Precedence: bulk\n"), "precedence bulk"),
        (s.simple(1, headers="Precedence: junk\n"), "precedence junk"),
        (s.simple(1, headers="List-Unsubscribe: <https://x.example/u>\n"), "list mail"),
        (s.simple(1, headers="Return-Path: <>\n"), "bounce (empty Return-Path)"),
        (s.simple(1, sender="MAILER-DAEMON@mx.example"), "bounce (mailer daemon)"),
        (s.simple(1, headers="X-Failed-Recipients: x@y.example\n"), "bounce"),
        (s.simple(1, headers=f"X-Loop: {s.OWN}\n", sender="fwd@x.example"), "mail loop"),
        (s.simple(1, subject="Autosvar: Re: spørsmål"), "auto-reply (subject)"),
        (s.simple(1, subject="Out of office"), "auto-reply (subject)"),
        (s.simple(1, subject="Undeliverable: [ENQ-000001] Thanks"), "auto-reply (subject)"),
        (
            s.simple(
                1,
                headers="Content-Type: multipart/report; report-type=disposition-notification; "
                'boundary="z"\n',
            ),
            "delivery report (disposition-notification)",
        ),
    ],
)
def test_robots_are_ignored(raw: bytes, reason: str) -> None:
    assert ignored(raw).reason.startswith(reason)


def test_ignored_mail_keeps_ids_for_the_log() -> None:
    result = ignored(s.OUTLOOK_OOF)
    assert result.message_id == "<oof-1@greenbikes.example>"
    assert result.sender_email == "jo@greenbikes.example"


def test_own_address_is_case_insensitive_and_optional() -> None:
    assert ignored(s.OWN_MAIL, own=(s.OWN.title(),)).reason == "our own message"
    assert parsed(s.OWN_MAIL, own=()).message_id == "<bestbot.222@seem.example>"


def test_our_real_outgoing_mail_is_ignored() -> None:
    """What bot.email_channel sends (Auto-Submitted, List-Unsubscribe) never opens an enquiry."""
    raw = s.crlf(
        f"""From: BEST Procurement <{s.OWN}>
To: jo@greenbikes.example
Subject: 3 new tenders
Message-ID: <123.bestbot@seem.example>
Auto-Submitted: auto-generated
X-Auto-Response-Suppress: All
List-Unsubscribe: <https://bot.seem.example/u/x>
Content-Type: text/plain

Alerts.
"""
    )
    assert ignored(raw, own=()).reason == "auto-submitted (auto-generated)"


# --------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff" * 1000,
        b"From: a@b.example\r\nContent-Type: multipart/mixed\r\n\r\nno boundary at all",
        b'From: a@b.example\r\nContent-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\n'
        b"Content-Type: text/plain\r\n\r\nunterminated",
        b"From: a@b.example\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64@@@",
        b"From: <<<>>>@@@\r\nSubject: =?utf-8?b?####?=\r\n\r\nx",
        b"From: a@b.example\r\nMessage-ID: " + b"<" * 10_000 + b"\r\n\r\nx",
        b"From: " + b"a" * 100_000 + b"@b.example\r\n\r\nx",
        b'From: a@b.example\r\nContent-Type: text/plain; charset="\x00"\r\n\r\nx',
        b"From: a@b.example\r\n" + b"X-Junk: y\r\n" * 20_000 + b"\r\nbody",
        b"From: a@b.example\r\nContent-Type: text/html\r\n\r\n<scr<script>ipt>x</" + b"<b>" * 5000,
    ],
)
def test_malformed_mail_never_crashes(raw: bytes) -> None:
    result = parse_mail(raw)
    assert isinstance(result, ParsedMail | Ignored)


def test_deeply_nested_multipart_is_bounded() -> None:
    depth = 3000
    head = b"From: a@b.example\r\nMessage-ID: <deep@b>\r\nSubject: deep\r\n"
    parts = [head]
    for i in range(depth):
        parts.append(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'.encode())
    parts.append(b"Content-Type: text/plain\r\n\r\ninnermost\r\n")
    result = parse_mail(b"".join(parts))
    assert isinstance(result, ParsedMail | Ignored)


def test_not_bytes_is_ignored() -> None:
    assert isinstance(parse_mail("text", ()), Ignored)  # type: ignore[arg-type]


def test_parse_failure_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    class Exploding(bytes):
        def __getitem__(self, item: object) -> bytes:
            raise RuntimeError("boom")

    with caplog.at_level(logging.WARNING, logger="bot.enquiries.mail_parse"):
        result = parse_mail(Exploding(b"x"))
    assert isinstance(result, Ignored) and result.reason == "unparseable (RuntimeError)"
    assert "unparseable mail ignored" in caplog.text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4000))
def test_random_bytes_never_raise(raw: bytes) -> None:
    assert isinstance(parse_mail(raw, (s.OWN,)), ParsedMail | Ignored)


_header_names = st.sampled_from(
    [
        "From", "Subject", "Message-ID", "In-Reply-To", "References", "Content-Type",
        "Content-Transfer-Encoding", "Content-Disposition", "Auto-Submitted", "Return-Path",
        "Precedence", "X-Loop",
    ]
)  # fmt: skip
_values = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            "multipart/alternative; boundary=b",
            'multipart/report; report-type="',
            "text/html; charset=utf-16",
            "=?utf-8?q?=FF=FE?=",
            "<a@b> <<c@d>",
            '"x" <a@b.example>, y@',
            "base64",
            "quoted-printable",
        ]
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(_header_names, _values), max_size=12),
    st.text(max_size=400),
    st.sampled_from(["", "\n--b\nContent-Type: text/html\n\n<p>x", "\n--b--\n"]),
)
def test_structured_garbage_never_raises(
    headers: list[tuple[str, str]], body: str, tail: str
) -> None:
    lines = [f"{name}: {value}" for name, value in headers]
    raw = ("\r\n".join(lines) + "\r\n\r\n" + body + tail).encode("utf-8", "surrogatepass")
    result = parse_mail(raw, (s.OWN,))
    assert isinstance(result, ParsedMail | Ignored)
    if isinstance(result, ParsedMail):
        assert "\r" not in result.text and "\x00" not in result.text
        assert result.subject is None or "\n" not in result.subject
        assert len(result.text) <= MAX_TEXT_CHARS


def test_html_to_text_unescapes_once() -> None:
    assert html_to_text("<p>&amp;lt;b&amp;gt; &pound;5</p>") == "&lt;b&gt; £5"
