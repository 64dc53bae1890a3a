""":class:`Config`: the resolved configuration the rest of bestbot reads.

It is the validated :class:`~bot.config.settings.Settings` plus what only loading can
settle: the secret key in use (configured, or generated and flagged so the service
can keep one in the database), file paths made absolute, where the config came
from, and the warnings to log at start.

It is a frozen dataclass rather than a pydantic model because callers derive
variants of it with :func:`dataclasses.replace` (``bot/app.py`` swaps in the stored
secret key); its tables are the frozen pydantic models of :mod:`bot.config.sections`.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field, fields, replace
from typing import Any

from bot.config.feeds import DEFAULT_FEEDS, FeedConfig
from bot.config.redaction import MASK, Secret
from bot.config.sections import (
    AlertsConfig,
    BrandConfig,
    DatabaseConfig,
    EmailConfig,
    MatchingConfig,
    ReportsConfig,
    RoutingConfig,
    Section,
    TelegramConfig,
    WebConfig,
)
from bot.errors import UserError

__all__ = ["Config", "new_secret_key"]


def new_secret_key() -> str:
    """A random HMAC key, for when none is configured."""
    return secrets.token_urlsafe(32)


#: Fields that say where a Config came from rather than what it configures.
_PROVENANCE = frozenset({"secret_key_generated", "source", "warnings"})


@dataclass(frozen=True)
class Config:
    """The whole configuration. Build it with :func:`bot.config.load_config`."""

    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    email: EmailConfig = field(default_factory=EmailConfig)
    web: WebConfig = field(default_factory=WebConfig)
    feeds: tuple[FeedConfig, ...] = DEFAULT_FEEDS
    matching: MatchingConfig = field(default_factory=MatchingConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    brand: BrandConfig = field(default_factory=BrandConfig)
    reports: ReportsConfig = field(default_factory=ReportsConfig)
    #: HMAC key for unsubscribe and deep-link tokens (``[web] secret_key``).
    secret_key: str = field(default_factory=new_secret_key)
    #: True when no key was configured and a random one was made for this process.
    secret_key_generated: bool = field(default=False, compare=False)
    #: The file this was loaded from, or None for built-in defaults.
    source: str | None = field(default=None, compare=False)
    #: Things the service should log at start: keys no longer used, ignored variables.
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        # A key swapped in later (dataclasses.replace) must stay masked in repr too.
        if not isinstance(self.secret_key, Secret):
            object.__setattr__(self, "secret_key", Secret(self.secret_key))

    def with_secret_key(self, key: str) -> Config:
        """This config using ``key`` (e.g. the one kept in the database) as its secret key."""
        return replace(self, secret_key=key, secret_key_generated=False)

    def to_dict(self, *, redact: bool = True) -> dict[str, Any]:
        """The config as plain JSON-friendly values; secrets masked unless ``redact=False``."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in _PROVENANCE:
                continue
            value = getattr(self, f.name)
            if isinstance(value, Section):
                out[f.name] = value.to_dict(redact=redact)
            elif isinstance(value, tuple) and f.name == "feeds":
                out[f.name] = [feed.to_dict(redact=redact) for feed in value]
            elif f.name == "secret_key":
                out[f.name] = MASK if redact else str(value)
            else:
                out[f.name] = value
        return out

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
