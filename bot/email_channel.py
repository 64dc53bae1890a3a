"""Email out: build RFC-friendly alert messages and send them over one SMTP connection.

Why it looks like this:

* The dispatcher needs to know *whether to retry*. Every failure is mapped to
  :class:`EmailTemporaryError` (4xx replies, refused/dropped connections, timeouts: try again
  later) or :class:`EmailPermanentError` (5xx: this message or recipient will never be
  accepted, so mark the delivery failed).
* Sending a batch reuses one connection. A server may close an idle or busy connection
  between messages; :meth:`EmailSender.send` then reconnects once and retries, so one dropped
  connection does not fail the rest of the batch.
* Headers never contain CR/LF (no header injection), and ``List-Unsubscribe`` is kept on one
  line: Python's default folding would turn a long URL into an RFC 2047 encoded word, which
  mail clients do not decode in that header, breaking one-click unsubscribe.
"""

from __future__ import annotations

import email.policy
import email.utils
import logging
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from types import TracebackType
from typing import Self

import aiosmtplib

from bot.render import RenderedEmail

__all__ = [
    "POLICY",
    "EmailError",
    "EmailPermanentError",
    "EmailSender",
    "EmailTemporaryError",
    "SmtpSettings",
    "build_message",
]

log = logging.getLogger(__name__)

# SMTP line endings; headers may run to RFC 5322's hard limit of 998 characters instead of
# being folded (and possibly encoded) at 78.
POLICY = email.policy.SMTP.clone(max_line_length=998, cte_type="7bit")


class EmailError(Exception):
    """Sending failed; ``str(err)`` says why, without credentials."""


class EmailTemporaryError(EmailError):
    """Try again later: a 4xx reply, a refused or dropped connection, a timeout."""


class EmailPermanentError(EmailError):
    """Do not retry: the server refused this message or recipient with a 5xx reply."""


@dataclass(frozen=True, kw_only=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None = field(repr=False)
    starttls: bool
    tls: bool
    timeout: float = 30
    from_address: str
    validate_certs: bool = True
    cert_bundle: str | None = None  # a CA file, for a server with a private CA


_HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


def _header_value(name: str, value: str) -> str:
    """Refuse CR/LF and control characters in an address-like header value."""
    if _HEADER_UNSAFE.search(value):
        raise ValueError(f"{name} contains a control character")
    return value


def _one_line(value: str) -> str:
    return " ".join(_HEADER_UNSAFE.sub(" ", value).split())


def _mailto(unsubscribe_mailto: str) -> str:
    target = unsubscribe_mailto.strip()
    if not target.lower().startswith("mailto:"):
        target = f"mailto:{target}"
    if "?" not in target:
        target += "?subject=unsubscribe"
    return target


def build_message(
    rendered: RenderedEmail,
    *,
    to: str,
    from_address: str,
    unsubscribe_url: str,
    unsubscribe_mailto: str,
    message_id_domain: str,
    in_reply_to: str | None = None,
) -> EmailMessage:
    """A multipart/alternative message (plain + HTML) with list and auto-reply headers.

    ``unsubscribe_mailto`` may be a bare address or a ``mailto:`` URL; a missing
    ``?subject=unsubscribe`` is added.
    """
    msg = EmailMessage(policy=POLICY)
    msg["From"] = _header_value("From", from_address)
    msg["To"] = _header_value("To", to)
    msg["Subject"] = _one_line(rendered.subject)[:200] or "BEST Procurement alert"
    msg["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    domain = _header_value("message_id_domain", message_id_domain.strip()) or "localhost"
    msg["Message-ID"] = email.utils.make_msgid(idstring="bestbot", domain=domain)
    if in_reply_to:
        reply = _header_value("In-Reply-To", in_reply_to.strip())
        msg["In-Reply-To"] = reply
        msg["References"] = reply
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    url = _header_value("unsubscribe_url", unsubscribe_url.strip())
    mailto = _header_value("unsubscribe_mailto", _mailto(unsubscribe_mailto))
    msg["List-Unsubscribe"] = f"<{url}>, <{mailto}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    return msg


def _envelope(message: EmailMessage, default_sender: str) -> tuple[str, list[str]]:
    sender = email.utils.parseaddr(default_sender)[1] or default_sender
    fields = [str(v) for name in ("To", "Cc", "Bcc") for v in message.get_all(name, [])]
    recipients = [addr for _name, addr in email.utils.getaddresses(fields) if addr]
    if not recipients:
        raise EmailPermanentError("the message has no recipient")
    return sender, recipients


def _reply_error(code: int, text: str, what: str) -> EmailError:
    detail = f"{what}: {code} {_one_line(text)[:300]}".strip()
    if 400 <= code < 500:
        return EmailTemporaryError(detail)
    return EmailPermanentError(detail)


class EmailSender:
    """One SMTP connection for a batch of messages::

    async with EmailSender(settings) as sender:
        for message in batch:
            await sender.send(message)

    ``send`` also connects on first use, so the sender works without ``async with``; then
    call :meth:`close` when done.
    """

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings
        self._smtp: aiosmtplib.SMTP | None = None

    async def __aenter__(self) -> Self:
        await self._connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self._settings
        smtp = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            timeout=s.timeout,
            use_tls=s.tls,
            start_tls=False if s.tls else s.starttls,
            validate_certs=s.validate_certs,
            cert_bundle=s.cert_bundle,
        )
        try:
            await smtp.connect()
            if s.username:
                await smtp.login(s.username, s.password or "")
        except aiosmtplib.SMTPAuthenticationError as exc:
            # A configuration problem, not this message's: temporary, so that the outbox
            # retries once the operator has fixed the password instead of failing every row.
            await self._quietly_close(smtp)
            raise EmailTemporaryError(
                f"SMTP login as {s.username!r} refused: {exc.code} {_one_line(exc.message)}"
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            await self._quietly_close(smtp)
            raise EmailTemporaryError(
                f"SMTP server {s.host}:{s.port} refused the session: "
                f"{exc.code} {_one_line(exc.message)[:300]}"
            ) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self._quietly_close(smtp)
            raise EmailTemporaryError(
                f"cannot connect to SMTP server {s.host}:{s.port}: {type(exc).__name__}: "
                f"{_one_line(str(exc))[:300]}"
            ) from None
        self._smtp = smtp
        return smtp

    @staticmethod
    async def _quietly_close(smtp: aiosmtplib.SMTP) -> None:
        try:
            if smtp.is_connected:
                await smtp.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            smtp.close()

    async def close(self) -> None:
        """Say QUIT and close the connection, if any; never raises."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            await self._quietly_close(smtp)

    async def send(self, message: EmailMessage) -> str:
        """Send one message; return its Message-ID. Raises :class:`EmailError` subclasses."""
        if message["Message-ID"] is None:
            domain = email.utils.parseaddr(self._settings.from_address)[1].rpartition("@")[2]
            message["Message-ID"] = email.utils.make_msgid(domain=domain or "localhost")
        message_id = str(message["Message-ID"])
        sender, recipients = _envelope(message, self._settings.from_address)
        data = message.as_bytes(policy=POLICY)
        for attempt in (1, 2):
            smtp = self._smtp
            if smtp is None or not smtp.is_connected:
                smtp = await self._connect()
            try:
                errors, _reply = await smtp.sendmail(sender, recipients, data)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                worst = max(exc.recipients, key=lambda r: r.code)
                raise _reply_error(worst.code, worst.message, "recipient refused") from None
            except aiosmtplib.SMTPSenderRefused as exc:
                raise _reply_error(exc.code, exc.message, "sender refused") from None
            except aiosmtplib.SMTPDataError as exc:
                raise _reply_error(exc.code, exc.message, "message refused") from None
            except (aiosmtplib.SMTPServerDisconnected, ConnectionError) as exc:
                # The server dropped the connection (idle timeout, restart): reconnect once.
                await self._drop()
                if attempt == 2:
                    raise EmailTemporaryError(f"SMTP connection lost: {exc}") from None
                log.info("smtp connection lost, reconnecting", extra={"attempt": attempt})
                continue
            except aiosmtplib.SMTPResponseException as exc:
                await self._drop()
                raise _reply_error(exc.code, exc.message, "SMTP error") from None
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                await self._drop()
                raise EmailTemporaryError(
                    f"SMTP send failed: {type(exc).__name__}: {_one_line(str(exc))[:300]}"
                ) from None
            except ValueError as exc:  # an address aiosmtplib cannot put in an envelope
                raise EmailPermanentError(f"bad address: {exc}") from None
            refused = list(errors.items())
            if refused:  # some (not all) recipients refused
                addr, resp = max(refused, key=lambda item: item[1].code)
                raise _reply_error(resp.code, resp.message, f"recipient {addr} refused")
            return message_id
        raise AssertionError("unreachable")  # pragma: no cover

    async def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()
