"""Signed links: tokens that let one link act for one subscriber, enquiry or adviser.

A token names a *subject that is never reused* (a subscriber's random ``public_id``, never
the integer id a deleted row hands on), is bound to one *purpose* (an unsubscribe token can
never link a chat), and — where it grants control — carries an *expiry* and the subject's
*link version*, which is bumped whenever control moves, so an old or forwarded link stops
working after use.

Format: ``<subject>.<expiry>.<version>.<signature>`` with the expiry in base-36 minutes since
the epoch (``0``: never), the version in base 36 and a 128-bit HMAC-SHA256 in URL-safe
base64. Only ``A–Z a–z 0–9 _ - .`` appear; :func:`start_payload` swaps the dots for hyphens
so a token also fits a ``t.me/<bot>?start=`` deep link (64
characters, ``A–Z a–z 0–9 _ -``). Verification is constant-time and anything malformed is
None, never an error.

Purposes in use: ``unsub`` (never expires: an unsubscribe link in a two-year-old email must
still work), ``manage`` (email → settings; expires), ``link`` (email → a Telegram chat;
expires, single-use through the version), ``rate`` (an enquiry's rating; expires), ``adv``
(an adviser invite; expires), ``act`` (an action under a notice in an email: relevant,
not relevant, remind me, ask; expires), ``signup`` (confirming an email sign-up; expires),
``csrf`` (the token in every form of the web pages; expires).

Bounce tags (:func:`bounce_tag`) are not tokens: they ride in the return path of every
mail (``bounces+<tag>@domain``), so they must fit a 64-character local part. A tag is the
subscriber's public id (if any) and a short MAC of the recipient's address, so a bounce
report can only suppress the address the mail really went to.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = [
    "ACTIONS",
    "Signer",
    "Verified",
    "bounce_tag",
    "from_start_payload",
    "read_bounce_tag",
    "start_payload",
]

_PURPOSE = re.compile(r"[a-z]{1,12}")
_SUBJECT = re.compile(r"[A-Za-z0-9]{1,40}")
_B36 = re.compile(r"[0-9a-z]{1,8}")
_SIG_LEN = 22
_MAX_TOKEN = 120


@dataclass(frozen=True)
class Verified:
    """What a valid token says."""

    subject: str
    version: int
    expires: datetime | None


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


class Signer:
    """Makes and checks tokens with one secret key (the service's, settled at start)."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("a token secret is required")
        self._key = secret.encode("utf-8")
        self._secret = secret

    @property
    def legacy_secret(self) -> str:
        """The raw key, only for checking links made before :class:`Signer` existed
        (:mod:`bot.tokens`)."""
        return self._secret

    def key_for(self, use: str) -> str:
        """A key derived for another use (e.g. hashing email codes), never the raw secret."""
        return hmac.new(self._key, f"bestbot-derive\x00{use}".encode(), hashlib.sha256).hexdigest()

    def button_key(self) -> bytes:
        """The key that signs inline-button data (:func:`bot.callbacks.sign`)."""
        return self.key_for("buttons").encode()

    def _signature(self, purpose: str, body: str) -> str:
        message = f"bestbot-link\x00{purpose}\x00{body}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def sign(
        self,
        purpose: str,
        subject: str | int,
        *,
        version: int = 0,
        ttl: timedelta | None = None,
        now: datetime | None = None,
    ) -> str:
        """A token for ``subject`` and ``purpose``; ``ttl`` None: it never expires."""
        subject = str(subject)
        if not _PURPOSE.fullmatch(purpose) or not _SUBJECT.fullmatch(subject):
            raise ValueError(f"bad token purpose or subject: {purpose!r}, {subject!r}")
        expiry = "0"
        if ttl is not None:
            moment = (now or datetime.now(UTC)) + ttl
            expiry = _b36(int(moment.timestamp() // 60) + 1)
        body = f"{subject}.{expiry}.{_b36(max(0, version))}"
        return f"{body}.{self._signature(purpose, body)}"

    def verify(
        self, purpose: str, token: object, *, now: datetime | None = None
    ) -> Verified | None:
        """The token's contents if it is valid for ``purpose`` and not expired, else None."""
        if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN:
            return None
        parts = token.split(".")
        if len(parts) != 4 or not _PURPOSE.fullmatch(purpose):
            return None
        subject, expiry, version, signature = parts
        if not (_SUBJECT.fullmatch(subject) and _B36.fullmatch(expiry) and _B36.fullmatch(version)):
            return None
        body = f"{subject}.{expiry}.{version}"
        expected = self._signature(purpose, body)
        if len(signature) != _SIG_LEN or not hmac.compare_digest(expected, signature):
            return None
        expires = None
        if expiry != "0":
            expires = datetime.fromtimestamp(int(expiry, 36) * 60, UTC)
            if (now or datetime.now(UTC)) >= expires:
                return None
        return Verified(subject, int(version, 36), expires)


def start_payload(token: str) -> str:
    """A token as a Telegram ``/start`` parameter: dots are not allowed there, so they
    become hyphens (subject, expiry and version never contain one; the signature, last, may)."""
    return token.replace(".", "-")


def from_start_payload(payload: str) -> str:
    """Inverse of :func:`start_payload`."""
    return ".".join(payload.split("-", 3))


#: How long a link that grants control stays valid.
MANAGE_TTL = timedelta(days=30)
RATE_TTL = timedelta(days=60)
INVITE_TTL = timedelta(days=14)
ACTION_TTL = timedelta(days=60)
SIGNUP_TTL = timedelta(days=2)
CSRF_TTL = timedelta(hours=12)

#: The actions under a notice in an email, by the letter their token carries.
ACTIONS = {"r": "relevant", "n": "not_relevant", "m": "remind", "a": "ask"}
_ACTION_LETTER = {name: letter for letter, name in ACTIONS.items()}
#: How many characters of the subscriber's public id an action token carries: enough
#: (about 59 bits) that a delivery id reused after a deletion never acts for someone else.
ACTION_REF = 10
_ACTION_SUBJECT = re.compile(rf"([rnma])([A-Za-z0-9]{{{ACTION_REF}}})([1-9][0-9]{{0,18}})")


@dataclass(frozen=True)
class ActionRef:
    """What an action link names: the action, the delivery and whose it must be."""

    action: str  # "relevant" | "not_relevant" | "remind" | "ask"
    delivery_id: int
    public_ref: str  # the first ACTION_REF characters of the subscriber's public_id


def read_action(verified: Verified | None) -> ActionRef | None:
    found = _ACTION_SUBJECT.fullmatch(verified.subject) if verified is not None else None
    if found is None:
        return None
    return ActionRef(ACTIONS[found[1]], int(found[3]), found[2])


_TAG = re.compile(r"(?:([A-Za-z0-9]{1,32})\.)?([a-z2-7]{16})")


def _address_mac(signer: Signer, address: str) -> str:
    key = signer.key_for("bounce").encode()
    digest = hmac.new(key, address.strip().lower().encode("utf-8"), hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode("ascii").lower()


def bounce_tag(signer: Signer, address: str, public_id: str | None = None) -> str:
    """``<public_id>.<mac>`` (or just ``<mac>`` for mail to someone not subscribed)."""
    mac = _address_mac(signer, address)
    return f"{public_id}.{mac}" if public_id and _SUBJECT.fullmatch(public_id) else mac


@dataclass(frozen=True)
class BounceTag:
    public_id: str | None
    mac: str

    def names(self, signer: Signer, address: str) -> bool:
        """Whether this tag was made for mail to ``address``."""
        return hmac.compare_digest(self.mac, _address_mac(signer, address))


def read_bounce_tag(text: str | None) -> BounceTag | None:
    """The tag in ``bounces+<tag>@…``, a bare tag, or None."""
    if not text:
        return None
    value = text.strip().strip("<>")
    local = value.rpartition("@")[0] if "@" in value else value
    if "+" in local:
        local = local.rpartition("+")[2]
    found = _TAG.fullmatch(local)
    return BounceTag(found[1], found[2]) if found else None


class SubjectRef(Protocol):
    """What a subscriber link needs to know about its subscriber."""

    @property
    def public_id(self) -> str: ...

    @property
    def link_version(self) -> int: ...


class Links:
    """Every signed URL bestbot hands out, made in one place."""

    def __init__(self, signer: Signer, public_url: str, bot_username: str | None) -> None:
        self.signer = signer
        self.public_url = public_url.rstrip("/")
        self.bot_username = (bot_username or "").lstrip("@") or None

    def manage_url(self, sub: SubjectRef, now: datetime | None = None) -> str:
        """The subscriber's settings page ("Manage your alerts"): expires, and stops working
        when control of the subscription moves (the link version)."""
        token = self.signer.sign(
            "manage", sub.public_id, version=sub.link_version, ttl=MANAGE_TTL, now=now
        )
        return f"{self.public_url}/manage/{token}"

    def action_url(
        self, sub: SubjectRef, delivery_id: int, action: str, now: datetime | None = None
    ) -> str:
        """A link under one notice in an email; it opens a confirm page (never acts on GET)."""
        subject = f"{_ACTION_LETTER[action]}{sub.public_id[:ACTION_REF]}{delivery_id}"
        token = self.signer.sign("act", subject, ttl=ACTION_TTL, now=now)
        return f"{self.public_url}/act/{token}"

    def signup_url(self, signup_id: str, now: datetime | None = None) -> str:
        token = self.signer.sign("signup", signup_id, ttl=SIGNUP_TTL, now=now)
        return f"{self.public_url}/signup/confirm/{token}"

    def unsubscribe_url(self, sub: SubjectRef) -> str:
        return f"{self.public_url}/unsubscribe/{self.signer.sign('unsub', sub.public_id)}"

    def telegram_link(self, sub: SubjectRef, now: datetime | None = None) -> str | None:
        """``https://t.me/<bot>?start=…``: manage an email subscription from a chat. The
        link proves nothing on its own (a forwarded email carries it): opening it starts a
        check by a fresh code sent to the address (see :mod:`bot.chat.email_link`)."""
        if not self.bot_username:
            return None
        token = self.signer.sign(
            "link", sub.public_id, version=sub.link_version, ttl=MANAGE_TTL, now=now
        )
        return f"https://t.me/{self.bot_username}?start={start_payload(token)}"

    def rating_url(self, enquiry_id: int, up: bool, now: datetime | None = None) -> str:
        subject = f"{enquiry_id}{'u' if up else 'd'}"
        token = self.signer.sign("rate", subject, ttl=RATE_TTL, now=now)
        return f"{self.public_url}/enquiry/rate/{token}"

    def invite_link(self, adviser_id: int, now: datetime | None = None) -> str:
        token = self.signer.sign("adv", adviser_id, ttl=INVITE_TTL, now=now)
        return f"https://t.me/{self.bot_username or 'bestbot'}?start=adv-{start_payload(token)}"
