"""Email intake: read the enquiries mailbox over IMAP and hand each mail to the workflow.

How a mail is remembered as done: an IMAP keyword on the message itself,
``$BestbotDone`` (plus ``\\Seen``), set **only after** the receiver returned.
That choice keeps the mailbox the single source of truth, with no table of
UIDs to keep in step with ``UIDVALIDITY`` and nothing lost if the database is
restored. A crash between ``receive`` and the flag re-reads that one mail on
the next poll, which is harmless because ``receive`` is idempotent by
Message-ID (mail without one gets a stable id derived from its bytes). A
keyword rather than ``\\Seen`` alone means a person reading the mailbox in a
mail client before the bot gets to it doesn't hide an enquiry. Servers that
don't allow custom keywords (no ``\\*`` in ``PERMANENTFLAGS``, e.g. some
Exchange set-ups) fall back to ``UNSEEN`` / ``\\Seen``.

Mail is handled oldest first; if ``receive`` fails, the poll stops there and
that mail and every later one stay unflagged for the next poll, so a reply
is never stored before the message it answers. The failed mail gets
``$BestbotFailed`` (servers with keywords only); if it fails again on a
later poll, that poll steps past it to the next mail, so one mail the
workflow can't digest doesn't block intake forever (it stays unflagged and
is retried every poll), while a general outage (the next mail fails too)
still stops the poll with nothing reordered.

Delivery status notifications and complaint reports about our own mail go to the
:class:`ReportReader` first (:mod:`bot.delivery.bounces`: suppress the address, tell
admins), before enquiry intake ever sees them; they are flagged done like any other mail
(also ``$BestbotReport``).

Mail that must not open an enquiry (auto-replies, bounces, list mail, our own; see
:mod:`bot.enquiries.mail_parse`) is flagged too (also ``$BestbotIgnored``),
so it isn't read again and again.

``imaplib`` is blocking, so every IMAP round trip runs in a worker thread
(:func:`asyncio.to_thread`); ``receive`` runs on the event loop in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
import re
import ssl
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.config import InboundEmailConfig
from bot.enquiries.mail_parse import Ignored, ParsedMail, parse_mail
from bot.enquiries.model import IncomingMessage, Received

__all__ = [
    "DONE_KEYWORD",
    "FAILED_KEYWORD",
    "IGNORED_KEYWORD",
    "IncomingMessage",
    "Mailbox",
    "MailboxError",
    "MailboxReport",
    "Received",
    "Receiver",
    "ReportReader",
    "mailbox_job",
    "poll_mailbox",
    "schedule_mailbox",
    "to_incoming",
]

log = logging.getLogger(__name__)

DONE_KEYWORD = "$BestbotDone"
IGNORED_KEYWORD = "$BestbotIgnored"
FAILED_KEYWORD = "$BestbotFailed"
REPORT_KEYWORD = "$BestbotReport"
#: Most messages handled in one poll (the rest wait for the next one).
DEFAULT_BATCH = 50
#: Mail older than this is never picked up (so connecting an old mailbox doesn't
#: turn years of correspondence into enquiries).
DEFAULT_LOOKBACK = timedelta(days=30)
#: Only this much of each message is downloaded; the text is near the start.
FETCH_BYTES = 2_000_000
DEFAULT_TIMEOUT = 30.0

_FLAGS = re.compile(rb"FLAGS \(([^)]*)\)")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Receiver(Protocol):
    """Whoever stores incoming messages; ``EnquiryService`` in production."""

    async def receive(self, msg: IncomingMessage) -> Received: ...


class ReportReader(Protocol):
    """Whoever reads bounces and complaint reports; ``BounceDesk`` in production. Returns
    None for a mail that is not a report (it goes on to enquiry intake)."""

    async def handle(self, raw: bytes) -> object | None: ...


class MailboxError(Exception):
    """The IMAP server refused something (login, select, search, store)."""


@dataclass
class MailboxReport:
    """What one poll did. ``problem`` holds the first error, without secrets."""

    host: str = ""
    fetched: int = 0
    new: int = 0
    joined: int = 0
    ignored: int = 0
    reports: int = 0
    errors: int = 0
    left: int = 0
    problem: str | None = None
    ignored_reasons: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One log line: ``mailbox imap.example.org: 3 fetched, 1 new, ...``."""
        text = (
            f"mailbox {self.host}: {self.fetched} fetched, {self.new} new, "
            f"{self.joined} joined, {self.ignored} ignored, {self.reports} reports, "
            f"{self.errors} errors"
        )
        if self.left:
            text += f", {self.left} left for next poll"
        if self.problem:
            text += f" ({self.problem})"
        return text


def to_incoming(mail: ParsedMail) -> IncomingMessage:
    """The workflow's message for a parsed mail; an empty body falls back to the subject."""
    return IncomingMessage(
        channel="email",
        text=mail.text or mail.subject or "",
        subject=mail.subject,
        sender_email=mail.sender_email,
        sender_name=mail.sender_name,
        message_id=mail.message_id,
        in_reply_to=mail.in_reply_to,
        references=mail.references,
        authenticated=mail.authenticated,
    )


def _quote(name: str) -> str:
    """An IMAP quoted string (imaplib sends arguments as they are)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _imap_date(when: datetime) -> str:
    """``26-Nov-2025``: IMAP's date, month names in English whatever the locale."""
    return f"{when.day:02d}-{_MONTHS[when.month - 1]}-{when.year}"


def _describe(exc: BaseException) -> str:
    """A short, secret-free description of a connection or protocol error."""
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Mailbox:
    """A blocking IMAP session on the enquiries folder. Call from a worker thread.

    ``connect`` → ``pending`` → (``fetch`` → ``mark_done``)* → ``close``.
    """

    def __init__(
        self,
        config: InboundEmailConfig,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        lookback: timedelta | None = DEFAULT_LOOKBACK,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.timeout = timeout
        self.lookback = lookback
        self.ssl_context = ssl_context
        self.clock = clock
        self.imap: imaplib.IMAP4 | None = None
        #: True when the server takes our keyword; else ``\\Seen`` marks done.
        self.keywords = False

    # -- session

    def connect(self) -> None:
        """Open, log in and select the folder (read-write)."""
        cfg = self.config
        if not cfg.username or cfg.password is None:
            raise MailboxError("no username/password configured for [email.inbound]")
        if cfg.ssl:
            context = self.ssl_context or ssl.create_default_context()
            imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                cfg.host, cfg.port, ssl_context=context, timeout=self.timeout
            )
        else:
            imap = imaplib.IMAP4(cfg.host, cfg.port, timeout=self.timeout)
        self.imap = imap
        try:
            imap.login(cfg.username, cfg.password)
        except imaplib.IMAP4.error as exc:
            raise MailboxError(f"login refused for {cfg.username}: {_describe(exc)}") from None
        status, data = imap.select(_quote(cfg.folder))
        if status != "OK":
            raise MailboxError(f"cannot open folder {cfg.folder!r}: {_first(data)}")
        _, flags = imap.response("PERMANENTFLAGS")
        self.keywords = any(isinstance(f, bytes) and b"\\*" in f for f in flags)

    def close(self) -> None:
        """Log out, ignoring errors (the connection may already be gone)."""
        imap, self.imap = self.imap, None
        if imap is None:
            return
        try:
            imap.logout()
        except Exception as exc:  # closing a broken session is best effort
            log.debug("IMAP logout failed: %s", _describe(exc))
            with contextlib.suppress(Exception):
                imap.shutdown()

    def _session(self) -> imaplib.IMAP4:
        if self.imap is None:
            raise MailboxError("not connected")
        return self.imap

    # -- messages

    def pending(self) -> list[int]:
        """UIDs of mail not yet handled, oldest first."""
        criteria = [f"UNKEYWORD {DONE_KEYWORD}" if self.keywords else "UNSEEN", "UNDELETED"]
        if self.lookback is not None:
            criteria.append(f"SINCE {_imap_date(self.clock() - self.lookback)}")
        status, data = self._session().uid("SEARCH", *criteria)
        if status != "OK":
            raise MailboxError(f"search failed: {_first(data)}")
        uids: list[int] = []
        for chunk in data:
            if isinstance(chunk, bytes):
                uids.extend(int(token) for token in chunk.split() if token.isdigit())
        return sorted(uids)

    def fetch(self, uid: int) -> tuple[bytes, frozenset[str]] | None:
        """The message's bytes (at most :data:`FETCH_BYTES`) and flags, leaving ``\\Seen`` alone.

        None if it has gone (deleted by someone else since the search).
        """
        status, data = self._session().uid(
            "FETCH", str(uid), f"(FLAGS BODY.PEEK[]<0.{FETCH_BYTES}>)"
        )
        if status != "OK":
            raise MailboxError(f"fetch {uid} failed: {_first(data)}")
        raw = b""
        flags: set[str] = set()
        for item in data:
            meta = item[0] if isinstance(item, tuple) else item
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                raw += item[1]
            if isinstance(meta, bytes):
                for found in _FLAGS.findall(meta):
                    flags.update(found.decode("ascii", "replace").split())
        return (raw, frozenset(flags)) if raw else None

    def mark_failed(self, uid: int) -> None:
        """Note on the message that storing it failed once (see :func:`poll_mailbox`)."""
        if not self.keywords:
            return
        status, data = self._session().uid("STORE", str(uid), "+FLAGS.SILENT", FAILED_KEYWORD)
        if status != "OK":
            raise MailboxError(f"cannot flag {uid}: {_first(data)}")

    def mark_done(self, uid: int, *, ignored: bool = False, report: bool = False) -> None:
        """Flag the message handled, so no later poll reads it again."""
        flags = ["\\Seen"]
        if self.keywords:
            flags.append(DONE_KEYWORD)
            if ignored:
                flags.append(IGNORED_KEYWORD)
            if report:
                flags.append(REPORT_KEYWORD)
        status, data = self._session().uid(
            "STORE", str(uid), "+FLAGS.SILENT", f"({' '.join(flags)})"
        )
        if status != "OK":
            raise MailboxError(f"cannot flag {uid}: {_first(data)}")


def _first(data: list[Any]) -> str:
    for item in data:
        if isinstance(item, bytes):
            return item.decode("utf-8", "replace")[:200]
    return "no reason given"


# --------------------------------------------------------------------------- polling

_CONNECTION_ERRORS = (imaplib.IMAP4.error, MailboxError, OSError, EOFError)


async def poll_mailbox(
    config: InboundEmailConfig,
    receiver: Receiver,
    *,
    own_addresses: Iterable[str | None] = (),
    batch: int = DEFAULT_BATCH,
    lookback: timedelta | None = DEFAULT_LOOKBACK,
    io_timeout: float = DEFAULT_TIMEOUT,
    ssl_context: ssl.SSLContext | None = None,
    reports: ReportReader | None = None,
) -> MailboxReport:
    """Read new mail once and pass each to ``receiver``; never raises (except cancellation).

    ``own_addresses``: the addresses bestbot sends from; mail from them (and
    from ``config.address``) is ignored. ``io_timeout`` bounds each socket
    operation (seconds), so a hung server can't stall the job forever.
    Connection and server problems are logged and returned in the report's
    ``errors`` / ``problem``. ``reports`` reads each mail first: a delivery or complaint
    report is handled there and never reaches ``receiver``.
    """
    report = MailboxReport(host=config.host)
    own = {a for a in (*own_addresses, config.address) if a}
    box = Mailbox(config, timeout=io_timeout, lookback=lookback, ssl_context=ssl_context)
    try:
        await asyncio.to_thread(box.connect)
        uids = await asyncio.to_thread(box.pending)
        report.left = max(0, len(uids) - batch)
        await _handle(box, uids[:batch], receiver, own, report, reports, config.authserv_id)
    except _CONNECTION_ERRORS as exc:
        report.errors += 1
        report.problem = report.problem or _describe(exc)
        log.warning("mailbox %s:%s: %s", config.host, config.port, report.problem)
    except Exception as exc:
        report.errors += 1
        report.problem = report.problem or _describe(exc)
        log.exception("mailbox %s: unexpected error", config.host)
    finally:
        await asyncio.to_thread(box.close)
    return report


async def _handle(
    box: Mailbox,
    uids: list[int],
    receiver: Receiver,
    own: set[str],
    report: MailboxReport,
    reports: ReportReader | None = None,
    authserv_id: str | None = None,
) -> None:
    for index, uid in enumerate(uids):
        fetched = await asyncio.to_thread(box.fetch, uid)
        if fetched is None:
            continue
        raw, flags = fetched
        report.fetched += 1
        if reports is not None:
            try:
                handled = await reports.handle(raw)
            except Exception as exc:
                # Like a failed receive: this mail and every later one wait for the next
                # poll (a report must not be lost to a database outage).
                report.errors += 1
                report.problem = report.problem or f"report failed for uid {uid}: {_describe(exc)}"
                report.left += len(uids) - index
                log.exception("mail uid %s: reading it as a delivery report failed", uid)
                return
            if handled is not None:
                await asyncio.to_thread(box.mark_done, uid, report=True)
                report.reports += 1
                continue
        parsed = parse_mail(raw, own, authserv_id)
        if isinstance(parsed, Ignored):
            log.info("mail uid %s ignored: %s (message %s)", uid, parsed.reason, parsed.message_id)
            report.ignored_reasons.append(parsed.reason)
            await asyncio.to_thread(box.mark_done, uid, ignored=True)
            report.ignored += 1
            continue
        try:
            received = await receiver.receive(to_incoming(parsed))
        except Exception as exc:
            report.errors += 1
            report.problem = report.problem or f"receive failed for uid {uid}: {_describe(exc)}"
            if FAILED_KEYWORD in flags:
                # Failed on an earlier poll too: perhaps this mail is the problem, so step
                # past it (it stays unflagged and is retried every poll). If the next mail
                # fails as well, the trouble is general and we stop below, order intact.
                report.left += 1
                log.exception("mail uid %s (%s) failed again; skipped", uid, parsed.message_id)
                continue
            # Stop here: this mail and every later one are read again next poll, in order.
            report.left += len(uids) - index
            log.exception("mail uid %s (%s) not stored; retried next poll", uid, parsed.message_id)
            await asyncio.to_thread(box.mark_failed, uid)
            return
        await asyncio.to_thread(box.mark_done, uid)
        if received.created:
            report.new += 1
        else:
            report.joined += 1
        log.info(
            "mail uid %s -> %s (%s)",
            uid,
            received.reference,
            "new" if received.created else "joined",
        )


async def mailbox_job(
    config: InboundEmailConfig,
    receiver: Receiver,
    own_addresses: Iterable[str | None] = (),
    reports: ReportReader | None = None,
) -> MailboxReport:
    """The scheduler's job: one poll, logged; never raises."""
    report = await poll_mailbox(
        config, receiver, own_addresses=tuple(own_addresses), reports=reports
    )
    level = logging.WARNING if report.errors else logging.INFO
    log.log(level, "%s", report.line())
    return report


def schedule_mailbox(
    scheduler: Any,
    receiver: Receiver,
    config: InboundEmailConfig,
    own_addresses: Iterable[str | None] = (),
    reports: ReportReader | None = None,
) -> Any:
    """Add the "poll mailbox" interval job (every ``config.every``, first run now).

    ``max_instances=1`` so two polls never overlap in one process; across
    processes, a mail read twice is harmless (``receive`` is idempotent).
    Returns the APScheduler job.
    """
    job: Callable[..., Awaitable[MailboxReport]] = mailbox_job
    return scheduler.add_job(
        job,
        "interval",
        args=[config, receiver, tuple(own_addresses), reports],
        seconds=max(30.0, config.every.total_seconds()),
        id="poll mailbox",
        name="poll mailbox",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
    )
