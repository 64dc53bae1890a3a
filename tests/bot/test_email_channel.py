"""The email channel against a real aiosmtpd server on loopback."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from bot.delivery.email import EmailSender, ListHeaders, SmtpSettings, build_message
from bot.delivery.errors import RecipientGone, RetryLater, Undeliverable
from bot.render.model import RenderedEmail
from tests.fakes.smtp import self_signed_cert

UNSUB = "https://bestbot.example.org/unsubscribe/1234." + "A" * 43


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    session: Any


@dataclass
class Sink:
    """aiosmtpd handler: keeps messages, counts connections, fails on demand."""

    received: list[Received] = field(default_factory=list)
    sessions: set[int] = field(default_factory=set)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_reply: str | None = None
    drop_after_data: bool = False

    @property
    def connections(self) -> int:
        return len(self.sessions)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        self.sessions.add(id(session))
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        reply = self.rcpt_replies.get(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply is not None:
            return self.data_reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), message, session)
        )
        if self.drop_after_data:
            # the server goes away right after accepting, like an idle-timeout or a restart
            asyncio.get_running_loop().call_later(0.05, server.transport.close)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def sink() -> Sink:
    return Sink()


def start(sink: Sink, **kwargs: Any) -> Controller:
    controller = Controller(sink, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller


@pytest.fixture
def server(sink: Sink) -> Iterator[Controller]:
    controller = start(sink)
    try:
        yield controller
    finally:
        controller.stop()


def settings_for(controller: Controller, **overrides: Any) -> SmtpSettings:
    base = SmtpSettings(
        host="127.0.0.1",
        port=controller.port,
        username=None,
        password=None,
        starttls=False,
        tls=False,
        timeout=5,
        from_address="BEST Procurement <alerts@bestbot.example.org>",
    )
    return replace(base, **overrides)


def rendered(subject: str = "New opportunity: School meals") -> RenderedEmail:
    return RenderedEmail(
        subject=subject,
        text="School meals — £250,000\nUnsubscribe: " + UNSUB + "\n",
        html="<p>School meals &mdash; £250,000</p>",
    )


def message(to: str = "jo@example.org", **kw: Any) -> EmailMessage:
    return build_message(
        kw.pop("rendered", rendered()),
        to=to,
        from_address="BEST Procurement <alerts@bestbot.example.org>",
        list_headers=ListHeaders(
            unsubscribe_url=UNSUB,
            unsubscribe_mailto=kw.pop("mailto", "unsubscribe@bestbot.example.org"),
        ),
        message_id_domain="bestbot.example.org",
        **kw,
    )


# --- building ----------------------------------------------------------------------------------


def test_build_message_headers_and_parts() -> None:
    msg = message(in_reply_to="<earlier@bestbot.example.org>")
    assert msg["From"] == "BEST Procurement <alerts@bestbot.example.org>"
    assert msg["To"] == "jo@example.org"
    assert msg["Subject"] == "New opportunity: School meals"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["List-Unsubscribe"] == (
        f"<{UNSUB}>, <mailto:unsubscribe@bestbot.example.org?subject=unsubscribe>"
    )
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Message-ID"].endswith("@bestbot.example.org>")
    assert msg["Date"]
    assert msg["In-Reply-To"] == msg["References"] == "<earlier@bestbot.example.org>"
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    # the raw bytes keep List-Unsubscribe on one line and unencoded (mail clients need that)
    raw = msg.as_bytes()
    line = next(x for x in raw.split(b"\r\n") if x.startswith(b"List-Unsubscribe:"))
    assert UNSUB.encode() in line and b"=?" not in line


def test_mailto_forms() -> None:
    for mailto in ("mailto:u@x.org", "u@x.org"):
        assert message(mailto=mailto)["List-Unsubscribe"].endswith(
            "<mailto:u@x.org?subject=unsubscribe>"
        )
    assert message(mailto="mailto:u@x.org?subject=stop")["List-Unsubscribe"].endswith(
        "<mailto:u@x.org?subject=stop>"
    )


def test_no_header_injection() -> None:
    msg = message(rendered=rendered("Hello\r\nBcc: victim@example.org\n\tmore"))
    assert msg["Subject"] == "Hello Bcc: victim@example.org more"
    assert msg["Bcc"] is None
    raw = msg.as_bytes()
    assert b"\r\nBcc:" not in raw
    with pytest.raises(ValueError):
        message(to="jo@example.org\r\nBcc: victim@example.org")
    with pytest.raises(ValueError):
        build_message(
            rendered(),
            to="jo@example.org",
            from_address="a@b.org",
            list_headers=ListHeaders(
                unsubscribe_url=UNSUB + "\r\nX: y", unsubscribe_mailto="u@b.org"
            ),
            message_id_domain="b.org",
        )


def test_non_ascii_subject_is_encoded_and_round_trips() -> None:
    msg = message(rendered=rendered("New opportunity: Café – £5k “meals”"))
    raw = msg.as_bytes()
    assert all(b < 128 for b in raw)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "New opportunity: Café – £5k “meals”"


# --- sending -----------------------------------------------------------------------------------


async def test_a_batch_uses_one_connection(server: Controller, sink: Sink) -> None:
    sent: list[str] = []
    async with EmailSender(settings_for(server)) as sender:
        for i in range(5):
            sent.append(await sender.send(message(to=f"user{i}@example.org")))
    assert sink.connections == 1
    assert [r.rcpt_tos for r in sink.received] == [[f"user{i}@example.org"] for i in range(5)]
    assert [r.message["Message-ID"] for r in sink.received] == sent
    assert len(set(sent)) == 5
    first = sink.received[0]
    assert first.mail_from == "alerts@bestbot.example.org"
    assert first.message.get_content_type() == "multipart/alternative"
    assert first.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert first.message["List-Unsubscribe"].startswith(f"<{UNSUB}>, <mailto:")
    assert first.message["Auto-Submitted"] == "auto-generated"
    body = first.message.get_body(preferencelist=("html",))
    assert body is not None and "School meals" in body.get_content()
    plain = first.message.get_body(preferencelist=("plain",))
    assert plain is not None and UNSUB in plain.get_content()


async def test_reconnects_once_when_the_server_drops_the_connection(
    server: Controller, sink: Sink
) -> None:
    sink.drop_after_data = True
    async with EmailSender(settings_for(server)) as sender:
        await sender.send(message(to="a@example.org"))
        await asyncio.sleep(0.2)
        await sender.send(message(to="b@example.org"))
        await asyncio.sleep(0.2)
        await sender.send(message(to="c@example.org"))
    assert [r.rcpt_tos[0] for r in sink.received] == [
        "a@example.org",
        "b@example.org",
        "c@example.org",
    ]
    assert sink.connections == 3


async def test_send_connects_lazily_without_a_context_manager(
    server: Controller, sink: Sink
) -> None:
    sender = EmailSender(settings_for(server))
    try:
        await sender.send(message())
        await sender.send(message())
    finally:
        await sender.close()
    assert len(sink.received) == 2 and sink.connections == 1


async def test_temporary_and_permanent_recipient_errors(server: Controller, sink: Sink) -> None:
    sink.rcpt_replies = {
        "later@example.org": "451 4.3.0 Mailbox temporarily unavailable",
        "nobody@example.org": "550 5.1.1 No such user here",
    }
    async with EmailSender(settings_for(server)) as sender:
        with pytest.raises(RetryLater, match="451"):
            await sender.send(message(to="later@example.org"))
        with pytest.raises(RecipientGone, match=r"550 5\.1\.1 No such user"):
            await sender.send(message(to="nobody@example.org"))
        await sender.send(message(to="fine@example.org"))  # the connection is still good
    assert [r.rcpt_tos for r in sink.received] == [["fine@example.org"]]
    assert sink.connections == 1


async def test_data_errors_are_mapped(server: Controller, sink: Sink) -> None:
    async with EmailSender(settings_for(server)) as sender:
        sink.data_reply = "452 4.3.1 Insufficient system storage"
        with pytest.raises(RetryLater, match="452"):
            await sender.send(message())
        sink.data_reply = "554 5.7.1 Message rejected as spam"
        with pytest.raises(Undeliverable, match="554"):
            await sender.send(message())
    assert sink.received == []


async def test_connection_refused_is_temporary() -> None:
    settings = SmtpSettings(
        host="127.0.0.1",
        port=free_port(),
        username=None,
        password=None,
        starttls=False,
        tls=False,
        timeout=2,
        from_address="alerts@bestbot.example.org",
    )
    with pytest.raises(RetryLater, match="cannot connect"):
        async with EmailSender(settings):
            pass
    sender = EmailSender(settings)
    with pytest.raises(RetryLater):
        await sender.send(message())


async def test_a_silent_server_times_out_as_temporary() -> None:
    writers: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)  # accept the connection, never greet

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        settings = SmtpSettings(
            host="127.0.0.1",
            port=port,
            username=None,
            password=None,
            starttls=False,
            tls=False,
            timeout=0.3,
            from_address="alerts@bestbot.example.org",
        )
        with pytest.raises(RetryLater, match=r"(?i)time"):
            async with EmailSender(settings) as sender:
                await sender.send(message())
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


def test_password_is_not_in_the_settings_repr() -> None:
    settings = SmtpSettings(
        host="h",
        port=25,
        username="u",
        password="hunter2",
        starttls=True,
        tls=False,
        from_address="a@b.org",
    )
    assert "hunter2" not in repr(settings)


# --- authentication and TLS ---------------------------------------------------------------------


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"bot", b"pw")
    return AuthResult(success=ok, handled=False)


async def test_login_and_bad_password(sink: Sink) -> None:
    controller = start(sink, authenticator=authenticator, auth_require_tls=False)
    try:
        good = settings_for(controller, username="bot", password="pw")
        async with EmailSender(good) as sender:
            await sender.send(message())
        assert len(sink.received) == 1
        bad = settings_for(controller, username="bot", password="wrong-password")
        with pytest.raises(RetryLater, match="login") as info:
            async with EmailSender(bad):
                pass
        assert "wrong-password" not in str(info.value)
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def certificate() -> tuple[Path, Path]:
    try:
        return self_signed_cert()  # the SMTP fake's own self-signed localhost certificate
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"openssl cannot make a test certificate: {exc}")


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


async def test_starttls(sink: Sink, certificate: tuple[Path, Path]) -> None:
    controller = start(
        sink,
        tls_context=server_context(certificate),
        require_starttls=True,
        authenticator=authenticator,
    )
    try:
        settings = settings_for(
            controller,
            starttls=True,
            cert_bundle=str(certificate[0]),
            username="bot",
            password="pw",
        )
        async with EmailSender(settings) as sender:
            await sender.send(message())
            await sender.send(message())
        assert len(sink.received) == 2
        assert all(r.session.ssl is not None for r in sink.received)
        untrusted = settings_for(controller, starttls=True)  # the system CAs don't know it
        with pytest.raises(RetryLater):
            async with EmailSender(untrusted):
                pass
    finally:
        controller.stop()


async def test_implicit_tls(sink: Sink, certificate: tuple[Path, Path]) -> None:
    controller = start(sink, ssl_context=server_context(certificate))
    try:
        settings = settings_for(controller, tls=True, cert_bundle=str(certificate[0]))
        async with EmailSender(settings) as sender:
            await sender.send(message())
        assert len(sink.received) == 1
    finally:
        controller.stop()


async def test_plain_server_with_starttls_required_by_config_fails_cleanly(
    server: Controller,
) -> None:
    with pytest.raises(RetryLater):
        async with EmailSender(settings_for(server, starttls=True)):
            pass
