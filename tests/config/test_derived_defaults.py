"""A default fits whatever the user set: one key written alone never gets another refused.

Before, ``every = "20s"`` on a feed was refused because of the *default* jitter (30s);
now defaults that depend on other keys are derived from them, and only a written value
can be refused. The first test sets every key of the schema, alone, to values at the
edges of what it accepts, and requires each to load.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.config import DEFAULT_FEEDS, config_from_dict, leaf_keys
from tests.config.kit import ENV, PEM, error, load

FEED = {"kind": "find_a_tender"}
INBOUND = {"host": "imap.example.org"}

#: Values at the edges of each key, each valid on its own.
ALONE: dict[str, list[Any]] = {
    "database.url": ["sqlite:///x.sqlite3", "postgres://u:p@db.example.org:5432/bestbot"],
    "database.claim_lease": ["10s", "1h"],
    "brand.name": ["B", "S" * 64],
    "brand.short_name": ["B", "S" * 64],
    "web.host": ["0.0.0.0", "::1"],
    "web.port": [0, 65535],
    "web.public_url": ["http://bestbot.example.org/", "https://example.org/bestbot"],
    "web.max_body": ["1B", "1GB"],
    "web.secret_key": ["s" * 16, "s" * 500],
    "alerts.quiet_hours": ["off", "00:00-23:59", "23:00-01:00"],
    "alerts.timezone": ["UTC", "Pacific/Kiritimati"],
    "alerts.digest_hour": [0, 23],
    "alerts.weekly_day": ["Sun", "saturday"],
    "alerts.default_frequency": ["instant", "weekly"],
    "alerts.group_within": ["0s", "3650d"],
    "alerts.backfill_delay": ["0s", "3650d"],
    "alerts.closing_soon": ["1s", "3650d"],
    "alerts.remind_before": [[], ["1s"], ["3650d", "3650d"]],
    "alerts.max_attempts": [1, 100],
    "alerts.nudge": [False],
    "alerts.types.instant": [[], ["pipeline", "planned", "dm_modified", "payments"]],
    "alerts.types.digest": [[], ["tender", "engagement", "dm_intention", "dm_established"]],
    "telegram.token": ["1:a", "123456789:AAE" + "x" * 32],
    "telegram.base_url": ["http://127.0.0.1:8081/bot"],
    "telegram.base_file_url": ["http://127.0.0.1:8081/file/bot"],
    "telegram.admin_ids": [[], [1, 1, 2**53]],
    "telegram.bot_username": ["@abc", "A" * 32],
    "telegram.mode": ["polling"],
    "telegram.webhook_secret": ["a", "Z" * 256],
    "telegram.webhook_path": ["/", "/a/b-c_d.e"],
    "telegram.webhook_max_connections": [1, 100],
    "telegram.send_rate": [1, 1000],
    "telegram.webhook_url": ["http://localhost:8080/x"],  # fine while polling
    "email.from_address": ["a@b.org", "SEEM contract alerts <alerts@seem.example>"],
    "email.reply_to": ["x@y.org"],
    "email.smtp_port": [1, 25, 465, 587, 65535],
    "email.smtp_username": ["u"],
    "email.smtp_password": ["p"],
    "email.starttls": [True, False],
    "email.tls": [True, False],
    "email.timeout": ["1s", "3650d"],
    "email.list_id": ["<a.b>", "Alerts <alerts.seem.example>", "alerts.seem.example"],
    "email.bounce_address": ["bounces@seem.example"],
    "email.dkim_domain": ["seem.example"],
    "email.feedback_id_prefix": ["seem", "a:b.c_d-e"],
    "email.inbound.host": ["imap.example.org"],
    "email.inbound.port": [1, 143, 993, 65535],
    "email.inbound.username": ["u"],
    "email.inbound.password": ["p"],
    "email.inbound.ssl": [True, False],
    "email.inbound.folder": ["Enquiries/2026"],
    "email.inbound.every": ["1s", "3650d"],
    "email.inbound.address": ["enquiries@seem.example"],
    "email.inbound.authserv_id": ["mx.seem.example"],
    "feeds.name": ["a", "x" * 64],
    "feeds.kind": ["find_a_tender", "contracts_finder"],
    "feeds.url": ["http://127.0.0.1:9/x"],
    "feeds.every": ["1s", "20s", "7d", "3650d"],
    "feeds.lookback": ["1s", "3650d"],
    "feeds.jitter": ["0s", "14m59s"],
    "feeds.enabled": [False],
    "feeds.timeout": ["1s", "3650d"],
    "feeds.deadline": ["1s", "3650d"],
    "feeds.max_page_bytes": ["1B", "1GB"],
    "feeds.page_pause": ["0s", "3650d"],
    "feeds.max_retry_after": ["1s", "3650d"],
    "matching.default_stages": [[], ["cancelled"]],
    "routing.ack_within": ["1s", "5d", "3650d"],
    "routing.reply_within": ["1s", "10m", "3650d"],
    "routing.working_hours": ["24/7", "Sun 00:00-00:01", "Mon-Sun 00:00-23:59 UTC"],
    "routing.topic_words": [{}, {"general": ["help"]}],
    "reports.enabled": [False],
    "reports.weekly_day": ["Sun"],
    "reports.hour": [0, 23],
    "reports.horizon": ["1s", "3650d"],
    "reports.closing_within": ["1s", "60d"],
    "reports.retender": [False],
    "reports.region": ["UK", "UKF14", "tlf1", "London", "England"],
    "reports.recipients": ["advisers", "admins"],
}

#: Keys that only make sense with another key, and the companions they need. These are
#: "required together", not defaults: the message names the missing key as required.
TOGETHER: dict[str, dict[str, Any]] = {
    "feeds.path": {"feeds": [{"kind": "file", "path": "notices.json"}]},
    "feeds.stages": {"feeds": [{"kind": "contracts_finder", "stages": ["award"]}]},
    "email.smtp_host": {"email": {"smtp_host": "smtp.example.org", "from_address": "a@b.org"}},
    "email.dkim_selector": {
        "email": {"dkim_selector": "s1", "dkim_key": PEM, "from_address": "a@seem.example"}
    },
    "email.dkim_key": {"email": {"dkim_selector": "s1", "dkim_key": PEM, "dkim_domain": "x.org"}},
    "email.dkim_key_path": {},  # needs a real file: test_dkim_key_file
}


def _data(key: str, value: Any) -> dict[str, Any]:
    table, _, name = key.rpartition(".")
    if table == "feeds":
        return {"feeds": [{**FEED, name: value}]}
    if table == "email.inbound":
        return {"email": {"inbound": {**INBOUND, name: value}}}
    data: dict[str, Any] = {name: value}
    for part in reversed(table.split(".")):
        data = {part: data}
    return data


def test_every_key_is_tried() -> None:
    """A new key must be added above, with its edge values (or to TOGETHER, with why)."""
    assert set(ALONE) | set(TOGETHER) == set(leaf_keys())


@pytest.mark.parametrize(
    ("key", "value"), [(key, value) for key, values in ALONE.items() for value in values]
)
def test_one_key_alone_always_loads(key: str, value: Any) -> None:
    config_from_dict(_data(key, value), env={})


@pytest.mark.parametrize("key", [k for k, data in TOGETHER.items() if data])
def test_keys_that_go_together_load_together(key: str) -> None:
    config_from_dict(TOGETHER[key], env={})


# --------------------------------------------------------------------------- feeds


@pytest.mark.parametrize(
    ("every", "jitter"),
    [
        ("20s", timedelta(seconds=2)),
        ("5s", timedelta(seconds=0.5)),
        ("1m", timedelta(seconds=6)),
        ("5m", timedelta(seconds=30)),
        ("15m", timedelta(seconds=30)),
        ("7d", timedelta(seconds=30)),
    ],
)
def test_default_jitter_is_at_most_a_tenth_of_every(every: str, jitter: timedelta) -> None:
    feed = load(f'[[feeds]]\nkind = "find_a_tender"\nevery = "{every}"\n').feeds[0]
    assert feed.jitter == jitter
    assert feed.jitter < feed.every


def test_written_jitter_is_kept_or_refused_by_name() -> None:
    feed = load('[[feeds]]\nkind = "find_a_tender"\nevery = "20s"\njitter = "5s"\n').feeds[0]
    assert feed.jitter == timedelta(seconds=5)
    assert error('[[feeds]]\nkind = "find_a_tender"\nevery = "20s"\njitter = "20s"').key == (
        "feeds[0].jitter"
    )


def test_timeout_and_deadline_give_way_to_the_one_written() -> None:
    default = load('[[feeds]]\nkind = "find_a_tender"\n').feeds[0]
    assert (default.timeout, default.deadline) == (timedelta(seconds=30), timedelta(minutes=10))
    long_requests = load('[[feeds]]\nkind = "find_a_tender"\ntimeout = "20m"\n').feeds[0]
    assert (long_requests.timeout, long_requests.deadline) == (
        timedelta(minutes=20),
        timedelta(minutes=20),
    )
    quick_poll = load('[[feeds]]\nkind = "find_a_tender"\ndeadline = "10s"\n').feeds[0]
    assert (quick_poll.timeout, quick_poll.deadline) == (
        timedelta(seconds=10),
        timedelta(seconds=10),
    )


def test_lookback_does_not_depend_on_every() -> None:
    """The first poll's window is its own setting: a weekly feed still looks 3 days back."""
    weekly = load('[[feeds]]\nkind = "find_a_tender"\nevery = "7d"\n').feeds[0]
    assert weekly.lookback == timedelta(days=3)
    short = load('[[feeds]]\nkind = "find_a_tender"\nlookback = "1h"\n').feeds[0]
    assert short.every == timedelta(minutes=15)


def test_feed_name_and_url_follow_the_kind() -> None:
    feeds = load(
        '[[feeds]]\nkind = "contracts_finder"\n[[feeds]]\nkind = "file"\npath = "x.json"\n'
    ).feeds
    assert [f.name for f in feeds] == ["contracts_finder", "file"]
    assert feeds[0].url == DEFAULT_FEEDS[1].url and feeds[1].url is None


# --------------------------------------------------------------------------- email


@pytest.mark.parametrize(
    ("written", "port", "tls", "starttls"),
    [
        ({}, 587, False, True),
        ({"smtp_port": 465}, 465, True, False),
        ({"smtp_port": 465, "starttls": True}, 465, False, True),
        ({"smtp_port": 25}, 25, False, True),
        ({"tls": True}, 465, True, False),
        ({"tls": True, "smtp_port": 2465}, 2465, True, False),
        ({"starttls": False}, 587, False, False),
        ({"tls": False, "starttls": False}, 587, False, False),
    ],
)
def test_smtp_port_tls_and_starttls_follow_each_other(
    written: dict[str, Any], port: int, tls: bool, starttls: bool
) -> None:
    email = config_from_dict({"email": written}, env=ENV).email
    assert (email.smtp_port, email.tls, email.starttls) == (port, tls, starttls)


@pytest.mark.parametrize(
    ("written", "port", "ssl"),
    [
        ({}, 993, True),
        ({"port": 143}, 143, False),
        ({"ssl": False}, 143, False),
        ({"port": 1993}, 1993, True),
        ({"port": 143, "ssl": True}, 143, True),
    ],
)
def test_imap_port_and_ssl_follow_each_other(written: dict[str, Any], port: int, ssl: bool) -> None:
    inbound = config_from_dict(
        {"email": {"inbound": {**INBOUND, **written}}}, env=ENV
    ).email.inbound
    assert inbound is not None and (inbound.port, inbound.ssl) == (port, ssl)


def test_list_id_and_dkim_domain_follow_from_address_and_brand() -> None:
    email = load('[email]\nfrom_address = "SEEM alerts <Alerts@SEEM.example>"\n').email
    assert email.list_id == "SEEM contract alerts <Alerts.seem.example>"
    assert email.dkim_domain == "seem.example"
    branded = load('[brand]\nname = "BEST Procurement"\n[email]\nfrom_address = "a@b.org"\n')
    assert branded.email.list_id == "BEST Procurement <a.b.org>"
    written = load('[email]\nfrom_address = "a@b.org"\nlist_id = "<x.y.org>"\n').email
    assert written.list_id == "<x.y.org>"
    assert load("").email.list_id is None and load("").email.dkim_domain is None


# --------------------------------------------------------------------------- alerts, routing


def test_writing_one_types_list_takes_its_kinds_out_of_the_other() -> None:
    types = load('[alerts.types]\ninstant = ["tender", "pipeline"]\n').alerts.types
    assert types.instant == ("tender", "pipeline")
    assert types.digest == ("planned", "dm_modified")
    types = load('[alerts.types]\ndigest = ["tender"]\n').alerts.types
    assert types.instant == ("engagement", "dm_intention", "dm_established")
    assert types.digest == ("tender",)
    both = load('[alerts.types]\ninstant = ["award"]\ndigest = ["change"]\n').alerts.types
    assert (both.instant, both.digest) == (("award",), ("change",))


def test_enquiry_timers_are_independent() -> None:
    """reply_within counts from acceptance, so it may be shorter than ack_within."""
    routing = load('[routing]\nack_within = "3d"\nreply_within = "1h"\n').routing
    assert (routing.ack_within, routing.reply_within) == (timedelta(days=3), timedelta(hours=1))


def test_working_hours_follow_the_alerts_timezone_unless_they_name_one() -> None:
    assert str(load('[alerts]\ntimezone = "Europe/Dublin"\n').routing.working_hours) == (
        "Mon-Fri 09:00-17:00 Europe/Dublin"
    )
    text = '[alerts]\ntimezone = "Europe/Dublin"\n[routing]\nworking_hours = "Mon-Thu 10:00-16:00"'
    assert str(load(text).routing.working_hours) == "Mon-Thu 10:00-16:00 Europe/Dublin"
    named = load(
        '[alerts]\ntimezone = "Europe/Dublin"\n[routing]\n'
        'working_hours = "Mon-Thu 10:00-16:00 America/New_York"\n'
    )
    assert named.routing.working_hours.timezone == "America/New_York"


# --------------------------------------------------------------------------- telegram


def test_webhook_url_is_public_url_plus_path() -> None:
    config = load('[web]\npublic_url = "https://bestbot.example.org/"\n')
    assert config.telegram.webhook_url == "https://bestbot.example.org/telegram/webhook"
    moved = load('[telegram]\nwebhook_path = "/tg"\n[web]\npublic_url = "https://b.example.org"\n')
    assert moved.telegram.webhook_url == "https://b.example.org/tg"
    written = load(
        '[telegram]\nwebhook_url = "https://hooks.example.org/x"\n'
        '[web]\npublic_url = "https://b.example.org"\n'
    )
    assert written.telegram.webhook_url == "https://hooks.example.org/x"
    assert load("").telegram.webhook_url is None


def test_an_http_public_url_is_fine_until_webhook_mode() -> None:
    assert load('[web]\npublic_url = "http://127.0.0.1:8080"\n').web.public_url
    webhook = (
        '[telegram]\nmode = "webhook"\nwebhook_secret = "s3cret_-"\n'
        '[web]\npublic_url = "https://bestbot.example.org"\n'
    )
    telegram = load(webhook).telegram
    assert telegram.webhook and telegram.webhook_url == (
        "https://bestbot.example.org/telegram/webhook"
    )
    assert load(webhook.replace("example.org", "example.org:8443")).telegram.webhook_url
