"""The keys the coming work needs, their typed values, env overrides, retired keys, immutability."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pydantic
import pytest

from bot.config import (
    ENV_SECRETS,
    NOTICE_KINDS,
    AlertsConfig,
    ConfigError,
    FeedConfig,
    config_from_dict,
    format_size,
    load_config,
    parse_size,
)
from tests.config.kit import ENV, PEM, error, load

# --------------------------------------------------------------------------- brand, reports


def test_brand() -> None:
    assert load("").brand.name == "SEEM contract alerts"
    assert load('[brand]\nname = "  BEST Procurement  "\n').brand.name == "BEST Procurement"
    # the short name (email subjects) follows the name unless written
    assert load("").brand.short_name == "SEEM"
    assert load('[brand]\nname = "BEST Procurement"\n').brand.short_name == "BEST Procurement"
    assert load('[brand]\nname = "Notts tender alerts"\n').brand.short_name == "Notts"
    written = load('[brand]\nname = "SEEM contract alerts"\nshort_name = "BEST"\n')
    assert written.brand.short_name == "BEST"


def test_reports_defaults_are_typed() -> None:
    reports = load("").reports
    assert reports.enabled and reports.weekly_day == 0 and reports.hour == 8
    assert reports.horizon == timedelta(days=548)
    assert (reports.region, reports.region_name) == ("UKF", "East Midlands")
    assert reports.recipients == "both" and reports.to_advisers and reports.to_admins


@pytest.mark.parametrize(
    ("written", "code", "name"),
    [
        ("East Midlands", "UKF", "East Midlands"),
        ("east midlands", "UKF", "East Midlands"),
        ("UKF14", "UKF14", "East Midlands"),
        ("tlf1", "UKF1", "East Midlands"),
        ("London", "UKI", "London"),
        ("Yorkshire", "UKE", "Yorkshire and The Humber"),
        ("UK", "UK", "United Kingdom"),
    ],
)
def test_report_region_by_code_or_name(written: str, code: str, name: str) -> None:
    reports = load(f'[reports]\nregion = "{written}"\n').reports
    assert (reports.region, reports.region_name) == (code, name)


def test_report_recipients_and_day() -> None:
    reports = load('[reports]\nrecipients = "admins"\nweekly_day = "friday"\nhour = 17\n').reports
    assert (reports.to_admins, reports.to_advisers) == (True, False)
    assert (reports.weekly_day, reports.hour) == (4, 17)
    assert load('[reports]\nrecipients = "advisers"\n').reports.to_admins is False


# --------------------------------------------------------------------------- alerts


def test_alerts_defaults_are_typed_for_new_subscribers() -> None:
    alerts = load("").alerts
    assert alerts.digest_hour == 8 and alerts.weekly_day == 0
    assert alerts.default_frequency == "instant"
    assert alerts.closing_soon == timedelta(days=7)
    assert alerts.types.instant == ("tender", "engagement", "dm_intention", "dm_established")
    assert alerts.types.digest == ("pipeline", "planned", "dm_modified")
    custom = load(
        '[alerts]\nweekly_day = "Sun"\ndigest_hour = 0\ndefault_frequency = "weekly"\n'
        'closing_soon = "3d"\n'
    ).alerts
    assert (custom.weekly_day, custom.digest_hour, custom.default_frequency) == (6, 0, "weekly")
    assert custom.closing_soon == timedelta(days=3)


def test_alert_types_vocabulary_and_repeats() -> None:
    every_kind = ", ".join(f'"{k}"' for k in NOTICE_KINDS)
    types = load(f"[alerts.types]\ninstant = [{every_kind}]\ndigest = []\n").alerts.types
    assert types.instant == NOTICE_KINDS and types.digest == ()
    repeated = load('[alerts.types]\ninstant = ["award", "award", "tender"]\n').alerts.types
    assert repeated.instant == ("award", "tender")


# --------------------------------------------------------------------------- telegram


def test_telegram_polling_is_the_default() -> None:
    telegram = load("").telegram
    assert telegram.mode == "polling" and not telegram.webhook
    assert telegram.webhook_path == "/telegram/webhook"
    assert telegram.webhook_max_connections == 40 and telegram.webhook_secret is None


def test_webhook_secret_from_the_environment_wins() -> None:
    text = (
        '[telegram]\nmode = "webhook"\nwebhook_secret = "from-the-file"\n'
        'webhook_max_connections = 5\n[web]\npublic_url = "https://bestbot.example.org"\n'
    )
    assert load(text).telegram.webhook_secret == "from-the-file"
    telegram = load(text, env={**ENV, "BESTBOT_WEBHOOK_SECRET": "from_env_123"}).telegram
    assert telegram.webhook_secret == "from_env_123" and telegram.webhook_max_connections == 5
    no_file_secret = text.replace('webhook_secret = "from-the-file"\n', "")
    assert load(no_file_secret, env={**ENV, "BESTBOT_WEBHOOK_SECRET": "x"}).telegram.webhook


# --------------------------------------------------------------------------- email


def test_email_headers() -> None:
    email = load(
        '[email]\nfrom_address = "alerts@seem.example"\nlist_id = "alerts.seem.example"\n'
        'bounce_address = "bounces@seem.example"\nfeedback_id_prefix = "seem"\n'
    ).email
    assert email.list_id == "<alerts.seem.example>"
    assert email.bounce_address == "bounces@seem.example"
    assert email.feedback_id_prefix == "seem" and not email.dkim_enabled


def test_dkim_key_file_relative_to_the_config(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "dkim.pem").write_text(PEM, encoding="utf-8")
    path = tmp_path / "bestbot.toml"
    path.write_text(
        '[email]\nfrom_address = "alerts@seem.example"\ndkim_selector = "bestbot"\n'
        'dkim_key_path = "keys/dkim.pem"\n',
        encoding="utf-8",
    )
    email = load_config(path, env=ENV).email
    assert email.dkim_enabled and email.dkim_domain == "seem.example"
    assert email.dkim_key == PEM and email.dkim_key_path == str(keys / "dkim.pem")
    from_env = load_config(path, env={**ENV, "BESTBOT_DKIM_KEY": PEM.replace("\n", "\\n")})
    assert from_env.email.dkim_key == PEM  # the variable wins; "\n" written literally is read
    (keys / "dkim.pem").write_text("ssh-rsa AAAA", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"email\.dkim_key_path: .*not a PEM private key"):
        load_config(path, env=ENV)
    (keys / "dkim.pem").unlink()
    (keys / "dkim.pem").mkdir()
    with pytest.raises(ConfigError, match=r"email\.dkim_key_path: .*is a directory"):
        load_config(path, env=ENV)


def test_dkim_needs_selector_domain_and_one_key(tmp_path: Path) -> None:
    key = tmp_path / "dkim.pem"
    key.write_text(PEM, encoding="utf-8")
    both = {"email": {"dkim_selector": "s", "dkim_key_path": str(key), "dkim_key": PEM}}
    assert error(both).key == "email.dkim_key_path"
    assert "not both" in str(error(both))
    no_domain = {"email": {"dkim_selector": "s", "dkim_key": PEM}}
    assert error(no_domain).key == "email.dkim_domain"
    no_selector = {"email": {"dkim_key": PEM, "from_address": "a@b.org"}}
    assert error(no_selector).key == "email.dkim_key"
    assert error({}, env={**ENV, "BESTBOT_DKIM_KEY": PEM}).key == "BESTBOT_DKIM_KEY"


# --------------------------------------------------------------------------- feeds, web, sizes


def test_feed_limits() -> None:
    feed = load('[[feeds]]\nkind = "find_a_tender"\n').feeds[0]
    assert (feed.timeout, feed.deadline) == (timedelta(seconds=30), timedelta(minutes=10))
    assert feed.max_page_bytes == 20 * 1024 * 1024
    assert (feed.page_pause, feed.max_retry_after) == (timedelta(seconds=1), timedelta(minutes=15))
    custom = load(
        '[[feeds]]\nkind = "contracts_finder"\nmax_page_bytes = "500KB"\npage_pause = "0s"\n'
        'max_retry_after = "5m"\n'
    ).feeds[0]
    assert custom.max_page_bytes == 500 * 1024 and custom.page_pause == timedelta(0)
    assert custom.max_retry_after == timedelta(minutes=5)


def test_web_max_body() -> None:
    assert load("").web.max_body == 1024 * 1024
    assert load('[web]\nmax_body = "16KB"\n').web.max_body == 16 * 1024


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("512B", 512),
        ("500KB", 512_000),
        ("500kb", 512_000),
        ("20MB", 20_971_520),
        ("20 MiB", 20_971_520),
        ("1GB", 1_073_741_824),
        (" 2 kib ", 2048),
    ],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size
    assert parse_size(format_size(size)) == size


@pytest.mark.parametrize("text", ["", "20", "20M", "1.5MB", "-1KB", "0MB", "MB", "20 megs", "1TB"])
def test_parse_size_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_size(text)


def test_format_size_is_short() -> None:
    assert [format_size(n) for n in (1, 1024, 1536, 20 * 1024**2, 1024**3)] == [
        "1B",
        "1KB",
        "1536B",
        "20MB",
        "1GB",
    ]


# --------------------------------------------------------------------------- environment


@pytest.mark.parametrize("name", sorted(ENV_SECRETS))
def test_every_secret_variable_wins_over_the_file_and_empty_means_unset(name: str) -> None:
    values = {
        "BESTBOT_DATABASE_URL": ("sqlite:///file.db", "sqlite:///env.db"),
        "BESTBOT_TELEGRAM_TOKEN": ("1:file", "2:env"),
        "BESTBOT_WEBHOOK_SECRET": ("file", "env"),
        "BESTBOT_SMTP_PASSWORD": ("file", "env"),
        "BESTBOT_DKIM_KEY": (PEM, PEM.replace("MIIE", "ENVK")),
        "BESTBOT_IMAP_PASSWORD": ("file", "env"),
        "BESTBOT_SECRET_KEY": ("f" * 16, "e" * 16),
    }
    path = ENV_SECRETS[name]
    in_file, in_env = values[name]
    data: dict[str, object] = {"email": {"inbound": {"host": "h"}}}
    if name == "BESTBOT_DKIM_KEY":
        data = {"email": {"dkim_selector": "s", "dkim_domain": "x.org"}}
    node = data
    for part in path[:-1]:
        node = node.setdefault(part, {})  # type: ignore[assignment]
    node[path[-1]] = in_file  # type: ignore[index]

    def read(env: dict[str, str]) -> str:
        config = config_from_dict(data, env=env)
        if path == ("web", "secret_key"):
            return str(config.secret_key)
        value: object = config
        for part in path:
            value = getattr(value, part)
        return str(value)

    assert read({}) == in_file
    assert read({name: in_env}) == in_env
    assert read({name: "  "}) == in_file


def test_imap_password_alone_does_not_switch_enquiries_on() -> None:
    config = config_from_dict({}, env={**ENV, "BESTBOT_IMAP_PASSWORD": "pw"})
    assert config.email.inbound is None
    assert config.warnings == (
        "ignored: $BESTBOT_IMAP_PASSWORD is set but there is no [email.inbound] table",
    )


def test_an_env_value_is_reported_under_the_variable_name() -> None:
    found = error({"telegram": {"token": "1:ok"}}, env={"BESTBOT_TELEGRAM_TOKEN": "nope"})
    assert found.key == "BESTBOT_TELEGRAM_TOKEN"
    found = error({}, env={"BESTBOT_WEBHOOK_SECRET": "a b"})
    assert found.key == "BESTBOT_WEBHOOK_SECRET" and "space" in str(found)


# --------------------------------------------------------------------------- retired keys


def test_retired_matching_keys_are_ignored_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "old.toml"
    path.write_text(
        "[matching]\nmin_score = 40\nfuzzy = false\nsynonyms = true\n"
        'default_stages = ["tender"]\n\n[matching.extra_synonyms]\n"grass cutting" = ["mowing"]\n',
        encoding="utf-8",
    )
    config = load_config(path, env=ENV)
    assert config.matching.default_stages == ("tender",)
    assert config.warnings == (
        "ignored: [matching] min_score is no longer used",
        "ignored: [matching] fuzzy is no longer used",
        "ignored: [matching] synonyms is no longer used",
        "ignored: [matching] extra_synonyms is no longer used",
    )
    assert not hasattr(config.matching, "fuzzy")
    assert load("").warnings == ()


def test_retired_keys_are_ignored_whatever_their_value() -> None:
    """They are no longer read, so a value that was invalid then is no error now."""
    config = load('[matching]\nmin_score = "high"\nfuzzy = 3\n')
    assert len(config.warnings) == 2
    assert error("[matching]\nfuzzzy = true\n").key == "matching.fuzzzy"  # a typo still is one


# --------------------------------------------------------------------------- frozen


def test_values_are_frozen() -> None:
    config = load('[routing.topic_words]\nfunding = ["grant"]\n')
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.feeds = ()  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        config.web.port = 1  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        config.feeds[0].every = timedelta(seconds=1)  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.routing.topic_words["legal"] = ("x",)  # type: ignore[index]
    assert isinstance(config.feeds, tuple) and isinstance(config.alerts.remind_before, tuple)
    assert isinstance(config.telegram.admin_ids, tuple)


def test_sections_can_be_built_in_code() -> None:
    feed = FeedConfig(kind="file", path="x.json", every=timedelta(seconds=20))
    assert feed.name == "file" and feed.jitter == timedelta(seconds=2)
    alerts = AlertsConfig(weekly_day="Tue", group_within=timedelta(0))
    assert alerts.weekly_day == 1 and alerts.group_within == timedelta(0)
    with pytest.raises(pydantic.ValidationError):
        FeedConfig(kind="find_a_tender", every="soon")
