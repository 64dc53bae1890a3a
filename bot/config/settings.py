"""The config file's schema as a pydantic-settings model, and where its values come from.

:class:`Settings` has one field per TOML table. Its sources, highest priority first:

1. :class:`SecretsFromEnvironment` -- ``BESTBOT_TELEGRAM_TOKEN`` and the other secret
   variables (:data:`ENV_SECRETS`), each placed at its key, so the environment wins;
2. :class:`FileData` -- the parsed TOML file.

pydantic-settings' own sources are left out on purpose: its environment source would
read *any* variable named like a field (``FEEDS=...``), and bestbot reads the file
itself to report TOML errors with their line. Which file and which environment a
load uses is set for the duration of one build with :func:`sources`, so that tests
can pass a plain dict for the environment.

Checks across tables (a webhook URL needs ``[web] public_url``, working hours follow
``[alerts] timezone``) live here, as validators of the later table that see the
earlier ones already validated.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, get_args, get_origin

from pydantic import BaseModel, Field, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.config.errors import problem, show
from bot.config.feeds import DEFAULT_FEEDS, FeedConfig, unique_names
from bot.config.sections import (
    AlertsConfig,
    BrandConfig,
    DatabaseConfig,
    EmailConfig,
    MatchingConfig,
    ReportsConfig,
    RoutingConfig,
    TelegramConfig,
    WebSettings,
    default_list_id,
    written,
)
from bot.config.values import is_public_https

__all__ = [
    "ENV_SECRETS",
    "FileData",
    "SecretsFromEnvironment",
    "Settings",
    "leaf_keys",
    "section_keys",
    "sources",
]

#: Secret variables and the key each replaces. An empty variable counts as unset.
ENV_SECRETS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "BESTBOT_DATABASE_URL": ("database", "url"),
        "BESTBOT_TELEGRAM_TOKEN": ("telegram", "token"),
        "BESTBOT_WEBHOOK_SECRET": ("telegram", "webhook_secret"),
        "BESTBOT_SMTP_PASSWORD": ("email", "smtp_password"),
        "BESTBOT_DKIM_KEY": ("email", "dkim_key"),
        "BESTBOT_IMAP_PASSWORD": ("email", "inbound", "password"),
        "BESTBOT_SECRET_KEY": ("web", "secret_key"),
    }
)


def env_value(env: Mapping[str, str], name: str) -> str | None:
    """An environment override; empty means unset (as docker-compose leaves it)."""
    value = env.get(name, "").strip()
    return value or None


@dataclass
class _Sources:
    """What one build reads: the file's data and the environment; and what it noticed."""

    data: Mapping[str, Any]
    env: Mapping[str, str]
    #: Variables that replaced a key, by key path.
    applied: dict[tuple[str, ...], str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


_CURRENT: ContextVar[_Sources | None] = ContextVar("bestbot_config_sources", default=None)


@contextmanager
def sources(data: Mapping[str, Any], env: Mapping[str, str]) -> Iterator[_Sources]:
    """Build :class:`Settings` from ``data`` and ``env`` inside this block."""
    current = _Sources(data=data, env=env)
    token = _CURRENT.set(current)
    try:
        yield current
    finally:
        _CURRENT.reset(token)


def _current() -> _Sources:
    found = _CURRENT.get()
    return found if found is not None else _Sources(data={}, env=os.environ)


class FileData(PydanticBaseSettingsSource):
    """The parsed config file (already read by the loader, which reports TOML errors)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        data = _current().data
        return data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_current().data)


class SecretsFromEnvironment(PydanticBaseSettingsSource):
    """``BESTBOT_*`` secret variables, each placed at the key it replaces."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        current = _current()
        found: dict[str, Any] = {}
        for name, path in ENV_SECRETS.items():
            value = env_value(current.env, name)
            if value is None or not self._fits(current, name, path):
                continue
            node = found
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = value
            current.applied[path] = name
        return found

    @staticmethod
    def _fits(current: _Sources, name: str, path: tuple[str, ...]) -> bool:
        """Whether the file leaves room for the key: no table written as something else.

        The IMAP password only applies when the file has an ``[email.inbound]`` table:
        the variable alone must not switch email enquiries on.
        """
        node: Any = current.data
        for depth, part in enumerate(path[:-1]):
            child = node.get(part) if isinstance(node, Mapping) else None
            if child is None and path[: depth + 1] == ("email", "inbound"):
                current.warnings.append(
                    f"ignored: ${name} is set but there is no [email.inbound] table"
                )
                return False
            if child is not None and not isinstance(child, Mapping):
                return False  # the file's own error is reported instead
            node = child or {}
        return True


class Settings(BaseSettings):
    """The whole file, validated. :func:`bot.config.load_config` turns it into a Config."""

    model_config = SettingsConfigDict(
        frozen=True, extra="forbid", validate_default=True, hide_input_in_errors=True
    )

    # Order matters: a table's validator sees the tables above it already validated, and
    # validate_default runs those validators on tables left out of the file too.
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    brand: BrandConfig = Field(default_factory=BrandConfig)
    web: WebSettings = Field(default_factory=WebSettings)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    telegram: TelegramConfig = Field(default_factory=TelegramConfig)
    email: EmailConfig = Field(default_factory=EmailConfig)
    feeds: tuple[FeedConfig, ...] = DEFAULT_FEEDS
    matching: MatchingConfig = Field(default_factory=MatchingConfig)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    reports: ReportsConfig = Field(default_factory=ReportsConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return SecretsFromEnvironment(settings_cls), FileData(settings_cls)

    @field_validator("feeds", mode="after")
    @classmethod
    def _unique_feed_names(cls, feeds: tuple[FeedConfig, ...]) -> tuple[FeedConfig, ...]:
        return unique_names(feeds)

    @field_validator("telegram", mode="after")
    @classmethod
    def _webhook_url(cls, telegram: TelegramConfig, info: ValidationInfo) -> TelegramConfig:
        """Default ``public_url + webhook_path``; in webhook mode it must reach us from Telegram."""
        web = info.data.get("web")
        if web is None:
            return telegram  # [web] had its own error
        url, key = telegram.webhook_url, "telegram.webhook_url"
        if url is None and web.public_url:
            url, key = web.public_url + telegram.webhook_path, "web.public_url"
            telegram = telegram.model_copy(update={"webhook_url": url})
        if not telegram.webhook:
            return telegram
        if url is None:
            raise problem(
                'required when telegram.mode is "webhook": the public https URL Telegram '
                "posts updates to (or set web.public_url)",
                key="telegram.webhook_url",
            )
        why = is_public_https(url)
        if why is not None:
            shown = web.public_url if key == "web.public_url" else url
            raise problem(f'{show(shown)} {why}, and telegram.mode is "webhook"', key=key)
        return telegram

    @field_validator("email", mode="after")
    @classmethod
    def _list_id(cls, email: EmailConfig, info: ValidationInfo) -> EmailConfig:
        brand = info.data.get("brand")
        if email.list_id is not None or brand is None or written(email, "list_id"):
            return email
        derived = default_list_id(brand.name, email.from_address)
        return email.model_copy(update={"list_id": derived}) if derived else email

    @field_validator("routing", mode="after")
    @classmethod
    def _hours_in_alerts_timezone(
        cls, routing: RoutingConfig, info: ValidationInfo
    ) -> RoutingConfig:
        alerts = info.data.get("alerts")
        if alerts is None:
            return routing
        hours = routing.working_hours.in_zone(alerts.timezone)
        if hours is routing.working_hours:
            return routing
        return routing.model_copy(update={"working_hours": hours})


def _table_type(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds (directly, optionally, or as ``tuple[Model, ...]``)."""
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
        inner = get_args(candidate)
        if (
            get_origin(candidate) is tuple
            and inner
            and isinstance(inner[0], type)
            and issubclass(inner[0], BaseModel)
        ):
            return inner[0]
    return None


def _tables(model: type[BaseModel], prefix: str) -> Iterator[tuple[str, type[BaseModel]]]:
    yield prefix, model
    for name, info in model.model_fields.items():
        table = _table_type(info.annotation)
        if table is not None:
            yield from _tables(table, f"{prefix}.{name}" if prefix else name)


def section_keys() -> dict[str, tuple[str, ...]]:
    """Each table's keys, by table path (``""`` is the top level, ``"email.inbound"``...)."""
    return {path: tuple(model.model_fields) for path, model in _tables(Settings, "")}


def leaf_keys() -> tuple[str, ...]:
    """Every key that holds a value (not a table), dotted: ``"feeds.every"``."""
    keys: list[str] = []
    for path, model in _tables(Settings, ""):
        for name, info in model.model_fields.items():
            if _table_type(info.annotation) is None:
                keys.append(f"{path}.{name}" if path else name)
    return tuple(keys)
