"""Helpers for the config tests: load TOML text or a dict, and get the one-line error."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config, ConfigError, config_from_dict, load_config

KEY = "k" * 32
ENV: dict[str, str] = {"BESTBOT_SECRET_KEY": KEY}
PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n"
    "-----END PRIVATE KEY-----\n"
)


def load(text: str, env: Mapping[str, str] | None = None, **kwargs: Any) -> Config:
    """The config in TOML ``text`` (environment: just a secret key unless given)."""
    return config_from_dict(tomllib.loads(text), env=ENV if env is None else env, **kwargs)


def error(
    source: str | Mapping[str, Any], env: Mapping[str, str] | None = None, **kwargs: Any
) -> ConfigError:
    """The ConfigError for TOML text or parsed data; fails the test if there is none."""
    data = tomllib.loads(source) if isinstance(source, str) else source
    with pytest.raises(ConfigError) as info:
        config_from_dict(data, env=ENV if env is None else env, **kwargs)
    message = str(info.value)
    assert message.startswith("config error: "), message
    assert "\n" not in message and "Traceback" not in message, message
    assert "pydantic" not in message.lower() and "Input should" not in message, message
    return info.value


def file_error(tmp_path: Path, text: str, env: Mapping[str, str] | None = None) -> ConfigError:
    """The ConfigError for ``text`` written to a file and loaded from there."""
    path = tmp_path / "bestbot.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env=ENV if env is None else env)
    assert "\n" not in str(info.value)
    return info.value
