"""bestbot's configuration: one TOML file, secrets from the environment, validated on load.

Why so strict: a typo in a config file must never be silently ignored (an alert
service that quietly polls nothing is worse than one that refuses to start), and
a bad value must be reported as *one line* naming the key and what is expected,
because that line is all the user sees (``bestbot`` exits 2 with it). So every
key is checked against the known ones, every value against its type, and the
first problem raises :class:`ConfigError`.

Where the file comes from (:func:`load_config`): an explicit path, else
``$BESTBOT_CONFIG``, else ``./bestbot.toml`` if it exists, else built-in
defaults. Secrets may live in the environment instead of the file, and the
environment wins: ``BESTBOT_TELEGRAM_TOKEN``, ``BESTBOT_SMTP_PASSWORD``,
``BESTBOT_IMAP_PASSWORD``, ``BESTBOT_SECRET_KEY``, ``BESTBOT_DATABASE_URL``.

The result is a tree of frozen dataclasses; their ``repr`` (and
:meth:`Config.redacted`) mask tokens, passwords, the secret key and any
password inside a URL, so logging a config cannot leak them.
"""

from __future__ import annotations

import dataclasses
import difflib
import email.utils
import json
import logging
import os
import re
import secrets
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast, get_args
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.durations import (
    format_clock,
    format_duration,
    format_time_window,
    parse_duration,
    parse_time_window,
)
from bot.errors import UserError

__all__ = [
    "DEFAULT_FEEDS",
    "FEED_KINDS",
    "TOPICS",
    "AlertsConfig",
    "Config",
    "ConfigError",
    "DatabaseConfig",
    "EmailConfig",
    "FeedConfig",
    "InboundEmailConfig",
    "MatchingConfig",
    "RoutingConfig",
    "TelegramConfig",
    "WebConfig",
    "WorkingHours",
    "config_from_dict",
    "load_config",
    "redact_url",
]

log = logging.getLogger(__name__)

ENV_CONFIG = "BESTBOT_CONFIG"
ENV_DATABASE_URL = "BESTBOT_DATABASE_URL"
ENV_TELEGRAM_TOKEN = "BESTBOT_TELEGRAM_TOKEN"
ENV_SMTP_PASSWORD = "BESTBOT_SMTP_PASSWORD"
ENV_IMAP_PASSWORD = "BESTBOT_IMAP_PASSWORD"
ENV_SECRET_KEY = "BESTBOT_SECRET_KEY"
DEFAULT_CONFIG_FILE = "bestbot.toml"

FeedKind = Literal["find_a_tender", "contracts_finder", "file"]
FEED_KINDS: tuple[str, ...] = get_args(FeedKind)
FEED_URLS: Mapping[str, str] = MappingProxyType(
    {
        "find_a_tender": "https://www.find-tender.service.gov.uk/api/1.0/ocdsReleasePackages",
        "contracts_finder": (
            "https://www.contractsfinder.service.gov.uk/Published/Notices/OCDS/Search"
        ),
    }
)
#: Values of Contracts Finder's ``stages`` search parameter.
CF_STAGES: tuple[str, ...] = ("planning", "tender", "award", "implementation")
#: Notice stages a profile can ask for (see ``feeds.notice.Stage``).
NOTICE_STAGES: tuple[str, ...] = ("planning", "tender", "award", "contract", "cancelled")
#: Enquiry topic ids (fixed in DESIGN.md).
TOPICS: tuple[str, ...] = (
    "tendering",
    "legal",
    "finance",
    "funding",
    "social_value",
    "start_up",
    "employment",
    "general",
)
WEEKDAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
Frequency = Literal["instant", "daily", "weekly"]
FREQUENCIES: tuple[str, ...] = get_args(Frequency)

#: Field names whose values are secrets wherever they appear.
SECRET_FIELDS = frozenset({"token", "smtp_password", "password", "secret_key"})
_MASK = "***"
_MIN_SECRET_KEY = 16


class ConfigError(UserError):
    """A config problem, as one line: ``config error: KEY: what is wrong and what is expected``.

    ``key`` is the dotted key path (``feeds[0].every``), the environment
    variable, or ``None`` for a problem with the file as a whole.
    """

    def __init__(self, problem: str, key: str | None = None) -> None:
        self.key = key
        self.problem = problem
        text = f"config error: {key}: {problem}" if key else f"config error: {problem}"
        super().__init__(" ".join(text.splitlines()))


# --------------------------------------------------------------------------- values


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (``postgresql://u:***@host/db``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _MASK
    if parts.password is None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    name = user.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{name}:{_MASK}@{host}"))


def _plain(name: str, value: Any, redact: bool) -> Any:
    """A JSON-friendly view of a config value, with secrets masked when ``redact``."""
    if redact and name in SECRET_FIELDS:
        return None if value is None else _MASK
    if redact and name.endswith("url") and isinstance(value, str):
        return redact_url(value)
    if name == "quiet_hours":
        return "off" if value is None else format_time_window(value)
    if isinstance(value, _Section):
        return value.to_dict(redact=redact)
    if isinstance(value, WorkingHours):
        return str(value)
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, time):
        return format_clock(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(str(k), v, redact) for k, v in value.items()}
    if isinstance(value, tuple | list | frozenset):
        return [_plain(name, v, redact) for v in value]
    return value


class _Section:
    """Shared behaviour of the config dataclasses: safe ``repr`` and dict views."""

    def to_dict(self, *, redact: bool = True) -> dict[str, Any]:
        """The section as plain JSON-friendly values; secrets masked unless ``redact=False``."""
        return {
            f.name: _plain(f.name, getattr(self, f.name), redact)
            for f in dataclasses.fields(cast(Any, self))
        }

    def __repr__(self) -> str:
        parts = []
        for f in dataclasses.fields(cast(Any, self)):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS and value is not None:
                value = _MASK
            elif f.name.endswith("url") and isinstance(value, str):
                value = redact_url(value)
            parts.append(f"{f.name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    __str__ = __repr__


@dataclass(frozen=True, repr=False)
class WorkingHours:
    """When advisers work: days of the week and a daily window in one timezone, or 24/7.

    SLA timers (``ack_within``, ``reply_within``) count only working time, so
    "4h" asked at Friday 16:00 is due Monday 12:00.
    """

    days: frozenset[int] = frozenset(range(5))  # Monday = 0
    start: time = time(9, 0)
    end: time = time(17, 0)
    timezone: str = "Europe/London"
    always: bool = False

    HINT = 'working hours like "Mon-Fri 09:00-17:00" or "24/7"'

    @classmethod
    def parse(cls, text: str, default_timezone: str = "Europe/London") -> WorkingHours:
        """``"Mon-Fri 09:00-17:00"``, ``"Mon,Wed 10:00-14:00 Europe/London"`` or ``"24/7"``.

        Raises :class:`ValueError` with a message saying what is expected.
        """
        if not isinstance(text, str):
            raise ValueError(f"expected {cls.HINT}")
        words = text.split()
        if [w.lower() for w in words] in (["24/7"], ["always"]):
            return cls(days=frozenset(range(7)), timezone=default_timezone, always=True)
        if len(words) not in (2, 3):
            raise ValueError(f"{json.dumps(text)} is not {cls.HINT}")
        zone = words[2] if len(words) == 3 else default_timezone
        try:
            days = _parse_days(words[0])
            start, end = parse_time_window(words[1])
        except ValueError:
            raise ValueError(f"{json.dumps(text)} is not {cls.HINT}") from None
        if end <= start:
            raise ValueError(f"{json.dumps(text)}: the working day must end after it starts")
        _check_timezone(zone)
        return cls(days=days, start=start, end=end, timezone=zone)

    def __str__(self) -> str:
        if self.always:
            return "24/7"
        window = format_time_window((self.start, self.end))
        return f"{_format_days(self.days)} {window} {self.timezone}"

    def __repr__(self) -> str:
        return f"WorkingHours({str(self)!r})"

    def is_open(self, when: datetime) -> bool:
        """Whether ``when`` (timezone-aware) falls in working hours."""
        if self.always:
            return True
        local = _aware(when).astimezone(ZoneInfo(self.timezone))
        return local.weekday() in self.days and self.start <= local.time() < self.end

    def add(self, when: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of working time after ``when``, in ``when``'s timezone.

        Whole days count as working days and hours as working hours, as people
        mean them: "2d" from Monday 10:00 is Wednesday 10:00, "4h" from Friday
        16:00 is Monday 12:00. Counting starts at the next opening if ``when``
        is outside hours, so "4h" from Saturday is Monday 13:00.
        """
        when = _aware(when)
        if self.always:
            return when + duration
        zone = ZoneInfo(self.timezone)
        cursor = self._forward(when.astimezone(UTC), timedelta(0))
        if duration.days:
            local = cursor.astimezone(zone)
            day, left = local.date(), duration.days
            while left:
                day += timedelta(days=1)
                left -= day.weekday() in self.days
            cursor = datetime.combine(day, local.time(), tzinfo=zone).astimezone(UTC)
        rest = duration - timedelta(days=duration.days)
        return self._forward(cursor, rest).astimezone(when.tzinfo)

    def _forward(self, cursor: datetime, remaining: timedelta) -> datetime:
        """``remaining`` working hours after the UTC instant ``cursor`` (snapped to hours)."""
        zone = ZoneInfo(self.timezone)
        day = cursor.astimezone(zone).date()
        for _ in range(366 * 20):
            if day.weekday() in self.days:
                opens = datetime.combine(day, self.start, tzinfo=zone).astimezone(UTC)
                closes = datetime.combine(day, self.end, tzinfo=zone).astimezone(UTC)
                cursor = max(cursor, opens)
                if cursor < closes:
                    gap = closes - cursor
                    if remaining < gap or (remaining == gap and remaining > timedelta(0)):
                        return cursor + remaining
                    remaining -= closes - cursor
                    cursor = closes
            day += timedelta(days=1)
        raise ValueError("duration too long for these working hours")  # pragma: no cover


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("working-hours arithmetic needs a timezone-aware datetime")
    return when


def _day_index(word: str) -> int:
    low = word.strip().lower()
    for i, name in enumerate(WEEKDAYS):
        full = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")[i]
        if low in (name.lower(), full):
            return i
    raise ValueError(f"{word!r} is not a day like 'Mon'")


def _parse_days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in text.split(","):
        first, sep, last = part.partition("-")
        if not sep:
            days.add(_day_index(first))
            continue
        a, b = _day_index(first), _day_index(last)
        days.update((a + i) % 7 for i in range((b - a) % 7 + 1))
    return frozenset(days)


def _format_days(days: frozenset[int]) -> str:
    ordered = sorted(days)
    runs: list[list[int]] = []
    for d in ordered:
        if runs and runs[-1][-1] == d - 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return ",".join(
        WEEKDAYS[r[0]] if len(r) == 1 else f"{WEEKDAYS[r[0]]}-{WEEKDAYS[r[-1]]}" for r in runs
    )


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        hint = 'a timezone like "Europe/London"'
        close = difflib.get_close_matches(name, sorted(available_timezones()), n=1)
        extra = f" (did you mean {json.dumps(close[0])}?)" if close else ""
        raise ValueError(f"{json.dumps(name)} is not {hint}{extra}") from None
    return name


# --------------------------------------------------------------------------- sections


@dataclass(frozen=True, repr=False)
class DatabaseConfig(_Section):
    """``[database]``: where notices, subscribers and the outbox live."""

    url: str = "sqlite:///bestbot.sqlite3"


@dataclass(frozen=True, repr=False)
class TelegramConfig(_Section):
    """``[telegram]``: the bot. No token means Telegram is off (email-only)."""

    token: str | None = None
    base_url: str | None = None
    base_file_url: str | None = None
    admin_ids: tuple[int, ...] = ()
    bot_username: str | None = None

    @property
    def enabled(self) -> bool:
        return self.token is not None


@dataclass(frozen=True, repr=False)
class InboundEmailConfig(_Section):
    """``[email.inbound]``: the IMAP mailbox enquiries arrive in."""

    host: str
    port: int = 993
    username: str | None = None
    password: str | None = None
    ssl: bool = True
    folder: str = "INBOX"
    every: timedelta = timedelta(minutes=2)
    address: str | None = None


@dataclass(frozen=True, repr=False)
class EmailConfig(_Section):
    """``[email]``: outgoing mail over SMTP. No ``smtp_host`` means email is off."""

    from_address: str | None = None
    reply_to: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    starttls: bool = True
    tls: bool = False
    timeout: timedelta = timedelta(seconds=30)
    inbound: InboundEmailConfig | None = None

    @property
    def enabled(self) -> bool:
        return self.smtp_host is not None

    @property
    def from_email(self) -> str | None:
        """The bare address of ``from_address`` (which may be ``"Name <addr>"``)."""
        return email.utils.parseaddr(self.from_address)[1] if self.from_address else None


@dataclass(frozen=True, repr=False)
class WebConfig(_Section):
    """``[web]``: bestbot's small HTTP server (unsubscribe, health, webhook)."""

    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None

    @property
    def base_url(self) -> str:
        """The URL people reach the server at: ``public_url``, else ``http://host:port``."""
        if self.public_url:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


@dataclass(frozen=True, repr=False)
class FeedConfig(_Section):
    """One ``[[feeds]]`` entry: a source polled on its own schedule."""

    name: str
    kind: FeedKind
    url: str | None = None
    path: str | None = None
    every: timedelta = timedelta(minutes=15)
    lookback: timedelta = timedelta(days=3)
    jitter: timedelta = timedelta(seconds=30)
    stages: tuple[str, ...] = ()
    enabled: bool = True


DEFAULT_FEEDS: tuple[FeedConfig, ...] = (
    FeedConfig(name="find_a_tender", kind="find_a_tender", url=FEED_URLS["find_a_tender"]),
    FeedConfig(name="contracts_finder", kind="contracts_finder", url=FEED_URLS["contracts_finder"]),
)


@dataclass(frozen=True, repr=False)
class MatchingConfig(_Section):
    """``[matching]``: knobs on the matching engine; the defaults are the tuned ones."""

    min_score: int = 0
    fuzzy: bool = True
    synonyms: bool = True
    extra_synonyms: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    default_stages: tuple[str, ...] = ("planning", "tender")


@dataclass(frozen=True, repr=False)
class AlertsConfig(_Section):
    """``[alerts]``: when and how alerts go out (per-subscriber settings override some)."""

    quiet_hours: tuple[time, time] | None = (time(21, 0), time(7, 0))
    timezone: str = "Europe/London"
    digest_hour: int = 8
    weekly_day: str = "Mon"
    default_frequency: Frequency = "instant"
    group_within: timedelta = timedelta(minutes=1)
    closing_soon: timedelta = timedelta(days=7)
    remind_before: tuple[timedelta, ...] = (timedelta(days=3), timedelta(days=1))
    max_attempts: int = 8
    nudge: bool = True

    @property
    def weekly_weekday(self) -> int:
        """``weekly_day`` as ``datetime.weekday()`` numbers it (Monday = 0)."""
        return WEEKDAYS.index(self.weekly_day)


@dataclass(frozen=True, repr=False)
class RoutingConfig(_Section):
    """``[routing]``: enquiry SLAs and extra triage words."""

    ack_within: timedelta = timedelta(hours=4)
    reply_within: timedelta = timedelta(days=2)
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    topic_words: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )


def _new_secret_key() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, repr=False)
class Config(_Section):
    """The whole configuration. Build it with :func:`load_config`."""

    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    email: EmailConfig = field(default_factory=EmailConfig)
    web: WebConfig = field(default_factory=WebConfig)
    feeds: tuple[FeedConfig, ...] = DEFAULT_FEEDS
    matching: MatchingConfig = field(default_factory=MatchingConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    #: HMAC key for unsubscribe and deep-link tokens (``[web] secret_key``).
    secret_key: str = field(default_factory=_new_secret_key)
    #: True when no key was configured and a random one was made for this process.
    secret_key_generated: bool = field(default=False, compare=False)
    #: The file this was loaded from, or None for built-in defaults.
    source: str | None = field(default=None, compare=False)

    def redacted(self) -> dict[str, Any]:
        """The config as plain values with every secret masked: safe to log or print."""
        return self.to_dict(redact=True)

    def feed(self, name: str) -> FeedConfig:
        """The feed called ``name``; a :class:`UserError` listing the feeds if there is none."""
        for feed in self.feeds:
            if feed.name == name:
                return feed
        names = ", ".join(f.name for f in self.feeds) or "none"
        raise UserError(f"no feed named {json.dumps(name)} (configured feeds: {names})")


#: Keys each table accepts; the loader and the docs test share this.
SECTION_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "": (
            "database",
            "telegram",
            "email",
            "web",
            "feeds",
            "matching",
            "alerts",
            "routing",
        ),
        "database": ("url",),
        "telegram": ("token", "base_url", "base_file_url", "admin_ids", "bot_username"),
        "email": tuple(f.name for f in dataclasses.fields(EmailConfig)),
        "email.inbound": tuple(f.name for f in dataclasses.fields(InboundEmailConfig)),
        "web": ("host", "port", "public_url", "secret_key"),
        "feeds": tuple(f.name for f in dataclasses.fields(FeedConfig)),
        "matching": tuple(f.name for f in dataclasses.fields(MatchingConfig)),
        "alerts": tuple(f.name for f in dataclasses.fields(AlertsConfig)),
        "routing": tuple(f.name for f in dataclasses.fields(RoutingConfig)),
    }
)


# --------------------------------------------------------------------------- reading


def _show(value: Any) -> str:
    """A value as the user wrote it, short and on one line, for error messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return json.dumps(text, ensure_ascii=False)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, datetime | time):
        return f"{value.isoformat()} (a TOML date/time; quote it)"
    return type(value).__name__


def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {json.dumps(close[0])}?)" if close else ""


class _Table:
    """One TOML table being read: knows its key path and rejects unknown keys up front."""

    def __init__(self, data: Mapping[str, Any], path: str, allowed: Iterable[str]) -> None:
        self.data = data
        self.path = path
        allowed = tuple(allowed)
        for key in data:
            if key not in allowed:
                raise ConfigError(f"unknown key{_suggest(key, allowed)}", self.key(key))

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def has(self, name: str) -> bool:
        return name in self.data

    def fail(self, name: str, problem: str) -> ConfigError:
        return ConfigError(problem, self.key(name))

    def bad(self, name: str, value: Any, expected: str) -> ConfigError:
        return self.fail(name, f"{_show(value)} is not {expected}")

    def table(self, name: str, allowed: Iterable[str]) -> _Table | None:
        if name not in self.data:
            return None
        value = self.data[name]
        if not isinstance(value, dict):
            raise self.bad(name, value, f"a table ([{self.key(name)}])")
        return _Table(value, self.key(name), allowed)

    def string(self, name: str, default: str) -> str:
        value = self.data.get(name, default)
        if not isinstance(value, str) or not value.strip():
            raise self.bad(name, value, "a non-empty string")
        return value.strip()

    def opt_string(self, name: str, default: str | None = None) -> str | None:
        """An optional string; an empty string means "not set"."""
        value = self.data.get(name, default)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.bad(name, value, "a string")
        return value.strip() or None

    def boolean(self, name: str, default: bool) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            raise self.bad(name, value, "true or false")
        return value

    def integer(self, name: str, default: int, low: int, high: int, what: str = "") -> int:
        value = self.data.get(name, default)
        expected = what or f"a whole number from {low} to {high}"
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.bad(name, value, expected)
        return value

    def port(self, name: str, default: int, *, allow_zero: bool = False) -> int:
        low = 0 if allow_zero else 1
        return self.integer(name, default, low, 65535, f"a port number ({low}-65535)")

    def duration(self, name: str, default: timedelta, *, allow_zero: bool = False) -> timedelta:
        if name not in self.data:
            return default
        value = self.data[name]
        expected = 'a duration like "15m"'
        if not isinstance(value, str):
            raise self.bad(name, value, expected)
        if allow_zero and re.fullmatch(r"\s*0+\s*[wdhms]?\s*", value):
            return timedelta(0)
        try:
            return parse_duration(value)
        except ValueError:
            raise self.bad(name, value, expected) from None

    def choice(self, name: str, default: str, options: tuple[str, ...]) -> str:
        value = self.data.get(name, default)
        listed = ", ".join(json.dumps(o) for o in options)
        if not isinstance(value, str):
            raise self.bad(name, value, f"one of {listed}")
        if value not in options:
            raise self.fail(
                name, f"{_show(value)} is not one of {listed}{_suggest(value, options)}"
            )
        return value

    def url(self, name: str, default: str | None = None) -> str | None:
        value = self.opt_string(name, default)
        if value is None:
            return None
        if not _is_http_url(value):
            raise self.fail(
                name, f'{_show(redact_url(value))} is not a URL like "https://example.org/"'
            )
        return value.rstrip("/") if name == "public_url" else value

    def email_address(self, name: str, *, display_name: bool = False) -> str | None:
        value = self.opt_string(name)
        if value is None:
            return None
        address = email.utils.parseaddr(value)[1] if display_name else value
        if not _EMAIL.fullmatch(address) or (not display_name and address != value):
            raise self.bad(name, value, 'an email address like "alerts@example.org"')
        return value

    def timezone(self, name: str, default: str) -> str:
        value = self.string(name, default)
        try:
            return _check_timezone(value)
        except ValueError as exc:
            raise self.fail(name, str(exc)) from None

    def string_list(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        if name not in self.data:
            return default
        value = self.data[name]
        if not isinstance(value, list):
            raise self.bad(name, value, "a list of strings")
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise ConfigError(
                    f"{_show(item)} is not a non-empty string", f"{self.key(name)}[{i}]"
                )
        return tuple(item.strip() for item in value)

    def choice_list(
        self, name: str, default: tuple[str, ...], options: tuple[str, ...]
    ) -> tuple[str, ...]:
        values = self.string_list(name, default)
        listed = ", ".join(json.dumps(o) for o in options)
        for i, item in enumerate(values):
            if item not in options:
                raise ConfigError(
                    f"{_show(item)} is not one of {listed}{_suggest(item, options)}",
                    f"{self.key(name)}[{i}]",
                )
        return tuple(dict.fromkeys(values))

    def words_table(self, name: str, keys: tuple[str, ...] | None) -> Mapping[str, tuple[str, ...]]:
        """A table of ``key = ["word", ...]``; ``keys`` restricts the keys when given."""
        if name not in self.data:
            return MappingProxyType({})
        value = self.data[name]
        if not isinstance(value, dict):
            raise self.bad(name, value, f"a table ([{self.key(name)}])")
        inner = _Table(value, self.key(name), keys if keys is not None else value.keys())
        return MappingProxyType(
            {key: tuple(inner.string_list(key, ())) for key in value if inner.string_list(key, ())}
        )


_EMAIL = re.compile(
    r"[^@\s<>\"(),;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*"
)
_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]+")
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{2,31}")
_FEED_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_DB_SCHEME = re.compile(r"(sqlite|postgresql)(\+[a-z0-9_]+)?")


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        _ = parts.port
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https") and bool(parts.hostname) and not re.search(r"\s", value)
    )


def _env(env: Mapping[str, str], name: str) -> str | None:
    """An environment override; empty means unset (as docker-compose leaves it)."""
    value = env.get(name, "").strip()
    return value or None


# --------------------------------------------------------------------------- sections


def _database(t: _Table, env: Mapping[str, str]) -> DatabaseConfig:
    from_env = _env(env, ENV_DATABASE_URL)
    url = from_env if from_env is not None else t.string("url", DatabaseConfig.url)
    key = ENV_DATABASE_URL if from_env is not None else t.key("url")
    scheme, sep, rest = url.partition("://")
    if scheme in ("postgres",):  # what Heroku-style providers hand out
        scheme = "postgresql"
    if not sep or not rest or not _DB_SCHEME.fullmatch(scheme):
        raise ConfigError(
            f"{_show(redact_url(url))} is not a database URL like "
            '"sqlite:///bestbot.sqlite3" or "postgresql://user@host/dbname"',
            key,
        )
    return DatabaseConfig(url=f"{scheme}://{rest}")


def _telegram(t: _Table, env: Mapping[str, str]) -> TelegramConfig:
    from_env = _env(env, ENV_TELEGRAM_TOKEN)
    token = from_env if from_env is not None else t.opt_string("token")
    if token is not None and not _TOKEN.fullmatch(token):
        key = ENV_TELEGRAM_TOKEN if from_env is not None else t.key("token")
        raise ConfigError(
            'the value given is not a bot token like "123456789:AAE..." (from @BotFather)', key
        )
    admin_ids = t.data.get("admin_ids", [])
    if not isinstance(admin_ids, list):
        raise t.bad("admin_ids", admin_ids, "a list of Telegram user ids like [123456789]")
    for i, item in enumerate(admin_ids):
        if isinstance(item, bool) or not isinstance(item, int) or item <= 0:
            raise ConfigError(
                f"{_show(item)} is not a Telegram user id (a positive whole number)",
                f"{t.key('admin_ids')}[{i}]",
            )
    username = t.opt_string("bot_username")
    if username is not None:
        username = username.removeprefix("@")
        if not _USERNAME.fullmatch(username):
            raise t.bad("bot_username", username, 'a bot username like "BestProcurementBot"')
    return TelegramConfig(
        token=token,
        base_url=t.url("base_url"),
        base_file_url=t.url("base_file_url"),
        admin_ids=tuple(dict.fromkeys(admin_ids)),
        bot_username=username,
    )


def _inbound(t: _Table, env: Mapping[str, str]) -> InboundEmailConfig:
    if not t.has("host"):
        raise t.fail("host", "required in [email.inbound] (the IMAP server, e.g. imap.example.org)")
    ssl = t.boolean("ssl", True)
    from_env = _env(env, ENV_IMAP_PASSWORD)
    return InboundEmailConfig(
        host=t.string("host", ""),
        port=t.port("port", 993 if ssl else 143),
        username=t.opt_string("username"),
        password=from_env if from_env is not None else t.opt_string("password"),
        ssl=ssl,
        folder=t.string("folder", "INBOX"),
        every=t.duration("every", timedelta(minutes=2)),
        address=t.email_address("address"),
    )


def _email(t: _Table, env: Mapping[str, str]) -> EmailConfig:
    tls = t.boolean("tls", False)
    starttls = t.boolean("starttls", not tls)
    if tls and starttls:
        raise t.fail(
            "starttls",
            "cannot be true when email.tls is true (use tls = true for port 465, "
            "or starttls = true for port 587)",
        )
    from_address = t.email_address("from_address", display_name=True)
    smtp_host = t.opt_string("smtp_host")
    if smtp_host is not None and from_address is None:
        raise t.fail("from_address", "required when email.smtp_host is set")
    from_env = _env(env, ENV_SMTP_PASSWORD)
    inbound_table = t.table("inbound", SECTION_KEYS["email.inbound"])
    return EmailConfig(
        from_address=from_address,
        reply_to=t.email_address("reply_to", display_name=True),
        smtp_host=smtp_host,
        smtp_port=t.port("smtp_port", 465 if tls else 587),
        smtp_username=t.opt_string("smtp_username"),
        smtp_password=from_env if from_env is not None else t.opt_string("smtp_password"),
        starttls=starttls,
        tls=tls,
        timeout=t.duration("timeout", timedelta(seconds=30)),
        inbound=_inbound(inbound_table, env) if inbound_table is not None else None,
    )


def _web(t: _Table) -> WebConfig:
    return WebConfig(
        host=t.string("host", WebConfig.host),
        port=t.port("port", WebConfig.port, allow_zero=True),
        public_url=t.url("public_url"),
    )


def _secret_key(t: _Table, env: Mapping[str, str]) -> tuple[str, bool]:
    from_env = _env(env, ENV_SECRET_KEY)
    key = from_env if from_env is not None else t.opt_string("secret_key")
    if key is None:
        log.info(
            "no [web] secret_key or $%s: a random key is generated and kept in the database",
            ENV_SECRET_KEY,
        )
        return _new_secret_key(), True
    if len(key) < _MIN_SECRET_KEY:
        where = ENV_SECRET_KEY if from_env is not None else t.key("secret_key")
        raise ConfigError(
            f"too short: use at least {_MIN_SECRET_KEY} random characters, e.g. the output of "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'",
            where,
        )
    return key, False


def _feed(t: _Table, base_dir: Path) -> FeedConfig:
    if not t.has("kind"):
        raise t.fail("kind", "required: one of " + ", ".join(json.dumps(k) for k in FEED_KINDS))
    kind = cast(FeedKind, t.choice("kind", "", FEED_KINDS))
    name = t.string("name", kind)
    if not _FEED_NAME.fullmatch(name):
        raise t.bad("name", name, "a feed name of letters, digits, '-', '_' or '.'")
    url: str | None = None
    path: str | None = None
    if kind == "file":
        if t.has("url"):
            raise t.fail("url", 'a file feed reads "path", not "url"')
        path = t.opt_string("path")
        if path is None:
            raise t.fail("path", "required for a file feed (the file to read)")
        resolved = Path(path).expanduser()
        path = str(resolved if resolved.is_absolute() else base_dir / resolved)
    else:
        if t.has("path"):
            raise t.fail("path", f'only file feeds take a path; a {kind} feed takes "url"')
        url = t.url("url", FEED_URLS[kind])
    if t.has("stages") and kind != "contracts_finder":
        raise t.fail("stages", "only contracts_finder feeds take stages")
    every = t.duration("every", FeedConfig.every)
    jitter = t.duration("jitter", FeedConfig.jitter, allow_zero=True)
    if jitter >= every:
        raise t.fail(
            "jitter",
            f'"{format_duration(jitter)}" must be shorter than every ("{format_duration(every)}")',
        )
    return FeedConfig(
        name=name,
        kind=kind,
        url=url,
        path=path,
        every=every,
        lookback=t.duration("lookback", FeedConfig.lookback),
        jitter=jitter,
        stages=t.choice_list("stages", (), CF_STAGES),
        enabled=t.boolean("enabled", True),
    )


def _feeds(root: _Table, base_dir: Path) -> tuple[FeedConfig, ...]:
    if not root.has("feeds"):
        return DEFAULT_FEEDS
    entries = root.data["feeds"]
    if not isinstance(entries, list):
        raise root.bad("feeds", entries, "a list of [[feeds]] tables")
    feeds: list[FeedConfig] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        key = f"feeds[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{_show(entry)} is not a [[feeds]] table", key)
        feed = _feed(_Table(entry, key, SECTION_KEYS["feeds"]), base_dir)
        if feed.name in seen:
            raise ConfigError(
                f"{json.dumps(feed.name)} is already used by feeds[{seen[feed.name]}]; "
                "feed names must be unique",
                f"{key}.name",
            )
        seen[feed.name] = i
        feeds.append(feed)
    return tuple(feeds)


def _matching(t: _Table) -> MatchingConfig:
    return MatchingConfig(
        min_score=t.integer("min_score", MatchingConfig.min_score, 0, 100),
        fuzzy=t.boolean("fuzzy", MatchingConfig.fuzzy),
        synonyms=t.boolean("synonyms", MatchingConfig.synonyms),
        extra_synonyms=t.words_table("extra_synonyms", None),
        default_stages=t.choice_list(
            "default_stages", MatchingConfig.default_stages, NOTICE_STAGES
        ),
    )


def _alerts(t: _Table) -> AlertsConfig:
    quiet: tuple[time, time] | None = AlertsConfig.quiet_hours
    if t.has("quiet_hours"):
        value = t.data["quiet_hours"]
        expected = 'quiet hours like "21:00-07:00" or "off"'
        if value is False or (isinstance(value, str) and value.strip().lower() == "off"):
            quiet = None
        elif not isinstance(value, str):
            raise t.bad("quiet_hours", value, expected)
        else:
            try:
                quiet = parse_time_window(value)
            except ValueError:
                raise t.bad("quiet_hours", value, expected) from None
    weekly = t.data.get("weekly_day", AlertsConfig.weekly_day)
    try:
        weekly_day = WEEKDAYS[_day_index(weekly)] if isinstance(weekly, str) else None
    except ValueError:
        weekly_day = None
    if weekly_day is None:
        raise t.bad("weekly_day", weekly, 'a day like "Mon"')
    remind = t.string_list("remind_before", ())
    reminders: list[timedelta] = []
    for i, item in enumerate(remind):
        try:
            reminders.append(parse_duration(item))
        except ValueError:
            raise ConfigError(
                f'{_show(item)} is not a duration like "3d"', f"{t.key('remind_before')}[{i}]"
            ) from None
    return AlertsConfig(
        quiet_hours=quiet,
        timezone=t.timezone("timezone", AlertsConfig.timezone),
        digest_hour=t.integer(
            "digest_hour", AlertsConfig.digest_hour, 0, 23, "an hour of the day (0-23)"
        ),
        weekly_day=weekly_day,
        default_frequency=cast(
            Frequency, t.choice("default_frequency", AlertsConfig.default_frequency, FREQUENCIES)
        ),
        group_within=t.duration("group_within", AlertsConfig.group_within, allow_zero=True),
        closing_soon=t.duration("closing_soon", AlertsConfig.closing_soon),
        remind_before=(
            tuple(sorted(set(reminders), reverse=True))
            if t.has("remind_before")
            else AlertsConfig.remind_before
        ),
        max_attempts=t.integer("max_attempts", AlertsConfig.max_attempts, 1, 100),
        nudge=t.boolean("nudge", AlertsConfig.nudge),
    )


def _routing(t: _Table, timezone: str) -> RoutingConfig:
    hours = WorkingHours(timezone=timezone)
    if t.has("working_hours"):
        value = t.data["working_hours"]
        try:
            hours = WorkingHours.parse(value, default_timezone=timezone)
        except ValueError as exc:
            if not isinstance(value, str):
                raise t.bad("working_hours", value, WorkingHours.HINT) from None
            raise t.fail("working_hours", str(exc)) from None
    return RoutingConfig(
        ack_within=t.duration("ack_within", RoutingConfig.ack_within),
        reply_within=t.duration("reply_within", RoutingConfig.reply_within),
        working_hours=hours,
        topic_words=t.words_table("topic_words", TOPICS),
    )


def _section(root: _Table, name: str) -> _Table:
    table = root.table(name, SECTION_KEYS[name])
    return table if table is not None else _Table({}, name, ())


def config_from_dict(
    data: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    source: str | None = None,
) -> Config:
    """Validate already-parsed TOML data (handy in tests); see :func:`load_config`.

    ``env`` defaults to ``os.environ``; relative file-feed paths resolve against
    ``base_dir`` (default: the working directory).
    """
    env = os.environ if env is None else env
    root = _Table(data, "", SECTION_KEYS[""])
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    web = _section(root, "web")
    alerts = _alerts(_section(root, "alerts"))
    key, generated = _secret_key(web, env)
    return Config(
        database=_database(_section(root, "database"), env),
        telegram=_telegram(_section(root, "telegram"), env),
        email=_email(_section(root, "email"), env),
        web=_web(web),
        feeds=_feeds(root, base),
        matching=_matching(_section(root, "matching")),
        alerts=alerts,
        routing=_routing(_section(root, "routing"), alerts.timezone),
        secret_key=key,
        secret_key_generated=generated,
        source=source,
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a TOML file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}: line {line}: not UTF-8 text") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", message, re.S)
        if match:
            where = f"line {match.group(2)}, column {match.group(3)}"
            message = match.group(1)
        else:
            where = "end of file"
            message = message.replace(" (at end of document)", "")
        message = message[:1].lower() + message[1:]
        raise ConfigError(f"{path}: {where}: invalid TOML: {message}") from None


def load_config(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Config:
    """Load and validate the config; raise :class:`ConfigError` (one line) if anything is wrong.

    ``path`` None means ``$BESTBOT_CONFIG``, else ``./bestbot.toml`` if it
    exists, else the built-in defaults. A path given explicitly (or by the
    environment variable) must exist. ``env`` defaults to ``os.environ``.
    """
    env = os.environ if env is None else env
    chosen: Path | None = None
    if path is not None:
        chosen = Path(path)
    elif _env(env, ENV_CONFIG) is not None:
        chosen = Path(cast(str, _env(env, ENV_CONFIG)))
    elif Path(DEFAULT_CONFIG_FILE).is_file():
        chosen = Path(DEFAULT_CONFIG_FILE)
    if chosen is None:
        return config_from_dict({}, env)
    chosen = chosen.expanduser()
    data = _read_toml(chosen)
    return config_from_dict(data, env, base_dir=chosen.resolve().parent, source=str(chosen))
