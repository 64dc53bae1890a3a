"""The first generation of signed links, kept only to honour old unsubscribe links.

New links are made by :mod:`bot.links` (naming a subscriber's random ``public_id``, with
expiry where they grant control). Links of this kind name the integer id, which SQLite
reuses after a deletion; :func:`bot.web.unsubscribe` therefore accepts them only for
subscribers who existed when the new links arrived. Nothing makes these tokens any more
but the tests that check old links still work.

Original design:

A token is ``"<id>.<signature>"``: the subject id in plain decimal and a URL-safe base64
HMAC-SHA256 over the *purpose* and the id. The purpose is part of the signed message, so a
token made to link a Telegram account can never unsubscribe anyone, and vice versa. There is
no expiry on purpose: an unsubscribe link in a two-year-old email must still work.

Only canonical tokens verify (no leading zeros, no padding, no whitespace), so each id has
exactly one valid token per purpose and secret; anything else is ``None``, never an error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

__all__ = ["sign", "verify"]

_ID_RE = re.compile(r"0|[1-9][0-9]{0,18}")
_PURPOSE_RE = re.compile(r"[A-Za-z0-9_.\-]{1,32}")
_MAX_TOKEN = 80


def _signature(secret: str, purpose: str, subject_id: int) -> str:
    message = f"bestbot-token\x00{purpose}\x00{subject_id}".encode()
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign(secret: str, purpose: str, subject_id: int) -> str:
    """A URL-safe token proving ``subject_id`` for ``purpose`` (e.g. "unsub", "link")."""
    if not secret:
        raise ValueError("a token secret is required")
    if not _PURPOSE_RE.fullmatch(purpose):
        raise ValueError(f"bad token purpose {purpose!r}")
    if isinstance(subject_id, bool) or not 0 <= subject_id < 10**19:
        raise ValueError(f"bad token subject id {subject_id!r}")
    return f"{subject_id}.{_signature(secret, purpose, subject_id)}"


def verify(secret: str, purpose: str, token: str) -> int | None:
    """The subject id if ``token`` is a valid token for ``purpose``, else None.

    The signature is compared in constant time; a malformed token, a wrong purpose or a
    token made with another secret all give None.
    """
    if not secret or not isinstance(token, str) or not _PURPOSE_RE.fullmatch(purpose):
        return None
    if len(token) > _MAX_TOKEN:
        return None
    id_part, dot, _sig = token.partition(".")
    if not dot or not _ID_RE.fullmatch(id_part):
        return None
    subject_id = int(id_part)
    expected = f"{subject_id}.{_signature(secret, purpose, subject_id)}"
    if not hmac.compare_digest(expected.encode("utf-8"), token.encode("utf-8", "replace")):
        return None
    return subject_id
