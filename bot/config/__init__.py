"""bestbot's configuration: one TOML file, secrets from the environment, validated on load.

Why so strict: a typo in a config file must never be silently ignored (an alert
service that quietly polls nothing is worse than one that refuses to start), and
a bad value must be reported as *one line* naming the key and what is expected,
because that line is all the user sees (``bestbot`` exits 2 with it).

The schema is a pydantic-settings model (:mod:`bot.config.settings`) whose tables
are the frozen models of :mod:`bot.config.sections` and :mod:`bot.config.feeds`;
:func:`load_config` finds and reads the file (:mod:`bot.config.loading`) and returns
a :class:`Config` (:mod:`bot.config.model`). Where the file comes from: an explicit
path, else ``$BESTBOT_CONFIG``, else ``./bestbot.toml`` if it exists, else built-in
defaults. Secrets may live in the environment instead of the file, and the
environment wins (:data:`ENV_SECRETS`).

Tokens, passwords, keys and passwords inside URLs are masked in every ``repr``, in
:meth:`Config.redacted` and in error messages, so logging a config or showing an
error cannot leak them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bot.config.errors import ConfigError
from bot.config.feeds import DEFAULT_FEEDS, FeedConfig
from bot.config.hours import WorkingHours
from bot.config.loading import (
    DEFAULT_CONFIG_FILE,
    ENV_CONFIG,
    RETIRED_KEYS,
    config_from_dict,
    load_config,
)
from bot.config.model import Config
from bot.config.redaction import Secret, SecretURL, redact_url
from bot.config.sections import (
    AlertsConfig,
    AlertTypes,
    BrandConfig,
    DatabaseConfig,
    EmailConfig,
    InboundEmailConfig,
    MatchingConfig,
    ReportsConfig,
    RoutingConfig,
    TelegramConfig,
    WebConfig,
)
from bot.config.settings import ENV_SECRETS, Settings, leaf_keys, section_keys
from bot.config.values import format_size, parse_size
from bot.config.vocabulary import (
    CF_STAGES,
    FEED_KINDS,
    FEED_URLS,
    FREQUENCIES,
    NOTICE_KINDS,
    NOTICE_STAGES,
    TOPICS,
    WEEKDAYS,
)

#: Keys each table accepts, by table path; the docs test checks the docs against it.
SECTION_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(section_keys())

__all__ = [
    "CF_STAGES",
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_FEEDS",
    "ENV_CONFIG",
    "ENV_SECRETS",
    "FEED_KINDS",
    "FEED_URLS",
    "FREQUENCIES",
    "NOTICE_KINDS",
    "NOTICE_STAGES",
    "RETIRED_KEYS",
    "SECTION_KEYS",
    "TOPICS",
    "WEEKDAYS",
    "AlertTypes",
    "AlertsConfig",
    "BrandConfig",
    "Config",
    "ConfigError",
    "DatabaseConfig",
    "EmailConfig",
    "FeedConfig",
    "InboundEmailConfig",
    "MatchingConfig",
    "ReportsConfig",
    "RoutingConfig",
    "Secret",
    "SecretURL",
    "Settings",
    "TelegramConfig",
    "WebConfig",
    "WorkingHours",
    "config_from_dict",
    "format_size",
    "leaf_keys",
    "load_config",
    "parse_size",
    "redact_url",
    "section_keys",
]
