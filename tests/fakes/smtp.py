"""An SMTP sink on loopback built on aiosmtpd, with optional AUTH, STARTTLS or implicit TLS
and scripted failures, for testing bestbot's email channel end to end.

The server runs in aiosmtpd's ``Controller`` thread (so blocking clients work too) on a free
port chosen by the OS. Every accepted message is kept as a :class:`ReceivedMail` with the
envelope and the parsed ``email.message.EmailMessage``.
"""

# ruff: noqa: ASYNC109  -- wait_for_messages(timeout=...) reads best in tests
from __future__ import annotations

import asyncio
import email
import email.policy
import gc
import ssl
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Awaitable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

_CERT_LOCK = threading.Lock()
_CERT: tuple[Path, Path] | None = None


def self_signed_cert() -> tuple[Path, Path]:
    """(cert.pem, key.pem) for CN=localhost / IP 127.0.0.1, made once per process with the
    ``openssl`` command line (the ``cryptography`` package is not a dependency)."""
    global _CERT
    with _CERT_LOCK:
        if _CERT is None:
            folder = Path(tempfile.mkdtemp(prefix="bestbot-smtp-cert-"))
            cert, key = folder / "cert.pem", folder / "key.pem"
            subprocess.run(
                [
                    "openssl",
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:prime256v1",
                    "-nodes",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=localhost",
                    "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout",
                    str(key),
                    "-out",
                    str(cert),
                ],
                check=True,
                capture_output=True,
            )
            _CERT = (cert, key)
        return _CERT


@dataclass
class ReceivedMail:
    """One message the sink accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    message: EmailMessage
    login: str | None  # the AUTH user name, if the client authenticated
    tls: bool  # the session was encrypted (STARTTLS or implicit TLS)
    session_id: int  # equal for messages sent over one connection

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    def header(self, name: str) -> str | None:
        value = self.message.get(name)
        return None if value is None else str(value)

    def _part(self, subtype: str) -> str | None:
        part = self.message.get_body(preferencelist=(subtype,))
        if part is None:
            return None
        content = part.get_content()
        return str(content)

    @property
    def text(self) -> str | None:
        """The text/plain body."""
        return self._part("plain")

    @property
    def html(self) -> str | None:
        """The text/html body."""
        return self._part("html")


class _PortZeroController(Controller):
    """Binds port 0 and learns the real port before aiosmtpd's start-up self-test uses it."""

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        coro = super()._create_server()

        async def bind() -> asyncio.AbstractServer:
            server = await coro
            sockets = getattr(server, "sockets", None) or []
            self.port = sockets[0].getsockname()[1]
            return server

        return bind()

    protocols: list[SMTP]

    def factory(self) -> SMTP:
        # AUTH without TLS is what the plain-text tests want; aiosmtpd warns about it on
        # every connection
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            smtp = SMTP(self.handler, **self.SMTP_kwargs)
        self.protocols.append(smtp)
        return smtp

    def abort_connections(self) -> None:
        """Drop every open connection (in the server's loop) so that stopping the loop does
        not leave transports behind to be garbage-collected, with a ResourceWarning, later."""
        done = threading.Event()

        def abort() -> None:
            for smtp in self.protocols:
                transport = smtp.transport
                if isinstance(transport, asyncio.Transport):
                    transport.abort()
            done.set()

        self.loop.call_soon_threadsafe(abort)
        done.wait(2.0)


class SmtpSink:
    """The SMTP server. ``with SmtpSink() as smtp`` / ``async with`` or the ``smtp_server``
    fixture; connect to ``smtp.hostname``:``smtp.port``."""

    def __init__(
        self,
        *,
        auth: tuple[str, str] | None = None,
        starttls: bool = False,
        require_starttls: bool = False,
        implicit_tls: bool = False,
        hostname: str = "127.0.0.1",
        delay: float = 0.0,
    ) -> None:
        self.hostname = hostname
        #: Seconds each DATA takes before it is answered: a slow mail server.
        self.delay = delay
        self.port = 0
        self.auth = auth
        self.messages: list[ReceivedMail] = []
        self.auth_failures = 0
        self._fail_data: list[tuple[int, str]] = []
        self._rejected: dict[str, tuple[int, str]] = {}
        self._lock = threading.Lock()
        self.cert_path: Path | None = None
        self.implicit_tls = implicit_tls
        self._handler = _Handler(self)
        kwargs: dict[str, Any] = {}
        ssl_context: ssl.SSLContext | None = None
        if starttls or implicit_tls:
            cert, key = self_signed_cert()
            self.cert_path = cert
            server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            server_ctx.load_cert_chain(cert, key)
            if implicit_tls:
                ssl_context = server_ctx
            else:
                kwargs["tls_context"] = server_ctx
                kwargs["require_starttls"] = require_starttls
        if auth is not None:
            kwargs["authenticator"] = self._handler.authenticate
            kwargs["auth_required"] = True
            kwargs["auth_require_tls"] = bool(starttls and require_starttls)
        self._controller: _PortZeroController = _PortZeroController(
            self._handler,
            hostname=hostname,
            port=0,
            ssl_context=ssl_context,
            server_hostname="bestbot-test-smtp",
            **kwargs,
        )
        self._controller.protocols = []

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> SmtpSink:
        self._controller.start()
        self.port = self._controller.port
        return self

    def stop(self) -> None:
        self._controller.abort_connections()
        self._controller.stop()
        # asyncio's SSL transports in the stopped server loop can be left unclosed when a
        # client hangs up without close_notify (aiosmtpd's own start-up probe does); collect
        # them now, quietly, rather than let a ResourceWarning surface in some later test
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> SmtpSink:
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    @property
    def client_tls_context(self) -> ssl.SSLContext:
        """An SSL context that trusts this sink's self-signed certificate."""
        if self.cert_path is None:
            raise RuntimeError("the sink was started without TLS")
        return ssl.create_default_context(cafile=str(self.cert_path))

    # --- scripting failures ------------------------------------------------------------------

    def fail_next(
        self, count: int = 1, code: int = 451, text: str = "4.3.0 Try again later"
    ) -> None:
        """Answer DATA of the next ``count`` messages with ``code`` (4xx temporary, 5xx
        permanent); the messages are not stored."""
        with self._lock:
            self._fail_data.extend([(code, text)] * count)

    def reject_recipient(
        self, address: str, code: int = 550, text: str = "5.1.1 Mailbox unavailable"
    ) -> None:
        """Refuse ``RCPT TO`` for ``address`` (case-insensitive) from now on."""
        with self._lock:
            self._rejected[address.lower()] = (code, text)

    def clear_failures(self) -> None:
        with self._lock:
            self._fail_data.clear()
            self._rejected.clear()

    # --- assertions --------------------------------------------------------------------------

    def to(self, address: str) -> list[ReceivedMail]:
        """Messages whose envelope includes ``address``."""
        return [m for m in self.messages if address.lower() in (r.lower() for r in m.rcpt_tos)]

    @property
    def connections_used(self) -> int:
        """How many distinct SMTP sessions delivered the accepted messages."""
        return len({m.session_id for m in self.messages})

    async def wait_for_messages(self, n: int = 1, timeout: float = 5.0) -> list[ReceivedMail]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < n:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {n} mail(s); got {len(self.messages)}"
                )
            await asyncio.sleep(0.01)
        return list(self.messages)


class _Handler:
    """aiosmtpd's hooks (run in the controller thread); kept apart from :class:`SmtpSink`
    because aiosmtpd inspects every attribute of its handler."""

    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword) and self.sink.auth is not None:
            login = data.login.decode("utf-8", "replace")
            password = data.password.decode("utf-8", "replace")
            if (login, password) == self.sink.auth:
                return AuthResult(success=True, auth_data=login)
        self.sink.auth_failures += 1
        return AuthResult(success=False, handled=False)

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        with self.sink._lock:
            rejected = self.sink._rejected.get(address.lower())
        if rejected is not None:
            return f"{rejected[0]} {rejected[1]}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.sink._lock:
            failure = self.sink._fail_data.pop(0) if self.sink._fail_data else None
        if failure is not None:
            return f"{failure[0]} {failure[1]}"
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8")
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        login = session.auth_data if isinstance(session.auth_data, str) else None
        self.sink.messages.append(
            ReceivedMail(
                mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos),
                data=data,
                message=parsed,
                login=login,
                tls=session.ssl is not None or self.sink.implicit_tls,
                session_id=id(session),
            )
        )
        return "250 Message accepted for delivery"
