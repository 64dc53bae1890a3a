"""Reading delivery status notifications (RFC 3464) and complaint reports (ARF, RFC 5965).

Pure and defensive, like :mod:`bot.enquiries.mail_parse`: :func:`parse_report` takes the
bytes the mailbox returned and never raises. A mail that is not a report is None (it goes
on to enquiry intake); a report comes back with, per recipient, what happened and why, and
every bounce tag found in it (:func:`bot.links.bounce_tag`) — in the address the report was
sent to (VERP, ``bounces+<tag>@…``), in the returned message's ``X-Bestbot-Tag`` or its
``Return-Path``, or in the ARF ``Original-Mail-From``. The tags are what make a report
trustworthy: the handler (:mod:`bot.delivery.bounces`) acts only on an address whose tag's
MAC matches it, so a forged "bounce" cannot unsubscribe somebody else.

How a report is classified, in the terms of RFC 3463's status codes:

* **hard**: ``Action: failed`` with a permanent status (5.x.x) about the address —
  5.1.x (no such mailbox or domain), 5.2.1 (mailbox disabled), 5.0.0 and the rest of 5.x.x
  except those below. The address will never accept mail.
* **soft**: ``Action: failed`` with a temporary status (4.x.x), or a permanent one that is
  not about the address: 5.2.2 (mailbox full), 5.3.4 (message too big), 5.7.x (refused by
  policy: often a spam filter, not a dead address). Counted, then suppressed after several.
* **delayed**: ``Action: delayed`` (the sender's server is still trying): recorded, never
  counted.
* ``delivered``, ``relayed``, ``expanded`` are success reports and are left out.
* A non-standard bounce (no ``message/delivery-status`` part, e.g. qmail's "failure
  notice") that still carries one of our tags counts as soft: the tag says it is about our
  mail, but not reliably why.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesParser, HeaderParser

from bot.links import read_bounce_tag

__all__ = ["ComplaintReport", "DeliveryReport", "RecipientStatus", "parse_report"]

log = logging.getLogger(__name__)

MAX_BYTES = 2_000_000
_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"]{1,64}@[A-Za-z0-9.-]{1,253}")
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SOFT_PERMANENT = re.compile(r"5\.(2\.2|3\.4|7\.\d{1,3})")
_TAG_HEADERS = ("To", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To")
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (status notification|failure|has failed)|returned mail"
    r"|failure notice|mail delivery failed|could not be delivered|delivery problem",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RecipientStatus:
    """One recipient of a DSN: the address, and what the reporting server says."""

    address: str  # lower-cased
    action: str  # "failed" | "delayed" | "delivered" | "relayed" | "expanded" | ""
    status: str  # "5.1.1", or "" when none was given
    diagnostic: str
    kind: str  # "hard" | "soft" | "delayed" | "ok"


@dataclass(frozen=True)
class DeliveryReport:
    """A bounce or delay (RFC 3464), or a non-standard bounce with one of our tags."""

    report_id: str
    recipients: tuple[RecipientStatus, ...]
    tags: tuple[str, ...]
    standard: bool = True


@dataclass(frozen=True)
class ComplaintReport:
    """A feedback-loop report (ARF): the recipient marked our mail as spam."""

    report_id: str
    feedback_type: str  # "abuse", "fraud", "not-spam", ...
    recipients: tuple[str, ...]  # Original-Rcpt-To, when the provider did not redact it
    tags: tuple[str, ...]


Report = DeliveryReport | ComplaintReport


def parse_report(raw: bytes, report_id: str | None = None) -> Report | None:
    """The report in ``raw``, or None when it is not one; never raises."""
    try:
        return _parse(bytes(raw[:MAX_BYTES]), report_id)
    except Exception as exc:  # one broken report must not stop intake
        log.warning("unreadable delivery report ignored: %s", type(exc).__name__)
        return None


def _parse(raw: bytes, report_id: str | None) -> Report | None:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    rid = (
        report_id
        or _text(msg, "Message-ID")
        or f"<{hashlib.sha256(raw).hexdigest()[:32]}@report.invalid>"
    )
    rid = " ".join(rid.split())[:300]
    report_type = ""
    if msg.get_content_type() == "multipart/report":
        report_type = str(msg.get_param("report-type") or "").lower()
    tags = _tags(msg)
    if report_type == "feedback-report" or _part(msg, "message/feedback-report") is not None:
        return _complaint(msg, rid, tags)
    status = _part(msg, "message/delivery-status")
    if status is not None:
        return DeliveryReport(rid, _recipients(status), tags)
    if tags and _looks_like_bounce(msg):
        failed = _failed_recipients(msg)
        return DeliveryReport(rid, failed, tags, standard=False)
    return None


def _text(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def _part(msg: Message, content_type: str) -> Message | None:
    for part in msg.walk():
        if part.get_content_type() == content_type:
            return part
    return None


def _fields(part: Message) -> list[Message]:
    """The header blocks of a ``message/delivery-status`` or ``feedback-report`` part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [p for p in payload if isinstance(p, Message)]
    text = payload if isinstance(payload, str) else ""
    blocks = re.split(r"\r?\n\r?\n", text.strip())
    return [HeaderParser(policy=policy.default).parsestr(block) for block in blocks if block]


def _address(value: str) -> str:
    """``rfc822; Jane@Example.org`` -> ``jane@example.org``; "" when there is none."""
    text = value.split(";", 1)[1] if ";" in value else value
    found = _ADDRESS.search(text.strip().strip("<>"))
    return found.group(0).lower() if found else ""


def _kind(action: str, status: str) -> str:
    if action in ("delivered", "relayed", "expanded"):
        return "ok"
    if action == "delayed":
        return "delayed"
    if status.startswith("5.") and not _SOFT_PERMANENT.fullmatch(status):
        return "hard"
    return "soft"


def _recipients(part: Message) -> tuple[RecipientStatus, ...]:
    out: list[RecipientStatus] = []
    for block in _fields(part)[1:] or _fields(part):
        final = _text(block, "Final-Recipient") or _text(block, "Original-Recipient")
        address = _address(final)
        if not address:
            continue
        action = _text(block, "Action").lower()
        found = _STATUS.search(_text(block, "Status"))
        status = found.group(0) if found else ""
        out.append(
            RecipientStatus(
                address=address,
                action=action,
                status=status,
                diagnostic=_text(block, "Diagnostic-Code")[:500],
                kind=_kind(action, status),
            )
        )
    return tuple(out)


def _complaint(msg: Message, rid: str, tags: tuple[str, ...]) -> ComplaintReport:
    part = _part(msg, "message/feedback-report")
    fields = _fields(part) if part is not None else []
    block = fields[0] if fields else None
    kind = _text(block, "Feedback-Type").lower() if block is not None else ""
    recipients: list[str] = []
    if block is not None:
        for value in block.get_all("Original-Rcpt-To") or []:
            address = _address(str(value))
            if address and address not in recipients:
                recipients.append(address)
    return ComplaintReport(rid, kind or "abuse", tuple(recipients), tags)


def _returned_headers(msg: Message) -> list[Message]:
    """The headers of the message a report returns (``text/rfc822-headers`` or
    ``message/rfc822``)."""
    found: list[Message] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
            found.append(HeaderParser(policy=policy.default).parsestr(text))
        elif ctype == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list):
                found.extend(p for p in inner if isinstance(p, Message))
    return found


def _tags(msg: Message) -> tuple[str, ...]:
    """Every candidate bounce tag in the report, most direct first (deduplicated)."""
    candidates: list[str] = []
    for name in _TAG_HEADERS:
        try:
            values = msg.get_all(name) or []
        except Exception:
            values = []
        candidates.extend(str(v) for v in values)
    feedback = _part(msg, "message/feedback-report")
    for block in _fields(feedback) if feedback is not None else []:
        candidates.append(_text(block, "Original-Mail-From"))
    status = _part(msg, "message/delivery-status")
    for block in _fields(status)[:1] if status is not None else []:
        candidates.append(_text(block, "X-Postfix-Sender"))
    for headers in _returned_headers(msg):
        candidates.append(_text(headers, "X-Bestbot-Tag"))
        candidates.append(_text(headers, "Return-Path"))
    tags: list[str] = []
    for candidate in candidates:
        for piece in re.split(r"[,\s]+", candidate):
            tag = _tag_of(piece)
            if tag and tag not in tags:
                tags.append(tag)
    return tuple(tags)


def _tag_of(value: str) -> str | None:
    text = value.strip().strip("<>").split(";")[-1].strip()
    if not text:
        return None
    tag = read_bounce_tag(text)
    if tag is None:
        return None
    return f"{tag.public_id}.{tag.mac}" if tag.public_id else tag.mac


def _looks_like_bounce(msg: Message) -> bool:
    sender = _text(msg, "From").lower()
    return bool(
        _BOUNCE_SUBJECT.search(_text(msg, "Subject"))
        or "mailer-daemon" in sender
        or "postmaster" in sender
        or msg.get("X-Failed-Recipients") is not None
    )


def _failed_recipients(msg: Message) -> tuple[RecipientStatus, ...]:
    addresses: list[str] = []
    for value in msg.get_all("X-Failed-Recipients") or []:
        for piece in str(value).split(","):
            address = _address(piece)
            if address and address not in addresses:
                addresses.append(address)
    return tuple(RecipientStatus(a, "failed", "", "", "soft") for a in addresses)
