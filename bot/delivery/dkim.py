"""DKIM signing of outgoing mail (dkimpy), when ``[email] dkim_selector`` and a key are set.

Why sign here, on the bytes :class:`~bot.delivery.email.EmailSender` is about to send: a
signature covers exactly what was serialised, so nothing may change the message after it
(not even header folding). Gmail and Yahoo's bulk-sender rules want the ``d=`` domain
aligned with the From domain (the default ``dkim_domain``) and the one-click unsubscribe
headers covered by the signature, so ``List-Unsubscribe`` and ``List-Unsubscribe-Post`` are
signed whenever present. ``From`` is signed once more than it occurs ("oversigned") so a
second From added in transit breaks the signature instead of fooling the reader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import dkim

__all__ = ["SIGNED_HEADERS", "DkimKey", "DkimKeyError"]

#: Headers signed when the message has them (lower case, as dkimpy compares them).
SIGNED_HEADERS = (
    "from",
    "to",
    "cc",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "list-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "feedback-id",
    "auto-submitted",
)

_HEADER_NAME = re.compile(rb"^([!-9;-~]+):", re.MULTILINE)


class DkimKeyError(ValueError):
    """The configured key cannot sign (not an RSA/Ed25519 PEM key dkimpy can read)."""


@dataclass(frozen=True)
class DkimKey:
    """A selector, a signing domain and a PEM private key."""

    selector: str
    domain: str
    private_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        try:
            dkim.crypto.parse_pem_private_key(self.private_key)
        except Exception as exc:  # dkimpy raises several kinds for a bad key
            raise DkimKeyError(f"the DKIM key cannot be read: {type(exc).__name__}") from None

    def sign(self, data: bytes) -> bytes:
        """``data`` with a ``DKIM-Signature`` header in front (relaxed/relaxed, rsa-sha256)."""
        head = data.split(b"\r\n\r\n", 1)[0]
        present = {name.decode("ascii").lower() for name in _HEADER_NAME.findall(head)}
        include = [name.encode() for name in SIGNED_HEADERS if name in present]
        include.append(b"from")  # oversign: a From added later breaks the signature
        signature = dkim.sign(
            data,
            self.selector.encode("ascii"),
            self.domain.encode("ascii"),
            self.private_key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=include,
            linesep=b"\r\n",
        )
        return bytes(signature) + data
