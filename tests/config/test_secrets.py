"""Secrets never echoed: not in any error message, not in any repr, str or dump of a config.

A batch of bad configs, each carrying every kind of secret (in the file or the
environment) plus one mistake -- often in the secret itself -- and every text bestbot
could show about them is searched for every secret.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bot.config import Config, ConfigError, config_from_dict, redact_url
from tests.config.kit import PEM

TOKEN = "987654321:AAFsecretTOKENvalue_-abcdefghijklmno"
SMTP = "smtp-Pa55word!x"
IMAP = "imap-Pa55word!y"
KEY = "secret-key-0123456789abcdef"
HOOK = "hook_SECRET-value-42"
PG = "pg-S3cret-pass"
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"
SECRETS = (TOKEN, SMTP, IMAP, KEY, HOOK, PG, PEM_BODY, "AAFsecretTOKEN")

GOOD: dict[str, Any] = {
    "database": {"url": f"postgresql://bestbot:{PG}@db.example.org:5432/bestbot"},
    "telegram": {"token": TOKEN, "mode": "webhook", "webhook_secret": HOOK},
    "web": {"public_url": "https://bestbot.example.org", "secret_key": KEY},
    "email": {
        "from_address": "alerts@seem.example",
        "smtp_host": "smtp.example.org",
        "smtp_password": SMTP,
        "dkim_selector": "s1",
        "dkim_key": PEM,
        "inbound": {"host": "imap.example.org", "password": IMAP},
    },
}
ENV_ALL = {
    "BESTBOT_TELEGRAM_TOKEN": TOKEN,
    "BESTBOT_SMTP_PASSWORD": SMTP,
    "BESTBOT_IMAP_PASSWORD": IMAP,
    "BESTBOT_SECRET_KEY": KEY,
    "BESTBOT_WEBHOOK_SECRET": HOOK,
    "BESTBOT_DKIM_KEY": PEM,
    "BESTBOT_DATABASE_URL": f"postgresql://bestbot:{PG}@db.example.org/bestbot",
}


def _with(path: str, value: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    data = json.loads(json.dumps(GOOD if base is None else base))
    *tables, key = path.split(".")
    node = data
    for table in tables:
        node = node.setdefault(table, {})
    node[key] = value
    return data


#: (file data, environment): one mistake each, the secrets everywhere.
BAD: list[tuple[dict[str, Any], dict[str, str]]] = [
    # the secrets themselves malformed
    (_with("telegram.token", f"{TOKEN} extra"), {}),
    (_with("telegram.token", TOKEN.replace(":", "")), {}),
    (_with("telegram.token", f"bot{TOKEN}"), {}),
    (_with("telegram.webhook_secret", f"{HOOK} with space"), {}),
    (_with("telegram.webhook_secret", HOOK + "!"), {}),
    (_with("telegram.webhook_secret", HOOK * 20), {}),
    (_with("web.secret_key", KEY[:10]), {}),
    (_with("database.url", f"postgresql//bestbot:{PG}@db.example.org/bestbot"), {}),
    (_with("database.url", f"mysql://bestbot:{PG}@db.example.org/bestbot"), {}),
    (_with("database.url", f"bestbot:{PG}@db.example.org/bestbot"), {}),
    (_with("database.url", f"postgresql:/bestbot:{PG}@db.example.org"), {}),
    (_with("database.url", f"oracle://bestbot:{PG} x@db/bestbot"), {}),
    (_with("database.url", f"jdbc:postgresql://bestbot:{PG}@db/x"), {}),
    (_with("email.dkim_key", PEM.replace("PRIVATE KEY", "CERTIFICATE")), {}),
    (_with("email.smtp_password", 12345), {}),
    (_with("email.inbound.password", ["a", IMAP]), {}),
    # secrets pasted into the wrong key
    (_with("telegram.bot_username", TOKEN), {}),
    (_with("telegram.base_url", TOKEN), {}),
    (_with("web.public_url", f"https://admin:{PG}@bestbot example.org"), {}),
    (_with("feeds", [{"kind": "find_a_tender", "url": f"ftp://u:{PG}@x.org"}]), {}),
    (_with("email.reply_to", f"{SMTP} <nobody>"), {}),
    (_with("brand.name", f"<{KEY}>"), {}),
    (_with("email.feedback_id_prefix", PEM), {}),
    # unrelated mistakes with every secret in place
    (_with("web.port", "8080"), {}),
    (_with("telegram.tokn", TOKEN), {}),
    (_with("email.inbound.hots", "imap.example.org"), {}),
    (_with("web.public_url", "http://bestbot.example.org"), {}),
    ({**GOOD, "telegram": TOKEN}, {}),
    ({**GOOD, "web": KEY}, {}),
    # the same mistakes arriving from the environment
    ({}, {**ENV_ALL, "BESTBOT_TELEGRAM_TOKEN": f"{TOKEN} x"}),
    ({}, {**ENV_ALL, "BESTBOT_DATABASE_URL": f"postgresql//u:{PG}@h/db"}),
    ({}, {**ENV_ALL, "BESTBOT_DATABASE_URL": f"mysql://u:{PG}@h/db"}),
    ({"telegram": {"mode": "webhook"}}, {**ENV_ALL, "BESTBOT_WEBHOOK_SECRET": f"{HOOK} x"}),
    ({}, {**ENV_ALL, "BESTBOT_SECRET_KEY": "0123456789"}),
    ({}, {**ENV_ALL, "BESTBOT_DKIM_KEY": PEM_BODY}),
    ({"web": {"port": -1}}, ENV_ALL),
]


def _texts(value: object) -> Iterator[str]:
    yield repr(value)
    yield str(value)


def _everything_shown(config: Config) -> Iterator[str]:
    yield from _texts(config)
    yield json.dumps(config.redacted())
    for name in ("database", "telegram", "email", "web", "alerts", "routing", "reports"):
        section = getattr(config, name)
        yield from _texts(section)
        yield section.model_dump_json()
        yield str(section.model_dump())
    if config.email.inbound is not None:
        yield from _texts(config.email.inbound)
        yield config.email.inbound.model_dump_json()
    # A secret itself is a plain string to str() and f-strings (code needs the value);
    # its repr, which logging a container of it shows, is masked.
    yield repr(config.secret_key) + repr(config.telegram.token) + repr(config.database.url)


def _assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} shown in: {text}"


@pytest.mark.parametrize(("data", "env"), BAD)
def test_no_error_message_echoes_a_secret(data: dict[str, Any], env: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as info:
        config_from_dict(data, env=env)
    _assert_clean(str(info.value))
    _assert_clean(repr(info.value))
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_the_good_config_loads_and_shows_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for env in ({}, ENV_ALL):
        config = config_from_dict(GOOD, env=env)
        assert config.telegram.token == TOKEN and config.secret_key == KEY
        assert config.email.smtp_password == SMTP and config.email.dkim_key == PEM
        for text in _everything_shown(config):
            _assert_clean(text)
    _assert_clean(caplog.text)


def test_secrets_are_plain_strings_to_the_code_that_uses_them() -> None:
    config = config_from_dict(GOOD, env={})
    assert f"https://api.telegram.org/bot{config.telegram.token}/getMe".endswith(f"{TOKEN}/getMe")
    assert config.secret_key.encode() == KEY.encode()
    assert config.telegram.token is not None
    assert config.telegram.token.get_secret_value() == TOKEN
    assert type(config.telegram.token.get_secret_value()) is str
    assert str(config.database.url).endswith(":5432/bestbot")


def test_a_key_swapped_in_later_stays_masked() -> None:
    """bot/app.py replaces the generated key by the stored one with dataclasses.replace."""
    import dataclasses

    config = config_from_dict({}, env={})
    stored = dataclasses.replace(config, secret_key=KEY, secret_key_generated=False)
    assert stored.secret_key == KEY and KEY not in repr(stored)
    assert config.with_secret_key(KEY) == stored


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:pw@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
        ("postgresql//u:pw@h/db", "postgresql//u:***@h/db"),
        ("u:pw@h", "u:***@h"),
        ("postgresql://u:pa/ss@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:pa ss@h/db", "postgresql://u:***@h/db"),
        ("postgresql://:pw@h/db", "postgresql://:***@h/db"),
    ],
)
def test_redact_url_handles_broken_urls(url: str, shown: str) -> None:
    assert redact_url(url) == shown
