"""Finding, reading and resolving the config: file lookup, TOML errors, retired keys.

:func:`load_config` picks the file (``--config PATH``, else ``$BESTBOT_CONFIG``, else
``./bestbot.toml``, else built-in defaults) and reads it; :func:`config_from_dict`
validates parsed data against :class:`~bot.config.settings.Settings` with the
environment's secrets on top, then settles what validation alone cannot: the secret
key, paths relative to the config file, the DKIM key file.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.config.errors import ConfigError, Loc, explain
from bot.config.feeds import FeedConfig
from bot.config.model import Config, new_secret_key
from bot.config.redaction import Secret, url_password
from bot.config.sections import EmailConfig, WebConfig
from bot.config.settings import ENV_SECRETS, Settings, env_value, sources

__all__ = ["DEFAULT_CONFIG_FILE", "ENV_CONFIG", "RETIRED_KEYS", "config_from_dict", "load_config"]

log = logging.getLogger("bot.config")

ENV_CONFIG = "BESTBOT_CONFIG"
DEFAULT_CONFIG_FILE = "bestbot.toml"

#: Keys bestbot once read and no longer does: an old file that has them still loads,
#: with a warning, instead of being refused as if they were typos.
RETIRED_KEYS: Mapping[str, tuple[str, ...]] = {
    "matching": ("min_score", "fuzzy", "synonyms", "extra_synonyms"),
}


def _without_retired(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    cleaned = dict(data)
    warnings: list[str] = []
    for table, keys in RETIRED_KEYS.items():
        section = cleaned.get(table)
        if not isinstance(section, Mapping):
            continue
        kept = dict(section)
        for key in keys:
            if key in kept:
                del kept[key]
                warnings.append(f"ignored: [{table}] {key} is no longer used")
        cleaned[table] = kept
    return cleaned, warnings


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _secrets_in(data: Mapping[str, Any], env: Mapping[str, str]) -> list[str]:
    """Every secret value in play, longest first, for scrubbing error messages."""
    found: set[str] = set()
    for name, path in ENV_SECRETS.items():
        node: Any = data
        for part in path:
            node = node.get(part) if isinstance(node, Mapping) else None
        for value in (node, env_value(env, name)):
            if isinstance(value, str) and value.strip():
                found.add(value.strip())
    for text in (*_strings(data), *(env_value(env, n) or "" for n in ENV_SECRETS)):
        password = url_password(text)
        if password:
            found.add(password)
    return sorted(found, key=len, reverse=True)


def _renamer(applied: Mapping[tuple[str, ...], str]) -> Any:
    def rename(loc: Loc) -> str | None:
        for path, name in applied.items():
            if tuple(loc[: len(path)]) == path:
                return name
        return None

    return rename


def _secret_key(settings: Settings) -> tuple[str, bool]:
    """The configured key, or a new random one flagged as generated (the service keeps the
    first one generated in the database and uses it from then on: bot/app.py)."""
    key = settings.web.secret_key
    if key is not None:
        return key, False
    log.info(
        "no [web] secret_key or $BESTBOT_SECRET_KEY: a random key is generated and kept in "
        "the database"
    )
    return new_secret_key(), True


def _resolve_path(path: str, base: Path) -> Path:
    resolved = Path(path).expanduser()
    return resolved if resolved.is_absolute() else base / resolved


def _feeds(feeds: tuple[FeedConfig, ...], base: Path) -> tuple[FeedConfig, ...]:
    return tuple(
        feed.model_copy(update={"path": str(_resolve_path(feed.path, base))})
        if feed.path is not None
        else feed
        for feed in feeds
    )


def _read_key(path: Path) -> str:
    key = "email.dkim_key_path"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file", key) from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a key file", key) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not PEM text"
        raise ConfigError(f"{path}: cannot read it ({reason})", key) from None
    if "-----BEGIN" not in text or "PRIVATE KEY-----" not in text:
        raise ConfigError(f"{path}: not a PEM private key (-----BEGIN PRIVATE KEY----- ...)", key)
    return text


def _dkim(email: EmailConfig, base: Path, from_env: bool) -> EmailConfig:
    """Read the DKIM key file, and check that selector, domain and key come together.

    ``BESTBOT_DKIM_KEY`` wins over ``dkim_key_path`` as the environment wins over the
    file; both ``dkim_key`` and ``dkim_key_path`` in the file is a contradiction.
    """
    key_name = "BESTBOT_DKIM_KEY" if from_env else "email.dkim_key"
    if email.dkim_key_path is not None and email.dkim_key is not None and not from_env:
        raise ConfigError(
            "set email.dkim_key_path or email.dkim_key (BESTBOT_DKIM_KEY), not both",
            "email.dkim_key_path",
        )
    update: dict[str, Any] = {}
    if email.dkim_key_path is not None:
        path = _resolve_path(email.dkim_key_path, base)
        update["dkim_key_path"] = str(path)
        if email.dkim_key is None:
            update["dkim_key"] = Secret(_read_key(path))
    has_key = email.dkim_key is not None or "dkim_key" in update
    if email.dkim_selector is not None:
        if not has_key:
            raise ConfigError(
                "required when email.dkim_selector is set (a PEM private key file; "
                "or set BESTBOT_DKIM_KEY)",
                "email.dkim_key_path",
            )
        if email.dkim_domain is None:
            raise ConfigError(
                "required when email.dkim_selector is set and there is no from_address "
                "to take it from",
                "email.dkim_domain",
            )
    elif has_key:
        where = "email.dkim_key_path" if email.dkim_key_path is not None else key_name
        raise ConfigError(
            "needs email.dkim_selector too (the DNS selector the public key is published "
            'under, e.g. "bestbot")',
            where,
        )
    return email.model_copy(update=update) if update else email


def _web(settings: Settings) -> WebConfig:
    """``[web]`` without ``secret_key``, which the Config holds at its root."""
    web = settings.web
    names = WebConfig.model_fields
    return WebConfig.model_construct(
        _fields_set=web.model_fields_set & set(names),
        **{name: getattr(web, name) for name in names},
    )


def config_from_dict(
    data: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    source: str | None = None,
) -> Config:
    """Validate already-parsed TOML data (handy in tests); see :func:`load_config`.

    ``env`` defaults to ``os.environ``; relative file paths (file feeds, the DKIM
    key) resolve against ``base_dir`` (default: the working directory).
    """
    env = os.environ if env is None else env
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    cleaned, warnings = _without_retired(data)
    with sources(cleaned, env) as used:
        try:
            settings = Settings()
        except ValidationError as exc:
            raise explain(
                exc, Settings, rename=_renamer(used.applied), scrub=_secrets_in(data, env)
            ) from None
    key, generated = _secret_key(settings)
    return Config(
        database=settings.database,
        telegram=settings.telegram,
        email=_dkim(settings.email, base, ("email", "dkim_key") in used.applied),
        web=_web(settings),
        feeds=_feeds(settings.feeds, base),
        matching=settings.matching,
        alerts=settings.alerts,
        routing=settings.routing,
        brand=settings.brand,
        reports=settings.reports,
        secret_key=key,
        secret_key_generated=generated,
        source=source,
        warnings=(*warnings, *used.warnings),
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
    named = env_value(env, ENV_CONFIG)
    if path is not None:
        chosen = Path(path)
    elif named is not None:
        chosen = Path(named)
    elif Path(DEFAULT_CONFIG_FILE).is_file():
        chosen = Path(DEFAULT_CONFIG_FILE)
    if chosen is None:
        return config_from_dict({}, env)
    chosen = chosen.expanduser()
    data = _read_toml(chosen)
    return config_from_dict(data, env, base_dir=chosen.resolve().parent, source=str(chosen))
