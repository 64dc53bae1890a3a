"""The value types config keys are declared with, each a validator with its own wording.

Every type takes what TOML gives (strings, integers, booleans, lists) and also the
Python value itself (a ``timedelta``, an ``int``), so sections can be built in code
as well as from a file. Each check raises :func:`~bot.config.errors.problem` saying
what was written and what a good value looks like; none coerces silently (``"8080"``
is not a port, ``1`` is not ``true``, ``"15"`` is not a duration).
"""

from __future__ import annotations

import email.utils
import ipaddress
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, StrictBool

from bot.config.errors import problem, show, suggest
from bot.config.redaction import redact_url
from bot.config.vocabulary import day_index
from bot.durations import format_duration, parse_duration

__all__ = [
    "Duration",
    "DurationOrZero",
    "EmailAddress",
    "Flag",
    "Hour",
    "HttpUrl",
    "Mailbox",
    "OptionalEmailAddress",
    "OptionalHttpUrl",
    "OptionalMailbox",
    "OptionalText",
    "Port",
    "PortOrZero",
    "Size",
    "Text",
    "Timezone",
    "Weekday",
    "Words",
    "dedupe",
    "duration",
    "format_size",
    "is_public_https",
    "optional",
    "parse_size",
    "whole",
]

T = TypeVar("T")

Flag = StrictBool

#: The longest duration any key takes: longer would overflow date arithmetic somewhere
#: (a scheduler adding ``every`` to now) long before it made sense.
MAX_DURATION = timedelta(days=3650)
_ZERO = re.compile(r"\s*0+\s*[wdhms]?\s*")


# --------------------------------------------------------------------------- strings


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise problem(f"{show(value)} is not a non-empty string")
    return value.strip()


def optional(check: Callable[[Any], T]) -> Callable[[Any], T | None]:
    """``check``, except that a missing value or an empty string means "not set"."""

    def run(value: Any) -> T | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return check(value)

    run.__doc__ = check.__doc__
    return run


Text = Annotated[str, BeforeValidator(_text)]
OptionalText = Annotated[str | None, BeforeValidator(optional(_text))]


# --------------------------------------------------------------------------- numbers


def whole(low: int, high: int, what: str = "") -> BeforeValidator:
    """The check of an ``int`` key accepting ``low..high`` (booleans and strings refused).

    Use as ``Annotated[int, whole(1, 100)]``.
    """
    expected = what or f"a whole number from {low} to {high}"

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise problem(f"{show(value)} is not {expected}")
        return value

    return BeforeValidator(check)


Port = Annotated[int, whole(1, 65535, "a port number (1-65535)")]
PortOrZero = Annotated[int, whole(0, 65535, "a port number (0-65535)")]
Hour = Annotated[int, whole(0, 23, "an hour of the day (0-23)")]


def _weekday(value: Any) -> int:
    """A day name; numbers are refused, as people count weekdays from 0, 1 and Sunday."""
    if isinstance(value, str):
        try:
            return day_index(value)
        except ValueError:
            pass
    raise problem(f'{show(value)} is not a day like "Mon"')


#: A day of the week written "Mon" or "monday", held as ``datetime.weekday()`` numbers it.
Weekday = Annotated[int, BeforeValidator(_weekday)]


# --------------------------------------------------------------------------- durations


def duration(*, example: str = "15m", allow_zero: bool = False) -> BeforeValidator:
    """The check of a duration key: ``"90s"``, ``"30m"``, ``"4h"``, ``"2d"`` (or a timedelta).

    ``allow_zero`` lets ``"0s"`` mean "none"; ``example`` is the value the error
    message suggests. Use as ``Annotated[timedelta, duration()]``.
    """
    hint = f'a duration like "{example}"'

    def check(value: Any) -> timedelta:
        if isinstance(value, timedelta):
            parsed = value
        elif not isinstance(value, str):
            raise problem(f"{show(value)} is not {hint}")
        elif _ZERO.fullmatch(value):
            parsed = timedelta(0)
        else:
            try:
                parsed = parse_duration(value)
            except ValueError:
                raise problem(f"{show(value)} is not {hint}") from None
        if parsed < timedelta(0) or (parsed == timedelta(0) and not allow_zero):
            raise problem(f"{show(value)} is not {hint} (it must be more than zero)")
        if parsed > MAX_DURATION:
            raise problem(f"{show(value)} is longer than {format_duration(MAX_DURATION)}")
        return parsed

    return BeforeValidator(check)


Duration = Annotated[timedelta, duration()]
#: A duration where ``"0s"`` means "none" (no jitter, no grouping, no pause).
DurationOrZero = Annotated[timedelta, duration(allow_zero=True)]


# --------------------------------------------------------------------------- sizes

_SIZE_UNITS: Mapping[str, int] = MappingProxyType(
    {"b": 1, "kb": 1024, "kib": 1024, "mb": 1024**2, "mib": 1024**2, "gb": 1024**3, "gib": 1024**3}
)
_SIZE = re.compile(r"(\d{1,12})\s*([a-z]+)")


def parse_size(text: str) -> int:
    """``"500KB"``, ``"20MB"``, ``"1GB"``, ``"512B"`` -> bytes (KB = 1024 bytes).

    Binary multiples, as HTTP servers count their limits; ``KiB``/``MiB``/``GiB``
    are read the same. A unit is required: ``"20"`` could be bytes or megabytes.
    """
    match = _SIZE.fullmatch(text.strip().lower())
    if match is None or match.group(2) not in _SIZE_UNITS:
        raise ValueError(f"{text!r} is not a size like '20MB'")
    size = int(match.group(1)) * _SIZE_UNITS[match.group(2)]
    if size <= 0:
        raise ValueError(f"{text!r} is not a positive size")
    return size


def format_size(size: int) -> str:
    """The shortest text :func:`parse_size` reads back as ``size`` (``"20MB"``)."""
    for unit in ("GB", "MB", "KB"):
        factor = _SIZE_UNITS[unit.lower()]
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}B"


def _size(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value  # bytes, built in code
    if isinstance(value, str):
        try:
            return parse_size(value)
        except ValueError:
            pass
    raise problem(f'{show(value)} is not a size like "20MB" (units: B, KB, MB, GB)')


Size = Annotated[int, BeforeValidator(_size)]


# --------------------------------------------------------------------------- places


def _timezone(value: Any) -> str:
    name = _text(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        hint = suggest(name, sorted(available_timezones()))
        raise problem(f'{show(name)} is not a timezone like "Europe/London"{hint}') from None
    return name


Timezone = Annotated[str, BeforeValidator(_timezone)]


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        _ = parts.port
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https") and bool(parts.hostname) and not re.search(r"\s", value)
    )


def _http_url(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not _is_http_url(text):
        shown = show(redact_url(text)) if isinstance(value, str) else show(value)
        raise problem(f'{shown} is not a URL like "https://example.org/"')
    return text


HttpUrl = Annotated[str, BeforeValidator(_http_url)]
OptionalHttpUrl = Annotated[str | None, BeforeValidator(optional(_http_url))]

#: Ports Telegram delivers webhooks to (Bot API ``setWebhook``).
TELEGRAM_WEBHOOK_PORTS = (443, 80, 88, 8443)


def is_public_https(url: str) -> str | None:
    """Why Telegram could not post to ``url``, or None if it could.

    Telegram needs https, one of four ports, and an address on the internet:
    ``setWebhook`` refuses the rest, so bestbot refuses them at start instead.
    """
    parts = urlsplit(url)
    if parts.scheme != "https":
        return "must be https (Telegram posts webhooks over https only)"
    port = parts.port or 443
    if port not in TELEGRAM_WEBHOOK_PORTS:
        ports = ", ".join(str(p) for p in TELEGRAM_WEBHOOK_PORTS)
        return f"uses port {port}; Telegram posts webhooks only to ports {ports}"
    host = (parts.hostname or "").lower()
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return "is not a public address (Telegram cannot reach it)"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not address.is_global:
        return "is not a public address (Telegram cannot reach it)"
    return None


_EMAIL = re.compile(
    r"[^@\s<>\"(),;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*"
)


def _address(value: Any, *, display_name: bool) -> str:
    text = value.strip() if isinstance(value, str) else ""
    address = email.utils.parseaddr(text)[1] if display_name else text
    if not _EMAIL.fullmatch(address) or (not display_name and address != text):
        raise problem(f'{show(value)} is not an email address like "alerts@example.org"')
    return text


EmailAddress = Annotated[str, BeforeValidator(lambda v: _address(v, display_name=False))]
OptionalEmailAddress = Annotated[
    str | None, BeforeValidator(optional(lambda v: _address(v, display_name=False)))
]
#: An address that may carry a display name: ``"BEST alerts <alerts@example.org>"``.
Mailbox = Annotated[str, BeforeValidator(lambda v: _address(v, display_name=True))]
OptionalMailbox = Annotated[
    str | None, BeforeValidator(optional(lambda v: _address(v, display_name=True)))
]


# --------------------------------------------------------------------------- collections


def dedupe(values: tuple[T, ...]) -> tuple[T, ...]:
    """``values`` without repeats, first occurrence kept (order can matter to people)."""
    return tuple(dict.fromkeys(values))


def _freeze(value: Mapping[str, tuple[str, ...]]) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({k: tuple(v) for k, v in value.items() if v})


def _thaw(value: Mapping[str, tuple[str, ...]]) -> dict[str, list[str]]:
    return {k: list(v) for k, v in value.items()}


#: A read-only table of ``key = ["word", ...]`` (empty lists dropped).
Words = Annotated[Mapping[str, tuple[Text, ...]], AfterValidator(_freeze), PlainSerializer(_thaw)]
