"""Email out: the one message builder and the SMTP sender, failures in the delivery vocabulary.

Why it looks like this:

* Every loop that sends needs to know *whether to retry*. Every failure is mapped to the
  vocabulary of :mod:`bot.delivery.errors`: :class:`RetryLater` (4xx replies, refused or
  dropped connections, timeouts, a refused login — an operator can fix that),
  :class:`RecipientGone` (a 5xx refusing the *recipient*: 550/551/553 or an enhanced
  status 5.1.x — the address does not exist, stop mailing it) or :class:`Undeliverable`
  (any other 5xx: this message will never be accepted).
* :func:`build_message` is the only place an outgoing email is put together (alerts,
  digests, enquiry messages, nudges, verification codes), so every mail carries the same
  headers: Date, Message-ID, Reply-To, auto-reply suppression, and the list headers when
  the mail is one of a list.
* Sending a batch reuses one connection. A server may close an idle or busy connection
  between messages; :meth:`EmailSender.send` then reconnects once and retries, so one dropped
  connection does not fail the rest of the batch.
* Every mail carries its bounce tag (``X-Bestbot-Tag``, :func:`bot.links.bounce_tag`), and
  its envelope sender (the VERP return path ``bounces+<tag>@domain`` when
  ``[email] bounce_address`` is set) rides in a private header that :class:`EmailSender`
  takes off before sending. DSNs and complaint reports quote one or the other, so
  :mod:`bot.delivery.feedback` knows which address a report is about.
* When a DKIM key is configured, :class:`EmailSender` signs the exact bytes it sends
  (:mod:`bot.delivery.dkim`), after the private header is gone.
* Headers never contain CR/LF (no header injection), and ``List-Unsubscribe`` is kept on one
  line: Python's default folding would turn a long URL into an RFC 2047 encoded word, which
  mail clients do not decode in that header, breaking one-click unsubscribe.
"""

from __future__ import annotations

import email.policy
import email.utils
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from types import TracebackType
from typing import Self

import aiosmtplib

from bot.delivery.dkim import DkimKey
from bot.delivery.errors import RecipientGone, RetryLater, SendError, Undeliverable
from bot.render.model import Attachment, RenderedEmail

__all__ = [
    "ENVELOPE_HEADER",
    "POLICY",
    "TAG_HEADER",
    "EmailSender",
    "ListHeaders",
    "SmtpSettings",
    "build_message",
]

log = logging.getLogger(__name__)

# SMTP line endings; headers may run to RFC 5322's hard limit of 998 characters instead of
# being folded (and possibly encoded) at 78.
POLICY = email.policy.SMTP.clone(max_line_length=998, cte_type="7bit")

#: The bounce tag of a mail, quoted back by DSNs (returned headers) and complaint reports.
TAG_HEADER = "X-Bestbot-Tag"
#: The envelope sender chosen for this mail; never sent (the sender takes it off).
ENVELOPE_HEADER = "X-Bestbot-Envelope-From"


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
    dkim: DkimKey | None = None


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


@dataclass(frozen=True, kw_only=True)
class ListHeaders:
    """The headers a mail to a list member carries (alerts, digests, nudges).

    Gmail, Yahoo and Microsoft want one-click unsubscribe (RFC 8058) on bulk mail:
    ``List-Unsubscribe`` with an https URL that accepts a POST, plus
    ``List-Unsubscribe-Post``. ``mailto`` may be a bare address or a ``mailto:`` URL; a
    missing ``?subject=unsubscribe`` is added.
    """

    unsubscribe_url: str
    unsubscribe_mailto: str
    list_id: str | None = None
    feedback_id: str | None = None


def build_message(
    rendered: RenderedEmail,
    *,
    to: str,
    from_address: str,
    message_id_domain: str,
    reply_to: str | None = None,
    in_reply_to: str | None = None,
    message_id: str | None = None,
    date: datetime | None = None,
    list_headers: ListHeaders | None = None,
    return_path: str | None = None,
    tag: str | None = None,
    default_subject: str = "SEEM contract alerts",
    attachments: Sequence[Attachment] = (),
) -> EmailMessage:
    """The one way bestbot builds an outgoing mail: plain + HTML, auto-reply suppression,
    threading, list headers and the bounce tag. ``message_id`` is kept when the caller
    chose it earlier (an enquiry message stores its id before sending, so replies can be
    matched); ``return_path`` is the envelope sender (VERP).

    ``attachments`` with a content id are shown inside the HTML (``multipart/related``,
    ``<img src="cid:…">``: a report's charts); the others are attached files (its CSV)."""
    msg = EmailMessage(policy=POLICY)
    msg["From"] = _header_value("From", from_address)
    msg["To"] = _header_value("To", to)
    if reply_to:
        msg["Reply-To"] = _header_value("Reply-To", reply_to)
    msg["Subject"] = _one_line(rendered.subject)[:200] or _one_line(default_subject)
    msg["Date"] = (
        email.utils.format_datetime(date, usegmt=True)
        if date
        else (email.utils.formatdate(localtime=False, usegmt=True))
    )
    domain = _header_value("message_id_domain", message_id_domain.strip()) or "localhost"
    msg["Message-ID"] = (
        _header_value("Message-ID", message_id.strip())
        if message_id
        else email.utils.make_msgid(idstring="bestbot", domain=domain)
    )
    if in_reply_to:
        reply = _header_value("In-Reply-To", _one_line(in_reply_to)[:300])
        msg["In-Reply-To"] = reply
        msg["References"] = reply
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    if list_headers is not None:
        _add_list_headers(msg, list_headers)
    if tag:
        msg[TAG_HEADER] = _header_value(TAG_HEADER, tag.strip())
    if return_path:
        msg[ENVELOPE_HEADER] = _header_value("return_path", return_path.strip())
    msg.set_content(rendered.text)
    if rendered.html:
        msg.add_alternative(rendered.html, subtype="html")
        _add_related(msg, [a for a in attachments if a.inline])
    for attachment in attachments:
        if not attachment.inline:
            maintype, _, subtype = attachment.content_type.partition("/")
            msg.add_attachment(
                attachment.data,
                maintype=maintype,
                subtype=subtype or "octet-stream",
                filename=_one_line(attachment.filename),
            )
    return msg


def _add_related(msg: EmailMessage, inline: Sequence[Attachment]) -> None:
    """Images the HTML part shows by ``cid:`` go beside it in a ``multipart/related``."""
    if not inline:
        return
    html_part = msg.get_body(preferencelist=("html",))
    assert isinstance(html_part, EmailMessage)
    for image in inline:
        maintype, _, subtype = image.content_type.partition("/")
        html_part.add_related(
            image.data,
            maintype=maintype,
            subtype=subtype,
            cid=f"<{_header_value('content_id', image.content_id or '')}>",
            filename=_one_line(image.filename),
            disposition="inline",
        )


def _add_list_headers(msg: EmailMessage, headers: ListHeaders) -> None:
    url = _header_value("unsubscribe_url", headers.unsubscribe_url.strip())
    mailto = _header_value("unsubscribe_mailto", _mailto(headers.unsubscribe_mailto))
    msg["List-Unsubscribe"] = f"<{url}>, <{mailto}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    if headers.list_id:
        msg["List-Id"] = _header_value("List-Id", _one_line(headers.list_id))
    if headers.feedback_id:
        msg["Feedback-ID"] = _header_value("Feedback-ID", _one_line(headers.feedback_id))


def _envelope(message: EmailMessage, default_sender: str) -> tuple[str, list[str]]:
    """MAIL FROM (the chosen return path, else the From address) and RCPT TO; the private
    return-path header is taken off the message."""
    chosen = message.get(ENVELOPE_HEADER)
    if chosen is not None:
        del message[ENVELOPE_HEADER]
    sender = email.utils.parseaddr(str(chosen or default_sender))[1] or default_sender
    fields = [str(v) for name in ("To", "Cc", "Bcc") for v in message.get_all(name, [])]
    recipients = [addr for _name, addr in email.utils.getaddresses(fields) if addr]
    if not recipients:
        raise Undeliverable("the message has no recipient")
    return sender, recipients


#: Replies that say the *recipient* does not exist or will never accept mail (RFC 5321 and
#: the enhanced status codes of RFC 3463: 5.1.x is an addressing problem, 5.2.1 a disabled
#: mailbox). Other 5xx replies refuse this message, not the address.
_GONE_CODES = frozenset({550, 551, 553})
_GONE_STATUS = re.compile(r"\b5\.(1\.\d{1,3}|2\.1)\b")


def _reply_error(code: int, text: str, what: str, *, recipient: bool = False) -> SendError:
    detail = f"{what}: {code} {_one_line(text)[:300]}".strip()
    if 400 <= code < 500:
        return RetryLater(detail)
    if recipient and (code in _GONE_CODES or _GONE_STATUS.search(text or "")):
        return RecipientGone(detail)
    return Undeliverable(detail)


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
            raise RetryLater(
                f"SMTP login as {s.username!r} refused: {exc.code} {_one_line(exc.message)}"
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            await self._quietly_close(smtp)
            raise RetryLater(
                f"SMTP server {s.host}:{s.port} refused the session: "
                f"{exc.code} {_one_line(exc.message)[:300]}"
            ) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self._quietly_close(smtp)
            raise RetryLater(
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
        """Send one message; return its Message-ID. Raises :class:`SendError` subclasses."""
        if message["Message-ID"] is None:
            domain = email.utils.parseaddr(self._settings.from_address)[1].rpartition("@")[2]
            message["Message-ID"] = email.utils.make_msgid(domain=domain or "localhost")
        message_id = str(message["Message-ID"])
        sender, recipients = _envelope(message, self._settings.from_address)
        data = message.as_bytes(policy=POLICY)
        if self._settings.dkim is not None:
            data = self._settings.dkim.sign(data)
        for attempt in (1, 2):
            smtp = self._smtp
            if smtp is None or not smtp.is_connected:
                smtp = await self._connect()
            try:
                errors, _reply = await smtp.sendmail(sender, recipients, data)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                worst = max(exc.recipients, key=lambda r: r.code)
                raise _reply_error(
                    worst.code, worst.message, "recipient refused", recipient=True
                ) from None
            except aiosmtplib.SMTPSenderRefused as exc:
                raise _reply_error(exc.code, exc.message, "sender refused") from None
            except aiosmtplib.SMTPDataError as exc:
                raise _reply_error(exc.code, exc.message, "message refused") from None
            except (aiosmtplib.SMTPServerDisconnected, ConnectionError) as exc:
                # The server dropped the connection (idle timeout, restart): reconnect once.
                await self._drop()
                if attempt == 2:
                    raise RetryLater(f"SMTP connection lost: {exc}") from None
                log.info("smtp connection lost, reconnecting", extra={"attempt": attempt})
                continue
            except aiosmtplib.SMTPResponseException as exc:
                await self._drop()
                raise _reply_error(exc.code, exc.message, "SMTP error") from None
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                await self._drop()
                raise RetryLater(
                    f"SMTP send failed: {type(exc).__name__}: {_one_line(str(exc))[:300]}"
                ) from None
            except ValueError as exc:  # an address aiosmtplib cannot put in an envelope
                raise Undeliverable(f"bad address: {exc}") from None
            refused = list(errors.items())
            if refused:  # some (not all) recipients refused
                addr, resp = max(refused, key=lambda item: item[1].code)
                raise _reply_error(
                    resp.code, resp.message, f"recipient {addr} refused", recipient=True
                )
            return message_id
        raise AssertionError("unreachable")  # pragma: no cover

    async def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()
