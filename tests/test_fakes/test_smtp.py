"""The SMTP sink driven by aiosmtplib."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import pytest

from tests.fakes.smtp import SmtpSink


def make_message(to: str = "ann@example.org", subject: str = "New opportunity") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "alerts@bestbot.test"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content("Plain body £")
    msg.add_alternative("<p>HTML body &pound;</p>", subtype="html")
    return msg


async def test_send_and_store(smtp_server: SmtpSink) -> None:
    async with aiosmtplib.SMTP(hostname=smtp_server.hostname, port=smtp_server.port) as client:
        await client.send_message(make_message())
        await client.send_message(make_message("bob@example.org", "Second"))
    [first, second] = await smtp_server.wait_for_messages(2)
    assert first.mail_from == "alerts@bestbot.test"
    assert first.rcpt_tos == ["ann@example.org"]
    assert first.subject == "New opportunity"
    assert first.header("Auto-Submitted") == "auto-generated"
    assert first.text is not None and first.text.strip() == "Plain body £"
    assert first.html is not None and "HTML body" in first.html
    assert first.login is None and not first.tls
    assert smtp_server.to("BOB@example.org") == [second]
    assert smtp_server.connections_used == 1


async def test_auth(make_smtp_server: Callable[..., SmtpSink]) -> None:
    sink = make_smtp_server(auth=("bestbot", "s3cret"))
    opts: dict[str, Any] = {"hostname": sink.hostname, "port": sink.port, "start_tls": False}
    with pytest.raises(aiosmtplib.SMTPAuthenticationError):
        await aiosmtplib.send(make_message(), username="bestbot", password="wrong", **opts)
    with pytest.raises(aiosmtplib.SMTPSenderRefused):  # AUTH required
        await aiosmtplib.send(make_message(), **opts)
    await aiosmtplib.send(make_message(), username="bestbot", password="s3cret", **opts)
    [mail] = await sink.wait_for_messages(1)
    assert mail.login == "bestbot"
    assert sink.auth_failures >= 1  # aiosmtplib tries each mechanism it knows


async def test_starttls_and_implicit_tls(make_smtp_server: Callable[..., SmtpSink]) -> None:
    sink = make_smtp_server(starttls=True, require_starttls=True, auth=("u", "p"))
    await aiosmtplib.send(
        make_message(),
        hostname=sink.hostname,
        port=sink.port,
        start_tls=True,
        tls_context=sink.client_tls_context,
        username="u",
        password="p",
    )
    [mail] = await sink.wait_for_messages(1)
    assert mail.tls and mail.login == "u"
    tls_sink = make_smtp_server(implicit_tls=True)
    await aiosmtplib.send(
        make_message(),
        hostname=tls_sink.hostname,
        port=tls_sink.port,
        use_tls=True,
        tls_context=tls_sink.client_tls_context,
    )
    [mail] = await tls_sink.wait_for_messages(1)
    assert mail.tls


async def test_failure_injection(smtp_server: SmtpSink) -> None:
    smtp_server.fail_next(1)  # 451 temporary
    smtp_server.reject_recipient("gone@example.org")
    async with aiosmtplib.SMTP(hostname=smtp_server.hostname, port=smtp_server.port) as client:
        with pytest.raises(aiosmtplib.SMTPDataError) as info:
            await client.send_message(make_message())
        assert info.value.code == 451
        await client.send_message(make_message())
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
            await client.send_message(make_message("gone@example.org"))
        assert refused.value.recipients[0].code == 550
        smtp_server.fail_next(1, code=554, text="5.7.1 Rejected as spam")
        with pytest.raises(aiosmtplib.SMTPDataError) as info:
            await client.send_message(make_message())
        assert info.value.code == 554
    assert len(smtp_server.messages) == 1
