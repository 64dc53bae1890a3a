"""Secrets that cannot leak: masked in ``repr``, in JSON dumps and in error messages.

Tokens, passwords and keys stay plain ``str`` subclasses rather than pydantic's
``SecretStr``: the rest of bestbot reads ``config.telegram.token`` or
``config.secret_key`` as a string (to build a URL, to sign a link), and a subclass
keeps that working while ``repr()`` -- which is what logging a config, a dataclass
or a pydantic model shows -- prints ``'***'``. ``get_secret_value()`` is there for
code that wants to say explicitly that it is reading a secret.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

__all__ = ["MASK", "Secret", "SecretURL", "redact_text", "redact_url", "url_password"]

MASK = "***"

#: ``user:password@`` at the start of a URL's authority; the password runs to the last "@".
_USERINFO = re.compile(r"(?P<user>[^/@:\s]*):(?P<password>.*)@", re.DOTALL)


def _password_span(url: str) -> tuple[int, int] | None:
    """Where the password of ``url`` is, if it has one: after ``user:``, up to the last "@".

    Found by hand rather than with :func:`urllib.parse.urlsplit` so that URLs too
    broken to parse (``postgresql//u:pw@h/db``, ``u:pw@h``, a password with a space,
    "/" or "@" in it) are covered: a broken URL is exactly what ends up in an error.
    """
    at = url.rfind("@")
    if at < 0:
        return None
    slashes = url.rfind("//", 0, at)
    start = slashes + 2 if slashes >= 0 else 0
    match = _USERINFO.match(url, start)
    if match is None or match.end() != at + 1:
        return None
    return match.start("password"), match.end("password")


def url_password(url: str) -> str | None:
    """The password inside ``url``, or None."""
    span = _password_span(url)
    return url[span[0] : span[1]] if span else None


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (``postgresql://u:***@host/db``)."""
    span = _password_span(url)
    return f"{url[: span[0]]}{MASK}{url[span[1] :]}" if span else url


#: Things that are secrets wherever they are pasted: a Telegram bot token, a PEM block.
_LOOKS_SECRET = re.compile(
    r"\d{5,}:[A-Za-z0-9_-]{30,}|-----BEGIN[^-]*-----.*?(?:-----END[^-]*-----|$)", re.DOTALL
)


def redact_text(text: str) -> str:
    """``text`` with URL passwords, bot tokens and PEM keys masked.

    For values shown in error messages: a token pasted into the wrong key
    (``bot_username``) is still a token.
    """
    text = _LOOKS_SECRET.sub(MASK, text)
    return re.sub(r"\S+@\S*", lambda m: redact_url(m.group()), text)


def _mask_json(value: Any) -> str:
    return MASK


class Secret(str):
    """A token, password or key: a normal string to code, ``'***'`` to ``repr``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(MASK)

    def get_secret_value(self) -> str:
        """The secret as a plain ``str`` (what ``str(secret)`` also gives)."""
        return str.__str__(self)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls,
            core_schema.str_schema(strict=True),
            serialization=core_schema.plain_serializer_function_ser_schema(
                _mask_json, when_used="json"
            ),
        )


class SecretURL(str):
    """A URL that may carry a password (a database URL): ``repr`` shows it redacted."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(redact_url(str.__str__(self)))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls,
            core_schema.str_schema(strict=True),
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda value: redact_url(str(value)), when_used="json"
            ),
        )
