"""Turn one raw email into the parts an enquiry needs, or say why it must be ignored.

Pure and defensive: :func:`parse_mail` takes the bytes an IMAP server returned
and never raises. Mail that must never open an enquiry (auto-replies,
out-of-office notes, bounces and other delivery reports, list and bulk mail,
our own outgoing messages) comes back as :class:`Ignored` with a reason, so a
mailbox cannot ping-pong with another robot. Everything else becomes a
:class:`ParsedMail`: sender, decoded subject, the thread headers, and the
text body (text/plain preferred, else HTML flattened to text), capped in size.

Nothing else is stripped here: signatures and quoted text are the triage's
business, and it needs to see them to weigh them.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from html import unescape
from html.parser import HTMLParser

from bot.enquiries.mail_auth import vouches_for

__all__ = [
    "MAX_RAW_BYTES",
    "MAX_TEXT_CHARS",
    "Ignored",
    "ParsedMail",
    "html_to_text",
    "parse_mail",
]

log = logging.getLogger(__name__)

#: Only this much of a message is parsed (attachments beyond it don't matter).
MAX_RAW_BYTES = 2_000_000
#: The body handed to the enquiry workflow is cut to this many characters.
MAX_TEXT_CHARS = 50_000
MAX_SUBJECT_CHARS = 500
MAX_NAME_CHARS = 200
MAX_REFERENCES = 30

#: Our own synthetic Message-IDs (mail that arrived without one) use this domain.
SYNTHETIC_DOMAIN = "bestbot.invalid"


@dataclass(frozen=True)
class ParsedMail:
    """An email worth a look by the enquiry workflow.

    Message ids keep their angle brackets, exactly as in the headers
    (``<abc@example.org>``), so they compare equal to what
    :func:`email.utils.make_msgid` produced for our own outgoing mail.
    ``message_id`` is never empty: mail without one gets a stable id derived
    from its bytes, so re-reading it after a crash is still idempotent.
    """

    sender_email: str
    sender_name: str | None
    subject: str | None
    message_id: str
    in_reply_to: str | None
    references: tuple[str, ...]
    text: str
    truncated: bool = False
    #: Our mail server vouches for the sender's domain (:mod:`bot.enquiries.mail_auth`).
    authenticated: bool = False


@dataclass(frozen=True)
class Ignored:
    """A message that must not open or join an enquiry, and why (for the log)."""

    reason: str
    message_id: str | None = None
    sender_email: str | None = None


# --------------------------------------------------------------------------- text helpers

# C0/C1 controls except tab and newline, plus bidi overrides and zero-width joiners
# that can disguise text (the adviser must see what was really written).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_MSGID = re.compile(r"<[^<>\s]{1,500}>")


def _one_line(value: str, limit: int) -> str:
    """A header value on one line: controls and folding removed, spaces squeezed."""
    value = value.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    value = _CONTROL.sub("", value)
    return _SPACES.sub(" ", value).strip()[:limit]


def _clean_text(text: str) -> str:
    """Body text with normalised newlines and no control characters; layout kept."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [line.rstrip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


class _TextExtractor(HTMLParser):
    """Collects the visible text of an HTML document, with line breaks at blocks."""

    _SKIP = frozenset({"script", "style", "head", "title", "noscript", "template", "svg"})
    _BLOCK = frozenset(
        {
            "p", "div", "section", "article", "header", "footer", "blockquote", "pre",
            "table", "tr", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "address",
        }
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag in self._BLOCK:
            self.parts.append("\n\n" if tag == "p" else "\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(_SPACES.sub(" ", data.replace("\r", " ").replace("\n", " ")))


def html_to_text(html: str) -> str:
    """The readable text of an HTML email: no tags, scripts or styles; entities decoded.

    Links keep only their text (the adviser sees the words, not tracking URLs).
    The result is plain text and must still be escaped wherever it is shown.
    """
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
        text = "".join(parser.parts)
    except Exception:  # HTMLParser is lenient, but never let a page crash intake
        text = unescape(re.sub(r"<[^>]*>", " ", html))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _clean_text("\n".join(lines))


# --------------------------------------------------------------------------- headers


def _header(msg: Message, name: str) -> str | None:
    """A header's decoded value, or None; malformed headers fall back to the raw text."""
    try:
        value = msg.get(name)
    except Exception as exc:  # the header registry can trip over hostile values
        log.debug("unreadable %s header: %s", name, exc)
        raw = _raw_header(msg, name)
        return raw
    if value is None:
        return None
    try:
        return str(value)
    except Exception:
        return _raw_header(msg, name)


def _raw_header(msg: Message, name: str) -> str | None:
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return str(value) if not isinstance(value, str) else value
    return None


def _has_header(msg: Message, name: str) -> bool:
    return any(key.lower() == name.lower() for key in msg)


def _msgids(value: str | None) -> list[str]:
    return _MSGID.findall(value) if value else []


def _sender(msg: Message) -> tuple[str | None, str | None]:
    """(name, address) of the From header; address lower-cased in the domain only."""
    value = _header(msg, "From")
    if not value:
        return None, None
    try:
        pairs = email.utils.getaddresses([value])
    except Exception:
        pairs = []
    for name, address in pairs:
        address = _one_line(address, 320)
        if _valid_address(address):
            local, _, domain = address.rpartition("@")
            clean_name = _one_line(name, MAX_NAME_CHARS) or None
            return clean_name, f"{local}@{domain.lower()}"
    return None, None


_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z0-9-]{2,63}")


def _valid_address(address: str) -> bool:
    return bool(_ADDRESS.fullmatch(address))


# --------------------------------------------------------------------------- robots

_AUTO_SUBJECT = re.compile(
    r"^\s*(?:\[[^\]]{0,40}\]\s*)?(?:"
    r"out of (?:the )?office(?: auto ?reply)?|automatic reply|auto(?:matic)?[- ]?reply"
    r"|auto(?:matic)?[- ]?response|autosvar|automatisk svar|abwesenheitsnotiz"
    r"|automatische antwort|automatisch antwoord|r[ée]ponse automatique"
    r"|respuesta autom[áa]tica|risposta automatica|away from (?:the|my) office"
    r"|undeliverable|undelivered mail|delivery status notification|mail delivery failed"
    r"|delivery failure|returned mail|failure notice|message not delivered"
    r")\b\s*(?::|-|$)",
    re.IGNORECASE,
)
_ROBOT_LOCALPARTS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"})
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply", "auto-reply"})
_LIST_HEADERS = ("List-Id", "List-Unsubscribe", "List-Post")
_AUTOREPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autogenerated", "X-Auto-Generated")


def _robot_reason(msg: Message, sender: str | None, own: frozenset[str]) -> str | None:
    """Why ``msg`` was written by a machine (and must not be answered), or None."""
    auto = _header(msg, "Auto-Submitted")
    if auto is not None:
        kind = auto.split(";", 1)[0].strip().lower()
        if kind and kind != "no":
            return f"auto-submitted ({_one_line(kind, 40)})"
    for name in _AUTOREPLY_HEADERS:
        if _has_header(msg, name):
            return f"auto-reply ({name})"
    precedence = (_header(msg, "Precedence") or "").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return f"precedence {precedence}"
    for name in _LIST_HEADERS:
        if _has_header(msg, name):
            return f"list mail ({name})"
    ctype = msg.get_content_type()
    if ctype == "multipart/report":
        report = (msg.get_param("report-type") or "report") if _safe_params(msg) else "report"
        return f"delivery report ({_one_line(str(report), 40)})"
    if _has_header(msg, "X-Failed-Recipients"):
        return "bounce (X-Failed-Recipients)"
    return_path = _header(msg, "Return-Path")
    if return_path is not None and return_path.strip() in ("<>", ""):
        return "bounce (empty Return-Path)"
    if sender is not None:
        if sender.rpartition("@")[0].lower() in _ROBOT_LOCALPARTS:
            return "bounce (mailer daemon)"
        if sender.casefold() in own:
            return "our own message"
    loop = (_header(msg, "X-Loop") or "").casefold()
    if loop and any(address in loop for address in own):
        return "mail loop (X-Loop)"
    subject = _one_line(_header(msg, "Subject") or "", MAX_SUBJECT_CHARS)
    if _AUTO_SUBJECT.match(subject):
        return "auto-reply (subject)"
    return None


def _safe_params(msg: Message) -> bool:
    try:
        msg.get_params()
    except Exception:
        return False
    return True


# --------------------------------------------------------------------------- bodies


def _decode_part(part: Message) -> str:
    """The text of one leaf part, whatever its charset or transfer encoding claims."""
    if isinstance(part, EmailMessage):
        try:
            content = part.get_content()
            if isinstance(content, str):
                return content
        except Exception as exc:  # unknown charset, broken encoding...
            log.debug("falling back to raw decode: %s", exc)
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    charset = "utf-8"
    with contextlib.suppress(Exception):
        charset = part.get_content_charset() or "utf-8"
    for candidate in (charset, "utf-8"):
        try:
            return payload.decode(candidate, errors="replace")
        except LookupError:
            continue
    return payload.decode("latin-1")


def _leaves(msg: Message) -> Iterable[Message]:
    """Leaf parts in order, skipping attachments and attached messages; bounded depth."""
    stack: list[tuple[Message, int]] = [(msg, 0)]
    seen = 0
    while stack and seen < 200:
        part, depth = stack.pop()
        seen += 1
        try:
            disposition = (part.get_content_disposition() or "").lower()
        except Exception:
            disposition = ""
        if disposition == "attachment":
            continue
        if part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list) and depth < 20:
                stack.extend(
                    (child, depth + 1) for child in reversed(payload) if isinstance(child, Message)
                )
            continue
        yield part


def _body(msg: Message) -> str:
    """The first non-empty text/plain part, else the first text/html part as text."""
    plain: str | None = None
    html: str | None = None
    for part in _leaves(msg):
        ctype = part.get_content_type()
        if ctype == "text/plain" and plain is None:
            text = _decode_part(part)
            if text.strip():
                plain = text
        elif ctype == "text/html" and html is None:
            html = _decode_part(part)
        if plain is not None:
            break
    if plain is not None:
        return _clean_text(plain)
    if html is not None:
        return html_to_text(html)
    return ""


# --------------------------------------------------------------------------- entry point


def parse_mail(
    raw: bytes, own_addresses: Iterable[str] = (), authserv_id: str | None = None
) -> ParsedMail | Ignored:
    """Parse one raw RFC 5322 message; never raises.

    ``own_addresses`` are the addresses bestbot sends from (and its enquiries
    mailbox): mail from them is ours coming back and is ignored. ``authserv_id`` names our
    mail server in ``Authentication-Results``: only its verdicts are read.
    """
    try:
        own = frozenset(a.strip().casefold() for a in own_addresses if a)
        return _parse(raw, own, authserv_id)
    except Exception as exc:  # last line of defence: one bad mail must not stop intake
        log.warning("unparseable mail ignored: %s", type(exc).__name__)
        return Ignored(reason=f"unparseable ({type(exc).__name__})")


def _parse(raw: bytes, own: frozenset[str], authserv_id: str | None) -> ParsedMail | Ignored:
    if not isinstance(raw, bytes | bytearray):
        return Ignored(reason="not bytes")
    data = bytes(raw[:MAX_RAW_BYTES])
    msg = BytesParser(policy=policy.default).parsebytes(data)
    ids = _msgids(_header(msg, "Message-ID"))
    message_id = ids[0] if ids else None
    name, sender = _sender(msg)
    reason = _robot_reason(msg, sender, own)
    if reason is not None:
        return Ignored(reason=reason, message_id=message_id, sender_email=sender)
    if sender is None:
        return Ignored(reason="no usable From address", message_id=message_id)
    subject = _one_line(_header(msg, "Subject") or "", MAX_SUBJECT_CHARS) or None
    text = _body(msg)
    truncated = len(text) > MAX_TEXT_CHARS or len(raw) > MAX_RAW_BYTES
    text = text[:MAX_TEXT_CHARS]
    if not text and not subject:
        return Ignored(reason="empty message", message_id=message_id, sender_email=sender)
    in_reply_to = next(iter(_msgids(_header(msg, "In-Reply-To"))), None)
    references = tuple(_msgids(_header(msg, "References"))[-MAX_REFERENCES:])
    if message_id is None:
        digest = hashlib.sha256(data).hexdigest()[:32]
        message_id = f"<{digest}@{SYNTHETIC_DOMAIN}>"
    return ParsedMail(
        sender_email=sender,
        sender_name=name,
        subject=subject,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        text=text,
        truncated=truncated,
        authenticated=vouches_for(msg.get_all("Authentication-Results") or [], authserv_id, sender),
    )
