"""The CSRF token in every form of bestbot's pages.

The pages keep no session (no cookies): the signed link in the URL is what authorises. A
form still carries its own short-lived token, signed for the purpose ``csrf`` over the
subject the page is about (a subscriber's public id, or a random id for the public
sign-up form), so a form posted from another site — or an old tab reposted hours later —
is refused instead of acting.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime

from bot.links import CSRF_TTL, Signer

__all__ = ["FIELD", "check", "issue"]

FIELD = "csrf"


def issue(signer: Signer, subject: str | None = None, now: datetime | None = None) -> str:
    """A token for a form about ``subject`` (a random one for a public form)."""
    return signer.sign("csrf", subject or secrets.token_hex(10), ttl=CSRF_TTL, now=now)


def check(
    signer: Signer,
    form: Mapping[str, str],
    subject: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Whether the form's token is valid (and, with ``subject``, made for it)."""
    verified = signer.verify("csrf", form.get(FIELD, ""), now=now)
    if verified is None:
        return False
    return subject is None or verified.subject == subject
