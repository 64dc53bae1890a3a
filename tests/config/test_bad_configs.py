"""Bad configs as people write them: each gets exactly one line naming the key, never a crash."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import SECTION_KEYS, Config, ConfigError, config_from_dict
from tests.config.kit import ENV, error

# (TOML, the key the message must name, words the message must contain)
CASES: list[tuple[str, str, str]] = [
    # durations written the way people talk
    ('[[feeds]]\nkind = "find_a_tender"\nevery = "5 mins"', "feeds[0].every", '"5 mins" is not'),
    ('[[feeds]]\nkind = "find_a_tender"\nevery = "1h30"', "feeds[0].every", '"1h30" is not'),
    ('[[feeds]]\nkind = "find_a_tender"\nevery = "-5m"', "feeds[0].every", '"-5m" is not'),
    ('[[feeds]]\nkind = "find_a_tender"\nevery = ""', "feeds[0].every", '"" is not a duration'),
    ('[[feeds]]\nkind = "find_a_tender"\nevery = "0s"', "feeds[0].every", "more than zero"),
    ('[[feeds]]\nkind = "find_a_tender"\nevery = 15', "feeds[0].every", "15 is not a duration"),
    ('[[feeds]]\nkind = "find_a_tender"\nevery = 1.5', "feeds[0].every", "1.5 is not a duration"),
    ('[[feeds]]\nkind = "find_a_tender"\nevery = "99999d"', "feeds[0].every", "longer than"),
    ('[[feeds]]\nkind = "find_a_tender"\nlookback = "three days"', "feeds[0].lookback", "not"),
    ('[[feeds]]\nkind = "find_a_tender"\npage_pause = "-1s"', "feeds[0].page_pause", "not"),
    ('[routing]\nack_within = "4 hours"', "routing.ack_within", '"4 hours" is not a duration'),
    ('[routing]\nreply_within = "2 working days"', "routing.reply_within", "is not a duration"),
    ('[reports]\nhorizon = "18 months"', "reports.horizon", '"18 months" is not a duration'),
    ('[alerts]\nremind_before = "3d"', "alerts.remind_before", '"3d" is not a list'),
    ('[alerts]\nremind_before = ["3d", "1 day"]', "alerts.remind_before[1]", '"1 day" is not'),
    ('[email.inbound]\nhost = "h"\nevery = "hourly"', "email.inbound.every", "is not a duration"),
    # typos in keys and tables
    ('[telegram]\ntokn = "x"', "telegram.tokn", 'unknown key (did you mean "token"?)'),
    ('[[feeds]]\nknd = "file"\npath = "x"', "feeds[0].knd", 'did you mean "kind"?'),
    ("[aletrs]\n", "aletrs", 'did you mean "alerts"?'),
    ('[alerts.types]\ninstnt = ["tender"]', "alerts.types.instnt", 'did you mean "instant"?'),
    ('[email]\nsmtp_pasword = "x"', "email.smtp_pasword", 'did you mean "smtp_password"?'),
    ('[reports]\nrecipient = "both"', "reports.recipient", 'did you mean "recipients"?'),
    (
        '[telegram]\nwebhook_secrt = "abc"',
        "telegram.webhook_secrt",
        'did you mean "webhook_secret"',
    ),
    ('[brand]\nnmae = "x"', "brand.nmae", 'did you mean "name"?'),
    (
        '[[feeds]]\nkind = "find_a_tender"\nmax_page_size = "1MB"',
        "feeds[0].max_page_size",
        "unknown",
    ),
    ('[routing.topic_words]\nfundng = ["grant"]', "routing.topic_words.fundng", "did you mean"),
    ("[matching]\nstages = []", "matching.stages", 'did you mean "default_stages"?'),
    ('[telegram]\n"bot token" = "x"', 'telegram."bot token"', "unknown key"),
    (
        '[routing.topic_words]\n"social.value" = ["x"]',
        'routing.topic_words."social.value"',
        "unknown",
    ),
    # wrong types
    ('[web]\nport = "8080"', "web.port", '"8080" is not a port number'),
    ("[web]\nport = -1", "web.port", "-1 is not a port number"),
    ("[email]\nsmtp_port = 99999", "email.smtp_port", "99999 is not a port number"),
    ('[email]\nstarttls = "yes"', "email.starttls", '"yes" is not true or false'),
    ("[reports]\nenabled = 1", "reports.enabled", "1 is not true or false"),
    ("[alerts]\nmax_attempts = 0", "alerts.max_attempts", "0 is not a whole number from 1 to 100"),
    ("[alerts]\nmax_attempts = 2.5", "alerts.max_attempts", "2.5 is not a whole number"),
    ('[alerts]\ndigest_hour = "8am"', "alerts.digest_hour", '"8am" is not an hour of the day'),
    ("[reports]\nhour = -3", "reports.hour", "-3 is not an hour of the day"),
    ("[reports]\nweekly_day = 1", "reports.weekly_day", '1 is not a day like "Mon"'),
    ('[alerts]\nweekly_day = "Mondays"', "alerts.weekly_day", '"Mondays" is not a day'),
    ('web = "x"', "web", "a string is not a table ([web])"),
    ("alerts = [1]", "alerts", "a list is not a table ([alerts])"),
    ("feeds = [1, 2]", "feeds[0]", "1 is not a table"),
    ('[feeds]\nkind = "file"', "feeds", "a table is not a list of [[feeds]] tables"),
    ('[[feeds]]\nkind = "contracts_finder"\nstages = "tender"', "feeds[0].stages", "not a list"),
    ("[telegram]\nadmin_ids = 123", "telegram.admin_ids", "123 is not a list of Telegram"),
    ("[telegram]\nadmin_ids = [0]", "telegram.admin_ids[0]", "0 is not a Telegram user id"),
    ("[telegram]\nadmin_ids = [-42]", "telegram.admin_ids[0]", "-42 is not a Telegram user id"),
    ("[telegram]\nadmin_ids = [true]", "telegram.admin_ids[0]", "true is not a Telegram user id"),
    ("[routing]\nworking_hours = 9", "routing.working_hours", "9 is not working hours"),
    ('[routing.topic_words]\nfunding = [""]', "routing.topic_words.funding[0]", "non-empty"),
    ("[routing]\ntopic_words = 3", "routing.topic_words", "3 is not a table"),
    ('[email]\ninbound = "imap.example.org"', "email.inbound", "a string is not a table"),
    ('[alerts]\ntypes = ["tender"]', "alerts.types", "a list is not a table ([alerts.types])"),
    # TOML dates and times where strings belong
    ("[alerts]\nquiet_hours = 21:00:00", "alerts.quiet_hours", "a TOML date/time; quote it"),
    ("[alerts]\ntimezone = 2026-01-01", "alerts.timezone", "a TOML date/time; quote it"),
    # empty strings
    ('[web]\nhost = ""', "web.host", '"" is not a non-empty string'),
    ('[web]\nhost = "   "', "web.host", "is not a non-empty string"),
    ('[brand]\nname = ""', "brand.name", '"" is not a name'),
    ('[email.inbound]\nhost = ""', "email.inbound.host", '"" is not a non-empty string'),
    ('[database]\nurl = ""', "database.url", '"" is not a database URL'),
    ('[routing]\nworking_hours = ""', "routing.working_hours", "is not working hours"),
    ('[email.inbound]\nhost = "h"\nfolder = ""', "email.inbound.folder", "non-empty"),
    # feeds
    ("[[feeds]]\n", "feeds[0].kind", 'required: one of "find_a_tender"'),
    ('[[feeds]]\nname = "x"', "feeds[0].kind", "required"),
    ('[[feeds]]\nkind = "find-a-tender"', "feeds[0].kind", 'did you mean "find_a_tender"?'),
    ('[[feeds]]\nkind = "FTS"', "feeds[0].kind", "is not one of"),
    ('[[feeds]]\nkind = "file"\nname = ""\npath = "x"', "feeds[0].name", '"" is not a feed name'),
    ('[[feeds]]\nkind = "file"\nname = "my feed"\npath = "x"', "feeds[0].name", "feed name"),
    ('[[feeds]]\nkind = "file"', "feeds[0].path", "required for a file feed"),
    ('[[feeds]]\nkind = "file"\npath = ""', "feeds[0].path", "required for a file feed"),
    (
        '[[feeds]]\nkind = "find_a_tender"\nname = "a"\n[[feeds]]\nkind = "file"\nname = "a"\n'
        'path = "x"',
        "feeds[1].name",
        '"a" is already used by feeds[0]',
    ),
    (
        '[[feeds]]\nkind = "contracts_finder"\n[[feeds]]\nkind = "contracts_finder"\n'
        'stages = ["award"]',
        "feeds[1].name",
        'required: feeds[0] is already called "contracts_finder"',
    ),
    (
        '[[feeds]]\nkind = "find_a_tender"\nurl = "www.find-tender.service.gov.uk"',
        "feeds[0].url",
        'is not a URL like "https://example.org/"',
    ),
    ('[[feeds]]\nkind = "find_a_tender"\nurl = "ftp://x.org/f"', "feeds[0].url", "not a URL"),
    ('[[feeds]]\nkind = "find_a_tender"\nurl = "https://"', "feeds[0].url", "not a URL"),
    (
        '[[feeds]]\nkind = "find_a_tender"\njitter = "20m"',
        "feeds[0].jitter",
        '"20m" must be shorter than every ("15m")',
    ),
    (
        '[[feeds]]\nkind = "find_a_tender"\nevery = "20s"\njitter = "30s"',
        "feeds[0].jitter",
        '"30s" must be shorter than every ("20s")',
    ),
    (
        '[[feeds]]\nkind = "find_a_tender"\ntimeout = "20m"\ndeadline = "5m"',
        "feeds[0].timeout",
        '"20m" must not be longer than deadline ("5m"',
    ),
    (
        '[[feeds]]\nkind = "find_a_tender"\nmax_page_bytes = "20 megs"',
        "feeds[0].max_page_bytes",
        '"20 megs" is not a size like "20MB"',
    ),
    (
        '[[feeds]]\nkind = "find_a_tender"\nmax_page_bytes = 0',
        "feeds[0].max_page_bytes",
        "0 is not a size",
    ),
    (
        '[[feeds]]\nkind = "find_a_tender"\nmax_page_bytes = "1.5MB"',
        "feeds[0].max_page_bytes",
        "is not a size",
    ),
    (
        '[[feeds]]\nkind = "find_a_tender"\nmax_retry_after = "never"',
        "feeds[0].max_retry_after",
        "is not a duration",
    ),
    ('[web]\nmax_body = "a lot"', "web.max_body", "is not a size"),
    ('[web]\nmax_body = "20"', "web.max_body", '"20" is not a size'),
    # addresses, time zones, URLs, windows
    ('[email]\nfrom_address = "alerts.example.org"', "email.from_address", "not an email address"),
    ('[email]\nreply_to = "SEEM <enquiries at seem>"', "email.reply_to", "not an email address"),
    ('[email]\nbounce_address = "SEEM <b@x.org>"', "email.bounce_address", "not an email address"),
    ('[email.inbound]\nhost = "h"\naddress = "nobody"', "email.inbound.address", "not an email"),
    ('[alerts]\ntimezone = "Europe/Lodnon"', "alerts.timezone", 'did you mean "Europe/London"?'),
    ('[alerts]\ntimezone = "GMT+1 London"', "alerts.timezone", "is not a timezone"),
    ('[alerts]\nquiet_hours = "9pm-7am"', "alerts.quiet_hours", "is not quiet hours"),
    ('[alerts]\nquiet_hours = "21:00-21:00"', "alerts.quiet_hours", "is not quiet hours"),
    ("[alerts]\nquiet_hours = true", "alerts.quiet_hours", "true is not quiet hours"),
    ('[routing]\nworking_hours = "9-5"', "routing.working_hours", "is not working hours"),
    (
        '[routing]\nworking_hours = "Mon-Fri 09:00-17:00 London"',
        "routing.working_hours",
        "is not a timezone",
    ),
    ('[web]\npublic_url = "bestbot.example.org"', "web.public_url", "is not a URL"),
    ('[web]\npublic_url = "https://best bot.example.org"', "web.public_url", "is not a URL"),
    ('[telegram]\nbase_url = "localhost:8081"', "telegram.base_url", "is not a URL"),
    ('[database]\nurl = "mysql://root@db/x"', "database.url", "is not a database URL"),
    ('[database]\nurl = "bestbot.sqlite3"', "database.url", "is not a database URL"),
    ("[database]\nurl = 5", "database.url", "5 is not a database URL"),
    # choices
    ('[alerts]\ndefault_frequency = "hourly"', "alerts.default_frequency", "is not one of"),
    ('[alerts]\ndefault_frequency = "Daily"', "alerts.default_frequency", 'did you mean "daily"?'),
    ('[reports]\nrecipients = "everyone"', "reports.recipients", "is not one of"),
    ('[reports]\nregion = "Narnia"', "reports.region", '"Narnia" is not a region'),
    ('[reports]\nregion = "East Midlnds"', "reports.region", 'did you mean "East Midlands"?'),
    ('[reports]\nregion = ""', "reports.region", "is not a region"),
    ('[matching]\ndefault_stages = ["tenders"]', "matching.default_stages[0]", "did you mean"),
    ('[alerts.types]\ninstant = ["tendr"]', "alerts.types.instant[0]", 'did you mean "tender"?'),
    ('[alerts.types]\ndigest = ["awards"]', "alerts.types.digest[0]", 'did you mean "award"?'),
    ('[alerts.types]\ninstant = "tender"', "alerts.types.instant", "is not a list"),
    (
        '[alerts.types]\ninstant = ["tender"]\ndigest = ["award", "tender"]',
        "alerts.types.digest[1]",
        '"tender" is also in alerts.types.instant',
    ),
    # database
    ('[database]\nclaim_lease = "5s"', "database.claim_lease", '"5s" is too short'),
    ('[database]\nclaim_lease = "soon"', "database.claim_lease", "is not a duration"),
    # telegram
    ("[telegram]\nsend_rate = 0", "telegram.send_rate", "a whole number from 1 to 1000"),
    ("[telegram]\nsend_rate = 29.5", "telegram.send_rate", "a whole number from 1 to 1000"),
    ('[telegram]\nmode = "webhooks"', "telegram.mode", 'did you mean "webhook"?'),
    ('[telegram]\nmode = "push"', "telegram.mode", 'is not one of "polling", "webhook"'),
    ('[telegram]\nmode = "webhook"', "telegram.webhook_secret", "required when telegram.mode"),
    (
        '[telegram]\nmode = "webhook"\nwebhook_secret = "seem webhook 2026"',
        "telegram.webhook_secret",
        "the value given has a space in it",
    ),
    (
        '[telegram]\nmode = "webhook"\nwebhook_secret = "' + "x" * 300 + '"',
        "telegram.webhook_secret",
        "has 300 characters",
    ),
    ('[telegram]\nwebhook_secret = "ünïcode"', "telegram.webhook_secret", "another character"),
    (
        '[telegram]\nmode = "webhook"\nwebhook_secret = "abc"',
        "telegram.webhook_url",
        'required when telegram.mode is "webhook"',
    ),
    (
        '[telegram]\nmode = "webhook"\nwebhook_secret = "abc"\n[web]\n'
        'public_url = "http://bestbot.example.org"',
        "web.public_url",
        "must be https",
    ),
    (
        '[telegram]\nmode = "webhook"\nwebhook_secret = "abc"\n[web]\n'
        'public_url = "https://bestbot.example.org:8080"',
        "web.public_url",
        "uses port 8080",
    ),
    (
        '[telegram]\nmode = "webhook"\nwebhook_secret = "abc"\n'
        'webhook_url = "https://127.0.0.1/hook"',
        "telegram.webhook_url",
        "not a public address",
    ),
    (
        '[telegram]\nmode = "webhook"\nwebhook_secret = "abc"\n'
        'webhook_url = "https://localhost/hook"',
        "telegram.webhook_url",
        "not a public address",
    ),
    (
        '[telegram]\nmode = "webhook"\nwebhook_secret = "abc"\n'
        'webhook_url = "https://192.168.1.10/hook"',
        "telegram.webhook_url",
        "not a public address",
    ),
    (
        '[telegram]\nmode = "webhook"\nwebhook_secret = "abc"\nwebhook_url = "http://bot.example"'
        '\n[web]\npublic_url = "https://bestbot.example.org"',
        "telegram.webhook_url",
        "https",
    ),
    ('[telegram]\nwebhook_path = "telegram/webhook"', "telegram.webhook_path", "not a URL path"),
    ('[telegram]\nwebhook_path = "/hook?x=1"', "telegram.webhook_path", "not a URL path"),
    ("[telegram]\nwebhook_max_connections = 0", "telegram.webhook_max_connections", "1 to 100"),
    ("[telegram]\nwebhook_max_connections = 101", "telegram.webhook_max_connections", "1 to 100"),
    ("[telegram]\ntoken = 12345", "telegram.token", "the value given is not a string"),
    ('[telegram]\ntoken = "12345"', "telegram.token", "is not a bot token"),
    ('[telegram]\nbot_username = "@b"', "telegram.bot_username", "is not a bot username"),
    # email
    ('[email]\nsmtp_host = "smtp.example.org"', "email.from_address", "required when"),
    ("[email]\ntls = true\nstarttls = true", "email.starttls", "cannot be true when email.tls"),
    ('[email]\nlist_id = "not a list id <>"', "email.list_id", "is not a List-Id"),
    ('[email]\nlist_id = "alerts"', "email.list_id", "is not a List-Id"),
    ('[email]\ndkim_selector = "best bot"', "email.dkim_selector", "is not a DNS selector"),
    (
        '[email]\ndkim_selector = "s1"\nfrom_address = "a@seem.example"',
        "email.dkim_key_path",
        "required when email.dkim_selector is set",
    ),
    ('[email]\ndkim_domain = "localhost"', "email.dkim_domain", "is not a domain"),
    ('[email]\ndkim_key = "not a pem"', "email.dkim_key", "is not a PEM private key"),
    (
        '[email]\ndkim_key_path = "/nonexistent/bestbot/dkim.pem"\ndkim_selector = "s1"\n'
        'from_address = "a@seem.example"',
        "email.dkim_key_path",
        "no such file",
    ),
    ('[email]\nfeedback_id_prefix = "has space"', "email.feedback_id_prefix", "Feedback-ID"),
    ("[email.inbound]\nport = 993", "email.inbound.host", "required in [email.inbound]"),
    # web
    ('[web]\nsecret_key = "short"', "web.secret_key", "too short"),
    ("[web]\nsecret_key = 1234567890123456789", "web.secret_key", "not a string"),
    ('[brand]\nname = "SEEM <alerts>"', "brand.name", "without <, > or"),
    ('[brand]\nname = "' + "S" * 65 + '"', "brand.name", "1-64 characters"),
]


@pytest.mark.parametrize(("text", "key", "words"), CASES)
def test_one_line_naming_the_key(text: str, key: str, words: str) -> None:
    env = {} if "secret_key" in text else ENV
    found = error(text, env=env)
    assert found.key == key, str(found)
    assert str(found).startswith(f"config error: {key}: "), str(found)
    assert words in str(found), str(found)


def test_the_case_list_covers_every_table() -> None:
    """The cases above reach every table of the schema (a new table needs bad examples)."""
    reached = {
        ".".join(p for p in key.replace("[", ".").split(".") if p and not p[0].isdigit())
        for _, key, _ in CASES
    }
    tables = {path for path in SECTION_KEYS if path}
    missing = {t for t in tables if not any(r == t or r.startswith(t + ".") for r in reached)}
    assert not missing


# --------------------------------------------------------------------------- anything at all

_SCALARS = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
    st.floats(allow_nan=False),
    st.sampled_from(["15m", "0s", "off", "24/7", "Mon", "UKF", "https://x.org", "a@b.org", ""]),
    st.just(date(2026, 1, 1)),
    st.just(time(21, 0)),
    st.just(datetime(2026, 1, 1, 9, 0)),
)


def _nested(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    )


_VALUES = st.recursive(_SCALARS, _nested, max_leaves=6)


def _key_paths() -> list[tuple[str, str]]:
    return [(table, key) for table, keys in SECTION_KEYS.items() for key in keys]


@st.composite
def _configs(draw: st.DrawFn) -> dict[str, Any]:
    """A config with a few keys anywhere in the schema set to anything TOML can hold."""
    data: dict[str, Any] = {}
    for table, key in draw(st.lists(st.sampled_from(_key_paths()), min_size=1, max_size=4)):
        node = _table(data, table)
        if node is not None:
            node[key] = draw(_VALUES)
    return data


def _table(data: dict[str, Any], path: str) -> dict[str, Any] | None:
    """The (new or existing) table at ``path``; None if something else already holds it."""
    node: Any = data
    for part in path.split(".") if path else []:
        child = node.setdefault(part, [{"kind": "find_a_tender"}] if part == "feeds" else {})
        if part == "feeds" and isinstance(child, list) and child:
            child = child[0]
        if not isinstance(child, dict):
            return None
        node = child
    return node


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_configs())
def test_anything_is_a_config_or_one_line(data: dict[str, Any]) -> None:
    """Whatever a file holds, loading gives a Config or one ConfigError line, nothing else."""
    try:
        config = config_from_dict(data, env=ENV)
    except ConfigError as exc:
        assert "\n" not in str(exc) and exc.key, str(exc)
        return
    assert isinstance(config, Config)
