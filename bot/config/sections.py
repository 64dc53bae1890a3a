"""The config's tables (``[database]``, ``[telegram]``, ``[email]``...): frozen pydantic models.

Each model declares its keys with their types and defaults, so an unknown key is an
error and a value is checked as it is read. Two rules shape the validators:

* **A default fits what the user set.** Where a sensible default depends on another
  key (``tls`` on ``smtp_port = 465``, the IMAP ``port`` on ``ssl``), it is derived
  from what was written rather than fixed, so leaving a key out never produces a
  refusal about a key the user did not write.
* **Only a written value is refused**, and the message names it. Validators that
  compare keys look at ``model_fields_set`` (what was written, or passed in code).

Derived defaults are filled in by each model's own after-validator with
:func:`fill`, once, before the instance is returned to anyone.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Mapping
from datetime import time, timedelta
from types import MappingProxyType
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    model_validator,
)

from bot.config.errors import problem, show, suggest
from bot.config.hours import WorkingHours
from bot.config.redaction import MASK, Secret, SecretURL, redact_url
from bot.config.values import (
    Duration,
    DurationOrZero,
    Flag,
    Hour,
    OptionalEmailAddress,
    OptionalHttpUrl,
    OptionalMailbox,
    OptionalText,
    Port,
    PortOrZero,
    Size,
    Text,
    Timezone,
    Weekday,
    dedupe,
    duration,
    optional,
    whole,
)
from bot.config.vocabulary import (
    TOPICS,
    Frequency,
    NoticeKind,
    NoticeStage,
    ReportRecipients,
    TelegramMode,
)
from bot.durations import (
    format_clock,
    format_duration,
    format_time_window,
    parse_time_window,
)
from matchers.regions import NUTS_NAMES, name_of, to_code

__all__ = [
    "AlertTypes",
    "AlertsConfig",
    "BrandConfig",
    "DatabaseConfig",
    "EmailConfig",
    "InboundEmailConfig",
    "MatchingConfig",
    "ReportsConfig",
    "RoutingConfig",
    "Section",
    "TelegramConfig",
    "WebConfig",
    "WebSettings",
    "fill",
]


def fill(model: BaseModel, **values: Any) -> None:
    """Set derived defaults on a frozen model from inside its own after-validator.

    Frozen models refuse assignment; this runs while the model is being built, before
    any other code holds it, so the values are as fixed as the rest. Keys set this
    way stay out of ``model_fields_set``: they were not written.
    """
    for name, value in values.items():
        object.__setattr__(model, name, value)


def written(model: BaseModel, name: str) -> bool:
    """Whether ``name`` was given (in the file, the environment, or in code)."""
    return name in model.model_fields_set


def _plain(name: str, value: Any, redact: bool) -> Any:
    """A JSON-friendly view of a config value, with secrets masked when ``redact``."""
    if isinstance(value, Secret):
        return MASK if redact else str(value)
    if isinstance(value, SecretURL):
        return redact_url(str(value)) if redact else str(value)
    if name == "quiet_hours":
        return "off" if value is None else format_time_window(value)
    if isinstance(value, Section):
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


class Section(BaseModel):
    """Shared behaviour of the tables: frozen, unknown keys refused, a plain dict view."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    def to_dict(self, *, redact: bool = True) -> dict[str, Any]:
        """The table as JSON-friendly values; secrets masked unless ``redact=False``."""
        return {name: _plain(name, getattr(self, name), redact) for name in type(self).model_fields}


def _secret(check: Any = None) -> Any:
    """A before-validator for a secret: a string, stripped, checked without echoing it."""

    def run(value: Any) -> Secret:
        if not isinstance(value, str):
            raise problem("the value given is not a string")
        text = value.strip()
        if check is not None:
            check(text)
        return Secret(text)

    return BeforeValidator(optional(run))


# --------------------------------------------------------------------------- [database]

_DB_SCHEME = re.compile(r"(sqlite|postgresql)(\+[a-z0-9_]+)?")
_DB_HINT = 'a database URL like "sqlite:///bestbot.sqlite3" or "postgresql://user@host/dbname"'


def _database_url(value: Any) -> SecretURL:
    if not isinstance(value, str) or not value.strip():
        raise problem(f"{show(value)} is not {_DB_HINT}")
    url = value.strip()
    scheme, sep, rest = url.partition("://")
    if scheme == "postgres":  # what Heroku-style providers hand out
        scheme = "postgresql"
    if not sep or not rest or not _DB_SCHEME.fullmatch(scheme):
        raise problem(f"{show(redact_url(url))} is not {_DB_HINT}")
    return SecretURL(f"{scheme}://{rest}")


#: A claim shorter than this could run out during one send (its timeout, a 429's wait).
MIN_CLAIM_LEASE = timedelta(seconds=10)


def _claim_lease(value: timedelta) -> timedelta:
    if value < MIN_CLAIM_LEASE:
        raise problem(
            f'"{int(value.total_seconds())}s" is too short: a claim must outlast one send, '
            f'so at least "{int(MIN_CLAIM_LEASE.total_seconds())}s"'
        )
    return value


class DatabaseConfig(Section):
    """``[database]``: where notices, subscribers and the outbox live."""

    url: Annotated[SecretURL, BeforeValidator(_database_url)] = SecretURL(
        "sqlite:///bestbot.sqlite3"
    )
    #: How long a worker's claim on an outbox row or a webhook update lasts. A worker that
    #: dies (``kill -9``, a lost machine) leaves its claims to run out; then another worker
    #: takes the work over. Every send renews its own claim first.
    claim_lease: Annotated[Duration, AfterValidator(_claim_lease)] = timedelta(minutes=2)


# --------------------------------------------------------------------------- [telegram]

_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]+")
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{2,31}")
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_URL_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")
_USER_ID = whole(1, 2**63 - 1, "a Telegram user id (a positive whole number)")


def _check_token(text: str) -> None:
    if not _TOKEN.fullmatch(text):
        raise problem(
            'the value given is not a bot token like "123456789:AAE..." (from @BotFather)'
        )


def _check_webhook_secret(text: str) -> None:
    """Telegram's rule for ``secret_token``, explained without echoing the secret."""
    if _WEBHOOK_SECRET.fullmatch(text):
        return
    rule = "1-256 characters, each A-Z, a-z, 0-9, _ or - (Telegram's rule)"
    if len(text) > 256:
        raise problem(f"must be {rule}; the value given has {len(text)} characters")
    if any(c.isspace() for c in text):
        raise problem(f"must be {rule}; the value given has a space in it")
    raise problem(f"must be {rule}; the value given has another character in it")


def _username(value: Any) -> str:
    if not isinstance(value, str):
        raise problem(f'{show(value)} is not a bot username like "BestProcurementBot"')
    name = value.strip().removeprefix("@")
    if not _USERNAME.fullmatch(name):
        raise problem(f'{show(value)} is not a bot username like "BestProcurementBot"')
    return name


def _admin_ids(value: Any) -> Any:
    if not isinstance(value, list | tuple):
        raise problem(f"{show(value)} is not a list of Telegram user ids like [123456789]")
    return value


def _webhook_path(value: Any) -> str:
    if not isinstance(value, str) or not _URL_PATH.fullmatch(value.strip()):
        raise problem(f'{show(value)} is not a URL path like "/telegram/webhook"')
    return value.strip()


class TelegramConfig(Section):
    """``[telegram]``: the bot. No token means Telegram is off (email-only)."""

    token: Annotated[Secret | None, _secret(_check_token)] = None
    base_url: OptionalHttpUrl = None
    base_file_url: OptionalHttpUrl = None
    admin_ids: Annotated[
        tuple[Annotated[int, _USER_ID], ...], BeforeValidator(_admin_ids), AfterValidator(dedupe)
    ] = ()
    bot_username: Annotated[str | None, BeforeValidator(optional(_username))] = None
    #: ``polling`` (getUpdates; one process per token) or ``webhook`` (Telegram posts to us).
    mode: TelegramMode = "polling"
    webhook_secret: Annotated[Secret | None, _secret(_check_webhook_secret)] = None
    webhook_path: Annotated[str, BeforeValidator(_webhook_path)] = "/telegram/webhook"
    webhook_max_connections: Annotated[int, whole(1, 100)] = 40
    #: Messages per second across every worker (Telegram allows about 30; just under it, a
    #: little jitter trips no 429s). Higher only for a local Bot API server or a benchmark.
    send_rate: Annotated[int, whole(1, 1000)] = 29
    #: Where Telegram posts updates; filled from ``[web] public_url`` + ``webhook_path``.
    webhook_url: OptionalHttpUrl = None

    @property
    def enabled(self) -> bool:
        return self.token is not None

    @property
    def webhook(self) -> bool:
        """Whether updates arrive by webhook (else by long polling)."""
        return self.mode == "webhook"

    @model_validator(mode="after")
    def _webhook_needs_a_secret(self) -> Self:
        if self.mode == "webhook" and self.webhook_secret is None:
            raise problem(
                'required when telegram.mode is "webhook": 1-256 characters of A-Z, a-z, 0-9,'
                " _ and - (or set BESTBOT_WEBHOOK_SECRET)",
                at="webhook_secret",
            )
        return self


# --------------------------------------------------------------------------- [email]

_DNS_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_SELECTOR = re.compile(rf"{_DNS_LABEL}(?:\.{_DNS_LABEL})*")
_DOMAIN = re.compile(rf"{_DNS_LABEL}(?:\.{_DNS_LABEL})+")
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LIST_ID = re.compile(rf"(?:(?P<phrase>[^<>\r\n]*?)\s*)?<?(?P<id>{_ATEXT}(?:\.{_ATEXT})+)>?")
_FEEDBACK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def _pattern(regex: re.Pattern[str], expected: str) -> BeforeValidator:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not regex.fullmatch(value.strip()):
            raise problem(f"{show(value)} is not {expected}")
        return value.strip()

    return BeforeValidator(optional(check))


def _list_id(value: Any) -> str:
    """``"Name <label.example.org>"``, ``"<label.example.org>"`` or a bare dotted id."""
    expected = 'a List-Id like "SEEM contract alerts <alerts.seem.example>"'
    text = value.strip() if isinstance(value, str) else None
    match = _LIST_ID.fullmatch(text) if text else None
    if text is None or match is None or text.count("<") != text.count(">"):
        raise problem(f"{show(value)} is not {expected}")
    phrase = (match.group("phrase") or "").strip()
    return f"{phrase} <{match.group('id')}>" if phrase else f"<{match.group('id')}>"


def default_list_id(brand: str, from_address: str | None) -> str | None:
    """``"<brand> <local.domain>"`` from the From address, as RFC 2919 suggests."""
    address = email.utils.parseaddr(from_address)[1] if from_address else ""
    local, _, domain = address.rpartition("@")
    if not local or not domain:
        return None
    label = re.sub(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~-]", "-", local)
    return f"{brand} <{label}.{domain.lower()}>"


def _pem(text: str) -> None:
    if "-----BEGIN" not in text or "PRIVATE KEY-----" not in text:
        raise problem("the value given is not a PEM private key (-----BEGIN PRIVATE KEY----- ...)")


def _pem_key(value: Any) -> Secret | None:
    """A PEM key; ``\\n`` written literally (as environment files force) means a newline."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise problem("the value given is not a string")
    text = value.replace("\\n", "\n").strip()
    _pem(text)
    return Secret(text + "\n")


class InboundEmailConfig(Section):
    """``[email.inbound]``: the IMAP mailbox enquiries arrive in."""

    host: Text
    #: Default 993, or 143 when ``ssl = false``.
    port: Port = 993
    username: OptionalText = None
    password: Annotated[Secret | None, _secret()] = None
    #: Default true, or false when ``port = 143`` (plain IMAP).
    ssl: Flag = True
    folder: Text = "INBOX"
    every: Duration = timedelta(minutes=2)
    address: OptionalEmailAddress = None
    #: The authserv-id our mail server writes in ``Authentication-Results``; only its
    #: verdicts are believed. None: no mail is taken to come from an adviser's domain.
    authserv_id: OptionalText = None

    @model_validator(mode="before")
    @classmethod
    def _host_is_required(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "host" not in data:
            raise problem(
                "required in [email.inbound] (the IMAP server, e.g. imap.example.org)", at="host"
            )
        return data

    @model_validator(mode="after")
    def _derive(self) -> Self:
        if not written(self, "ssl"):
            fill(self, ssl=not (written(self, "port") and self.port == 143))
        if not written(self, "port"):
            fill(self, port=993 if self.ssl else 143)
        return self


class EmailConfig(Section):
    """``[email]``: outgoing mail over SMTP. No ``smtp_host`` means email is off."""

    from_address: OptionalMailbox = None
    reply_to: OptionalMailbox = None
    smtp_host: OptionalText = None
    #: Default 587, or 465 when ``tls = true``.
    smtp_port: Port = 587
    smtp_username: OptionalText = None
    smtp_password: Annotated[Secret | None, _secret()] = None
    #: Default: ``not tls``.
    starttls: Flag = True
    #: Default false, or true when ``smtp_port = 465`` (implicit TLS).
    tls: Flag = False
    timeout: Duration = timedelta(seconds=30)
    #: RFC 2919 List-Id; default ``"<brand> <local.domain>"`` from ``from_address``.
    list_id: Annotated[str | None, BeforeValidator(optional(_list_id))] = None
    #: VERP base for bounces: ``bounces@example.org`` -> ``bounces+TAG@example.org``.
    bounce_address: OptionalEmailAddress = None
    dkim_selector: Annotated[str | None, _pattern(_SELECTOR, 'a DNS selector like "bestbot"')] = (
        None
    )
    #: Default: the domain of ``from_address``.
    dkim_domain: Annotated[str | None, _pattern(_DOMAIN, 'a domain like "example.org"')] = None
    dkim_key_path: OptionalText = None
    dkim_key: Annotated[Secret | None, BeforeValidator(_pem_key)] = None
    feedback_id_prefix: Annotated[
        str | None,
        _pattern(_FEEDBACK_ID, 'a Feedback-ID prefix like "seem" (letters, digits, . _ : -)'),
    ] = None
    inbound: InboundEmailConfig | None = None

    @property
    def enabled(self) -> bool:
        return self.smtp_host is not None

    @property
    def from_email(self) -> str | None:
        """The bare address of ``from_address`` (which may be ``"Name <addr>"``)."""
        return email.utils.parseaddr(self.from_address)[1] if self.from_address else None

    @property
    def dkim_enabled(self) -> bool:
        """Whether outgoing mail is DKIM-signed (a selector, a domain and a key)."""
        return bool(self.dkim_selector and self.dkim_domain and self.dkim_key)

    @model_validator(mode="after")
    def _derive(self) -> Self:
        self._derive_tls()
        if self.smtp_host is not None and self.from_address is None:
            raise problem("required when email.smtp_host is set", at="from_address")
        if self.dkim_domain is None and self.from_email:
            fill(self, dkim_domain=self.from_email.rpartition("@")[2].lower())
        return self

    def _derive_tls(self) -> None:
        """Port 465 means TLS from the start, 587 STARTTLS: each default follows the others."""
        if not written(self, "tls"):
            implicit = written(self, "smtp_port") and self.smtp_port == 465
            fill(self, tls=implicit and not (written(self, "starttls") and self.starttls))
        if not written(self, "starttls"):
            fill(self, starttls=not self.tls)
        elif self.tls and self.starttls:
            raise problem(
                "cannot be true when email.tls is true (use tls = true for port 465, "
                "or starttls = true for port 587)",
                at="starttls",
            )
        if not written(self, "smtp_port"):
            fill(self, smtp_port=465 if self.tls else 587)


# --------------------------------------------------------------------------- [web]


def _public_url(value: Any) -> Any:
    return value.strip().rstrip("/") if isinstance(value, str) else value


_MIN_SECRET_KEY = 16


def _check_secret_key(text: str) -> None:
    if len(text) < _MIN_SECRET_KEY:
        raise problem(
            f"too short: use at least {_MIN_SECRET_KEY} random characters, e.g. the output of "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )


class WebConfig(Section):
    """``[web]``: bestbot's small HTTP server (unsubscribe, health, Telegram webhook)."""

    host: Text = "127.0.0.1"
    port: PortOrZero = 8080
    public_url: Annotated[OptionalHttpUrl, AfterValidator(_public_url)] = None
    #: The largest request body accepted (Telegram updates, unsubscribe forms).
    max_body: Size = 1024**2

    @property
    def base_url(self) -> str:
        """The URL people reach the server at: ``public_url``, else ``http://host:port``."""
        if self.public_url:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


class WebSettings(WebConfig):
    """``[web]`` as written: also ``secret_key``, which :class:`Config` holds at its root."""

    secret_key: Annotated[Secret | None, _secret(_check_secret_key)] = None


# --------------------------------------------------------------------------- [brand]

_BRAND = re.compile(r"[^<>\"\\\x00-\x1f\x7f]{1,64}")


def _brand_name(value: Any) -> str:
    if not isinstance(value, str) or not _BRAND.fullmatch(value.strip()):
        raise problem(f'{show(value)} is not a name of 1-64 characters without <, > or "')
    return value.strip()


_BRAND_SUFFIX = re.compile(r"\s+(?:contract\s+|opportunity\s+|tender\s+)?alerts?$", re.I)


def short_brand(name: str) -> str:
    """``"SEEM contract alerts"`` -> ``"SEEM"``: the name without a trailing "alerts"."""
    short = _BRAND_SUFFIX.sub("", name.strip()).strip()
    return short or name.strip()


class BrandConfig(Section):
    """``[brand]``: the one name bestbot goes by in messages, emails and reports."""

    name: Annotated[str, BeforeValidator(_brand_name)] = "SEEM contract alerts"
    #: In email subjects ("SEEM alert: ..."); default: ``name`` without a trailing "alerts".
    short_name: Annotated[str, BeforeValidator(_brand_name)] = "SEEM"

    @model_validator(mode="after")
    def _derive(self) -> Self:
        if not written(self, "short_name"):
            fill(self, short_name=short_brand(self.name))
        return self


# --------------------------------------------------------------------------- [matching]


class MatchingConfig(Section):
    """``[matching]``: what the matcher assumes when a profile does not say."""

    default_stages: Annotated[tuple[NoticeStage, ...], AfterValidator(dedupe)] = (
        "planning",
        "tender",
    )


# --------------------------------------------------------------------------- [alerts]

_QUIET_HINT = 'quiet hours like "21:00-07:00" or "off"'


def _quiet_hours(value: Any) -> tuple[time, time] | None:
    if value is None or value is False:
        return None
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, time) for v in value):
        return value
    if not isinstance(value, str):
        raise problem(f"{show(value)} is not {_QUIET_HINT}")
    if value.strip().lower() == "off":
        return None
    try:
        return parse_time_window(value)
    except ValueError:
        raise problem(f"{show(value)} is not {_QUIET_HINT}") from None


def _reminders(values: tuple[timedelta, ...]) -> tuple[timedelta, ...]:
    return tuple(sorted(set(values), reverse=True))


DEFAULT_INSTANT: tuple[NoticeKind, ...] = ("tender", "engagement", "dm_intention", "dm_established")
DEFAULT_DIGEST: tuple[NoticeKind, ...] = ("pipeline", "planned", "dm_modified")


class AlertTypes(Section):
    """``[alerts.types]``: which notice kinds new subscribers get, and how.

    A kind in ``instant`` is alerted as it arrives (subject to quiet hours), one in
    ``digest`` waits for the subscriber's digest; a kind in neither is off until the
    subscriber turns it on (``/types``). Kinds: see :data:`NOTICE_KINDS`.
    """

    instant: Annotated[tuple[NoticeKind, ...], AfterValidator(dedupe)] = DEFAULT_INSTANT
    digest: Annotated[tuple[NoticeKind, ...], AfterValidator(dedupe)] = DEFAULT_DIGEST

    @model_validator(mode="after")
    def _derive(self) -> Self:
        """A kind moved to one list leaves the other's default; written lists must not overlap."""
        if written(self, "instant") and not written(self, "digest"):
            fill(self, digest=tuple(k for k in DEFAULT_DIGEST if k not in self.instant))
        elif written(self, "digest") and not written(self, "instant"):
            fill(self, instant=tuple(k for k in DEFAULT_INSTANT if k not in self.digest))
        for i, kind in enumerate(self.digest):
            if kind in self.instant:
                raise problem(
                    f"{show(kind)} is also in alerts.types.instant; a kind is sent one way",
                    at=f"digest[{i}]",
                )
        return self


class AlertsConfig(Section):
    """``[alerts]``: when and how alerts go out; the per-subscriber ones are defaults."""

    #: Instant alerts found in these hours wait until they end; None is "off".
    quiet_hours: Annotated[tuple[time, time] | None, BeforeValidator(_quiet_hours)] = (
        time(21, 0),
        time(7, 0),
    )
    timezone: Timezone = "Europe/London"
    #: The hour digests go out, for new subscribers (each may change it).
    digest_hour: Hour = 8
    #: The day weekly digests go out, for new subscribers: 0 = Monday ... 6 = Sunday.
    weekly_day: Weekday = 0
    #: How often new subscribers hear: "instant", "daily" or "weekly".
    default_frequency: Frequency = "instant"
    group_within: DurationOrZero = timedelta(minutes=1)
    #: A notice whose deadline is this close is "closing soon".
    closing_soon: Duration = timedelta(days=7)
    remind_before: Annotated[
        tuple[Annotated[timedelta, duration(example="3d")], ...], AfterValidator(_reminders)
    ] = (timedelta(days=3), timedelta(days=1))
    max_attempts: Annotated[int, whole(1, 100)] = 8
    nudge: Flag = True
    #: Open notices offered right after sign-up or a keyword change go out this long after
    #: the offer, so "Don't send them" can still withdraw them; "0s" sends at once.
    backfill_delay: DurationOrZero = timedelta(minutes=1)
    types: AlertTypes = Field(default_factory=AlertTypes)


# --------------------------------------------------------------------------- [routing]


def _working_hours(value: Any) -> WorkingHours:
    if isinstance(value, WorkingHours):
        return value
    if not isinstance(value, str):
        raise problem(f"{show(value)} is not {WorkingHours.HINT}")
    try:
        return WorkingHours.parse(value)
    except ValueError as exc:
        raise problem(str(exc)) from None


def _topic_words(value: Any) -> Any:
    if not isinstance(value, Mapping):
        raise problem(f"{show(value)} is not a table ([routing.topic_words])")
    for key, words in value.items():
        if key not in TOPICS:
            raise problem("unknown key" + suggest(str(key), TOPICS), at=(str(key),))
        if not isinstance(words, list | tuple):
            raise problem(f"{show(words)} is not a list of strings", at=(str(key),))
    return value


def _freeze_words(value: Mapping[str, tuple[str, ...]]) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({k: tuple(v) for k, v in value.items() if v})


def _thaw_words(value: Mapping[str, tuple[str, ...]]) -> dict[str, list[str]]:
    return {k: list(v) for k, v in value.items()}


class RoutingConfig(Section):
    """``[routing]``: enquiry SLAs in working time, and extra triage words."""

    ack_within: Duration = timedelta(hours=4)
    reply_within: Duration = timedelta(days=2)
    #: In ``[alerts] timezone`` unless the text names its own.
    working_hours: Annotated[WorkingHours, PlainValidator(_working_hours), PlainSerializer(str)] = (
        WorkingHours()
    )
    topic_words: Annotated[
        Mapping[str, tuple[Text, ...]],
        BeforeValidator(_topic_words),
        AfterValidator(_freeze_words),
        PlainSerializer(_thaw_words),
    ] = Field(default_factory=lambda: MappingProxyType({}))


# --------------------------------------------------------------------------- [reports]


def _region(value: Any) -> str:
    expected = 'a region like "UKF" or "East Midlands"'
    code = to_code(value) if isinstance(value, str) and value.strip() else None
    if code is None or (code not in ("UK", "ENG") and code[:3] not in NUTS_NAMES):
        names = sorted(set(NUTS_NAMES.values()))
        hint = suggest(value, names) if isinstance(value, str) else ""
        raise problem(f"{show(value)} is not {expected}{hint}")
    return code


class ReportsConfig(Section):
    """``[reports]``: the weekly market report to SEEM."""

    enabled: Flag = True
    #: 0 = Monday ... 6 = Sunday.
    weekly_day: Weekday = 0
    hour: Hour = 8
    #: How far ahead the pipeline section looks.
    horizon: Duration = timedelta(days=548)
    #: "Closing soon": deadlines this close to the report's end.
    closing_within: Duration = timedelta(days=14)
    #: Weekly digests end with contracts in the subscriber's trade and region that end
    #: in 6-12 months ("coming up for re-tender", labelled as a forecast).
    retender: Flag = True
    #: A NUTS code (names are read as their code: "East Midlands" -> "UKF").
    region: Annotated[str, BeforeValidator(_region)] = "UKF"
    recipients: ReportRecipients = "both"

    @property
    def region_name(self) -> str:
        """``"UKF"`` -> ``"East Midlands"``."""
        return name_of(self.region)

    @property
    def to_advisers(self) -> bool:
        return self.recipients in ("advisers", "both")

    @property
    def to_admins(self) -> bool:
        return self.recipients in ("admins", "both")
