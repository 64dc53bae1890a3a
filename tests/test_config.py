"""Config loading: defaults, file + environment, one-line errors, secrets never shown."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import (
    DEFAULT_FEEDS,
    Config,
    ConfigError,
    InboundEmailConfig,
    TelegramConfig,
    WebConfig,
    WorkingHours,
    config_from_dict,
    load_config,
    redact_url,
)
from bot.durations import (
    format_duration,
    in_time_window,
    parse_clock,
    parse_duration,
    parse_time_window,
)
from bot.errors import UserError

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "config.example.toml"
KEY = "k" * 32
ENV = {"BESTBOT_SECRET_KEY": KEY}
TOKEN = "123456789:AAEsecretTOKENvalue_-xyz"


def write(tmp_path: Path, text: str, name: str = "bestbot.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env=ENV if env is None else env)
    message = str(info.value)
    assert "\n" not in message
    return message


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("4h", timedelta(hours=4)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(days=7)),
        ("1h30m", timedelta(minutes=90)),
        (" 2H ", timedelta(hours=2)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "15", "5 mins", "1.5h", "-3m", "0s", "h", "3x", "2d 1"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    "value",
    [timedelta(seconds=90), timedelta(minutes=15), timedelta(hours=4), timedelta(days=16)],
)
def test_format_duration_round_trips(value: timedelta) -> None:
    assert parse_duration(format_duration(value)) == value


def test_format_duration_is_short() -> None:
    assert format_duration(timedelta(minutes=90)) == "1h30m"
    assert format_duration(timedelta(days=2)) == "2d"
    assert format_duration(timedelta(0)) == "0s"


def test_clock_and_windows() -> None:
    assert parse_clock("7:05") == time(7, 5)
    for bad in ("25:00", "12:60", "7", "07:00:00", "noon"):
        with pytest.raises(ValueError):
            parse_clock(bad)
    window = parse_time_window("21:00-07:00")
    assert window == (time(21), time(7))
    assert in_time_window(window, time(23, 30))
    assert in_time_window(window, time(6, 59))
    assert not in_time_window(window, time(7, 0))
    assert not in_time_window(window, time(12, 0))
    assert in_time_window((time(9), time(17)), time(9))
    assert not in_time_window((time(9), time(17)), time(17))
    with pytest.raises(ValueError):
        parse_time_window("07:00-07:00")


# --------------------------------------------------------------------------- where from


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(env={})
    assert config.source is None
    assert config.database.url == "sqlite:///bestbot.sqlite3"
    assert config.telegram == TelegramConfig()
    assert not config.telegram.enabled and not config.email.enabled
    assert config.email.smtp_port == 587 and config.email.starttls and not config.email.tls
    assert config.email.inbound is None
    assert config.web == WebConfig(host="127.0.0.1", port=8080, public_url=None)
    assert config.web.base_url == "http://127.0.0.1:8080"
    assert config.feeds == DEFAULT_FEEDS
    assert [(f.name, f.kind, f.every, f.enabled) for f in config.feeds] == [
        ("find_a_tender", "find_a_tender", timedelta(minutes=15), True),
        ("contracts_finder", "contracts_finder", timedelta(minutes=15), True),
    ]
    assert config.feeds[0].url == (
        "https://www.find-tender.service.gov.uk/api/1.0/ocdsReleasePackages"
    )
    assert config.feeds[1].url == (
        "https://www.contractsfinder.service.gov.uk/Published/Notices/OCDS/Search"
    )
    assert config.feeds[0].lookback == timedelta(days=3)
    assert config.alerts.quiet_hours == (time(21), time(7))
    assert config.alerts.timezone == "Europe/London"
    assert config.alerts.digest_hour == 8 and config.alerts.weekly_day == 0
    assert config.alerts.group_within == timedelta(minutes=1)
    assert config.routing.ack_within == timedelta(hours=4)
    assert config.routing.reply_within == timedelta(days=2)
    assert str(config.routing.working_hours) == "Mon-Fri 09:00-17:00 Europe/London"
    assert config.secret_key_generated and len(config.secret_key) >= 32
    assert config == Config(secret_key=config.secret_key)


def test_missing_secret_key_is_generated_and_flagged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The Service then keeps the first generated key in the database (tests/bot)."""
    caplog.set_level("INFO")
    monkeypatch.chdir(tmp_path)
    first, second = load_config(env={}), load_config(env={})
    assert first.secret_key != second.secret_key
    assert first.secret_key_generated and second.secret_key_generated
    assert "BESTBOT_SECRET_KEY" in caplog.text


def test_dot_bestbot_toml_is_picked_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, '[web]\nport = 9000\nsecret_key = "0123456789abcdef"\n')
    config = load_config(env={})
    assert config.web.port == 9000
    assert config.source == "bestbot.toml"
    assert config.secret_key == "0123456789abcdef" and not config.secret_key_generated


def test_env_var_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "[web]\nport = 9000\n")  # ignored: $BESTBOT_CONFIG wins
    other = write(tmp_path, "[web]\nport = 9001\n", "other.toml")
    assert load_config(env={**ENV, "BESTBOT_CONFIG": str(other)}).web.port == 9001
    assert load_config(env=ENV).web.port == 9000
    assert load_config(tmp_path / "other.toml", env=ENV).web.port == 9001


def test_missing_explicit_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_config(missing, env=ENV)
    assert str(info.value) == f"config error: {missing}: no such file"
    with pytest.raises(ConfigError, match=r"nope\.toml: no such file"):
        load_config(env={"BESTBOT_CONFIG": str(missing)})
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path, env=ENV)


def test_config_error_is_a_user_error() -> None:
    error = ConfigError("is wrong\nreally", "web.port")
    assert isinstance(error, UserError)
    assert str(error) == "config error: web.port: is wrong really"
    assert error.key == "web.port"


# --------------------------------------------------------------------------- file + env


FULL = f"""
[database]
url = "postgresql://bestbot:dbpass@db.example.org/bestbot"

[telegram]
token = "{TOKEN}"
base_url = "http://127.0.0.1:8081/bot"
admin_ids = [111, 222, 111]
bot_username = "@BestProcurementBot"

[email]
from_address = "BEST alerts <alerts@example.org>"
smtp_host = "smtp.example.org"
smtp_username = "alerts@example.org"
smtp_password = "smtp-file-password"
tls = true

[email.inbound]
host = "imap.example.org"
username = "enquiries@example.org"
password = "imap-file-password"
every = "5m"
address = "enquiries@example.org"

[web]
port = 0
public_url = "https://bestbot.example.org/"
secret_key = "file-secret-key-0123456789"

[[feeds]]
name = "fts"
kind = "find_a_tender"
every = "10m"
lookback = "7d"
jitter = "0s"

[[feeds]]
kind = "contracts_finder"
stages = ["tender", "planning"]
enabled = false

[[feeds]]
name = "local"
kind = "file"
path = "samples/release.json"

[matching]
default_stages = ["tender"]

[alerts]
quiet_hours = "off"
timezone = "Europe/Dublin"
weekly_day = "friday"
remind_before = ["1d", "5d"]

[routing]
ack_within = "90m"
working_hours = "Mon-Thu 10:00-16:00"

[routing.topic_words]
funding = ["crowdfunder", "community shares"]
"""


def test_full_file(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    config = load_config(path, env={})
    assert config.source == str(path)
    assert config.database.url == "postgresql://bestbot:dbpass@db.example.org/bestbot"
    assert config.telegram.token == TOKEN
    assert config.telegram.admin_ids == (111, 222)
    assert config.telegram.bot_username == "BestProcurementBot"
    assert config.email.from_email == "alerts@example.org"
    assert config.email.tls and not config.email.starttls and config.email.smtp_port == 465
    assert config.email.inbound == InboundEmailConfig(
        host="imap.example.org",
        username="enquiries@example.org",
        password="imap-file-password",
        every=timedelta(minutes=5),
        address="enquiries@example.org",
    )
    assert config.web.port == 0
    assert config.web.base_url == "https://bestbot.example.org"
    assert config.secret_key == "file-secret-key-0123456789"
    fts, cf, local = config.feeds
    assert (fts.name, fts.every, fts.lookback, fts.jitter) == (
        "fts",
        timedelta(minutes=10),
        timedelta(days=7),
        timedelta(0),
    )
    assert fts.url == DEFAULT_FEEDS[0].url
    assert (cf.name, cf.stages, cf.enabled) == ("contracts_finder", ("tender", "planning"), False)
    assert local.path == str(tmp_path / "samples" / "release.json") and local.url is None
    assert config.feed("local") is local
    with pytest.raises(UserError, match='no feed named "nope"'):
        config.feed("nope")
    assert config.matching.default_stages == ("tender",)
    assert config.alerts.quiet_hours is None
    assert config.alerts.weekly_day == 4  # Friday
    assert config.alerts.remind_before == (timedelta(days=5), timedelta(days=1))
    assert config.routing.ack_within == timedelta(minutes=90)
    hours = config.routing.working_hours
    assert str(hours) == "Mon-Thu 10:00-16:00 Europe/Dublin"
    assert dict(config.routing.topic_words) == {"funding": ("crowdfunder", "community shares")}


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    env = {
        "BESTBOT_TELEGRAM_TOKEN": "42:from-env",
        "BESTBOT_SMTP_PASSWORD": "smtp-env",
        "BESTBOT_IMAP_PASSWORD": "imap-env",
        "BESTBOT_SECRET_KEY": "env-secret-key-0123456789",
        "BESTBOT_DATABASE_URL": "postgres://u:p@h/db",
    }
    config = load_config(path, env=env)
    assert config.telegram.token == "42:from-env"
    assert config.email.smtp_password == "smtp-env"
    assert config.email.inbound is not None and config.email.inbound.password == "imap-env"
    assert config.secret_key == "env-secret-key-0123456789"
    assert config.database.url == "postgresql://u:p@h/db"
    # An empty variable counts as unset.
    empty = load_config(path, env=dict.fromkeys(env, ""))
    assert empty.telegram.token == TOKEN


def test_environment_secrets_without_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(env={"BESTBOT_TELEGRAM_TOKEN": TOKEN, **ENV})
    assert config.telegram.token == TOKEN and config.secret_key == KEY


def test_config_from_dict() -> None:
    config = config_from_dict({"web": {"port": 1234}}, env=ENV)
    assert config.web.port == 1234 and config.feeds == DEFAULT_FEEDS


def test_empty_feeds_list_means_no_feeds() -> None:
    assert config_from_dict({"feeds": []}, env=ENV).feeds == ()


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[[feeds]]\nkind = "find_a_tender"\nevery = "5 mins"\n',
            'feeds[0].every: "5 mins" is not a duration like "15m"',
        ),
        (
            '[[feeds]]\nkind = "find_a_tender"\nevery = 15\n',
            'feeds[0].every: 15 is not a duration like "15m"',
        ),
        ('[telegram]\ntokn = "x"\n', 'telegram.tokn: unknown key (did you mean "token"?)'),
        ("[telegrm]\n", 'telegrm: unknown key (did you mean "telegram"?)'),
        (
            '[alerts]\nquiet_hour = "off"\n',
            'alerts.quiet_hour: unknown key (did you mean "quiet_hours"?)',
        ),
        ("[web]\nzzz = 1\n", "web.zzz: unknown key"),
        (
            '[[feeds]]\nkind = "file"\npath = "x"\nevry = "1h"\n',
            'feeds[0].evry: unknown key (did you mean "every"?)',
        ),
        (
            '[email.inbound]\nhost = "h"\nfolfer = "X"\n',
            'email.inbound.folfer: unknown key (did you mean "folder"?)',
        ),
        ('[web]\nport = "8080"\n', 'web.port: "8080" is not a port number (0-65535)'),
        ("[web]\nport = 70000\n", "web.port: 70000 is not a port number (0-65535)"),
        ("[email]\nsmtp_port = 0\n", "email.smtp_port: 0 is not a port number (1-65535)"),
        ("[email]\nstarttls = 1\n", "email.starttls: 1 is not true or false"),
        ('[web]\nhost = ""\n', 'web.host: "" is not a non-empty string'),
        ('web = "x"\n', "web: a string is not a table ([web])"),
        ("web = 5\n", "web: 5 is not a table ([web])"),
        (
            '[alerts]\nquiet_hours = "21:00-25:00"\n',
            'alerts.quiet_hours: "21:00-25:00" is not quiet hours like "21:00-07:00" or "off"',
        ),
        (
            '[alerts]\nquiet_hours = "never"\n',
            'alerts.quiet_hours: "never" is not quiet hours like "21:00-07:00" or "off"',
        ),
        (
            '[alerts]\ntimezone = "Europe/Lodnon"\n',
            'alerts.timezone: "Europe/Lodnon" is not a timezone like "Europe/London"'
            ' (did you mean "Europe/London"?)',
        ),
        ("[alerts]\ndigest_hour = 24\n", "alerts.digest_hour: 24 is not an hour of the day (0-23)"),
        (
            '[alerts]\nweekly_day = "Funday"\n',
            'alerts.weekly_day: "Funday" is not a day like "Mon"',
        ),
        (
            '[alerts]\ndefault_frequency = "hourly"\n',
            'alerts.default_frequency: "hourly" is not one of "instant", "daily", "weekly"',
        ),
        (
            '[alerts]\nremind_before = ["3d", "soon"]\n',
            'alerts.remind_before[1]: "soon" is not a duration like "3d"',
        ),
        (
            '[routing]\nworking_hours = "Mon-Fri 9-5"\n',
            'routing.working_hours: "Mon-Fri 9-5" is not working hours like'
            ' "Mon-Fri 09:00-17:00" or "24/7"',
        ),
        (
            '[routing]\nworking_hours = "Mon-Fri 17:00-09:00"\n',
            'routing.working_hours: "Mon-Fri 17:00-09:00": the working day must end after it'
            " starts",
        ),
        (
            '[routing]\nworking_hours = "Mon-Fri 09:00-17:00 Mars/Olympus"\n',
            'routing.working_hours: "Mars/Olympus" is not a timezone like "Europe/London"',
        ),
        (
            '[routing.topic_words]\nfundng = ["grant"]\n',
            'routing.topic_words.fundng: unknown key (did you mean "funding"?)',
        ),
        (
            '[routing.topic_words]\nlegal = "contract"\n',
            'routing.topic_words.legal: "contract" is not a list of strings',
        ),
        (
            '[email]\nfrom_address = "alerts.example.org"\nsmtp_host = "h"\n',
            'email.from_address: "alerts.example.org" is not an email address like'
            ' "alerts@example.org"',
        ),
        (
            '[email]\nsmtp_host = "smtp.example.org"\n',
            "email.from_address: required when email.smtp_host is set",
        ),
        (
            "[email]\ntls = true\nstarttls = true\n",
            "email.starttls: cannot be true when email.tls is true (use tls = true for port 465,"
            " or starttls = true for port 587)",
        ),
        (
            "[email.inbound]\n",
            "email.inbound.host: required in [email.inbound] (the IMAP server,"
            " e.g. imap.example.org)",
        ),
        (
            '[email.inbound]\nhost = "h"\naddress = "nobody"\n',
            'email.inbound.address: "nobody" is not an email address like "alerts@example.org"',
        ),
        (
            '[web]\npublic_url = "bestbot.example.org"\n',
            'web.public_url: "bestbot.example.org" is not a URL like "https://example.org/"',
        ),
        (
            '[telegram]\nbase_url = "ftp://x"\n',
            'telegram.base_url: "ftp://x" is not a URL like "https://example.org/"',
        ),
        (
            '[telegram]\nadmin_ids = ["123"]\n',
            'telegram.admin_ids[0]: "123" is not a Telegram user id (a positive whole number)',
        ),
        (
            "[telegram]\nadmin_ids = 123\n",
            "telegram.admin_ids: 123 is not a list of Telegram user ids like [123456789]",
        ),
        (
            '[database]\nurl = "mysql://root:hunter2@db/x"\n',
            'database.url: "mysql://root:***@db/x" is not a database URL like'
            ' "sqlite:///bestbot.sqlite3" or "postgresql://user@host/dbname"',
        ),
        (
            '[matching]\ndefault_stages = ["tender", "awards"]\n',
            'matching.default_stages[1]: "awards" is not one of "planning", "tender", "award",'
            ' "contract", "cancelled" (did you mean "award"?)',
        ),
        ('[feeds]\nkind = "file"\n', "feeds: a table is not a list of [[feeds]] tables"),
        (
            '[[feeds]]\nname = "x"\n',
            'feeds[0].kind: required: one of "find_a_tender", "contracts_finder", "file"',
        ),
        (
            '[[feeds]]\nkind = "find-a-tender"\n',
            'feeds[0].kind: "find-a-tender" is not one of "find_a_tender", "contracts_finder",'
            ' "file" (did you mean "find_a_tender"?)',
        ),
        (
            '[[feeds]]\nkind = "find_a_tender"\nname = "fts"\n'
            '[[feeds]]\nkind = "contracts_finder"\nname = "fts"\n',
            'feeds[1].name: "fts" is already used by feeds[0]; feed names must be unique',
        ),
        (
            # Neither name was written: the message says the second feed needs one.
            '[[feeds]]\nkind = "find_a_tender"\n[[feeds]]\nkind = "find_a_tender"\n',
            'feeds[1].name: required: feeds[0] is already called "find_a_tender" (a feed\'s name'
            " defaults to its kind) and feed names must be unique",
        ),
        (
            '[[feeds]]\nkind = "file"\n',
            "feeds[0].path: required for a file feed (the file to read)",
        ),
        (
            '[[feeds]]\nkind = "file"\npath = "x"\nurl = "https://x.org"\n',
            'feeds[0].url: a file feed reads "path", not "url"',
        ),
        (
            '[[feeds]]\nkind = "find_a_tender"\npath = "x"\n',
            'feeds[0].path: only file feeds take a path; a find_a_tender feed takes "url"',
        ),
        (
            '[[feeds]]\nkind = "find_a_tender"\nurl = "not a url"\n',
            'feeds[0].url: "not a url" is not a URL like "https://example.org/"',
        ),
        (
            '[[feeds]]\nkind = "find_a_tender"\nstages = ["tender"]\n',
            "feeds[0].stages: only contracts_finder feeds take stages",
        ),
        (
            '[[feeds]]\nkind = "contracts_finder"\nstages = ["tendr"]\n',
            'feeds[0].stages[0]: "tendr" is not one of "planning", "tender", "award",'
            ' "implementation" (did you mean "tender"?)',
        ),
        (
            '[[feeds]]\nkind = "find_a_tender"\nevery = "1m"\njitter = "5m"\n',
            'feeds[0].jitter: "5m" must be shorter than every ("1m")',
        ),
        (
            '[[feeds]]\nkind = "file"\nname = "my feed"\npath = "x"\n',
            "feeds[0].name: \"my feed\" is not a feed name of letters, digits, '-', '_' or '.'",
        ),
        (
            '[web]\nsecret_key = "short"\n',
            "web.secret_key: too short: use at least 16 random"
            " characters, e.g. the output of python -c 'import secrets;"
            " print(secrets.token_urlsafe(32))'",
        ),
    ],
)
def test_error_messages(tmp_path: Path, text: str, expected: str) -> None:
    env = {} if "secret_key" in text else ENV
    assert error_for(tmp_path, text, env) == f"config error: {expected}"


def test_bad_environment_values_name_the_variable(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    cases = {
        "BESTBOT_TELEGRAM_TOKEN": "not-a-token",
        "BESTBOT_SECRET_KEY": "tiny",
        "BESTBOT_DATABASE_URL": "oracle://x",
    }
    for name, value in cases.items():
        with pytest.raises(ConfigError) as info:
            load_config(path, env={**ENV, name: value})
        assert str(info.value).startswith(f"config error: {name}: ")
        assert info.value.key == name


def test_secret_values_are_never_echoed_in_errors(tmp_path: Path) -> None:
    message = error_for(tmp_path, '[telegram]\ntoken = "my secret token"\n')
    assert message == (
        'config error: telegram.token: the value given is not a bot token like "123456789:AAE..."'
        " (from @BotFather)"
    )
    assert "my secret" not in message
    message = error_for(tmp_path, '[web]\nsecret_key = "hunter2"\n', env={})
    assert "hunter2" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[web]\nport = \n", "line 2, column 8: invalid TOML: invalid value"),
        ('[web]\nhost = "x\n', "line 2, column 10: invalid TOML: illegal character '\\n'"),
        ("[web]\n[web]\n", "line 2, column 5: invalid TOML: cannot declare ('web',) twice"),
        ('a = "x', "end of file: invalid TOML: unterminated string"),
    ],
)
def test_broken_toml_names_the_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    message = error_for(tmp_path, text)
    assert message == f"config error: {path}: {expected}"


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "bestbot.toml"
    path.write_bytes(b'[web]\nhost = "caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"bestbot.toml: line 2: not UTF-8 text$"):
        load_config(path, env=ENV)


# --------------------------------------------------------------------------- secrets


def test_secrets_never_in_repr_str_or_redacted(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL), env={})
    secrets = [
        TOKEN,
        "dbpass",
        "smtp-file-password",
        "imap-file-password",
        "file-secret-key-0123456789",
    ]
    shown = [repr(config), str(config), str(config.redacted()), repr(config.email.inbound)]
    shown += [repr(config.telegram), str(config.email), repr(config.database)]
    for text in shown:
        for secret in secrets:
            assert secret not in text
    redacted = config.redacted()
    assert redacted["telegram"]["token"] == "***"
    assert redacted["email"]["smtp_password"] == "***"
    assert redacted["email"]["inbound"]["password"] == "***"
    assert redacted["secret_key"] == "***"
    assert redacted["database"]["url"] == "postgresql://bestbot:***@db.example.org/bestbot"
    assert redacted["feeds"][0]["every"] == "10m"
    assert redacted["alerts"]["quiet_hours"] == "off"
    assert config.to_dict(redact=False)["telegram"]["token"] == TOKEN
    unset = config_from_dict({}, env=ENV).redacted()
    assert unset["telegram"]["token"] is None  # "not set" stays visible


def test_redact_url() -> None:
    assert redact_url("postgresql://u:pw@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact_url("postgresql://u@h/db") == "postgresql://u@h/db"
    assert redact_url("sqlite:///x.db") == "sqlite:///x.db"


# --------------------------------------------------------------------------- working hours


def test_working_hours_parse_and_format() -> None:
    assert str(WorkingHours.parse("mon-fri 9:00-17:00")) == "Mon-Fri 09:00-17:00 Europe/London"
    assert str(WorkingHours.parse("Mon,Wed,Fri 10:00-14:00", "UTC")) == (
        "Mon,Wed,Fri 10:00-14:00 UTC"
    )
    assert WorkingHours.parse("Fri-Mon 08:00-12:00").days == frozenset({4, 5, 6, 0})
    assert str(WorkingHours.parse("24/7")) == "24/7"
    for bad in ("", "weekdays", "Mon-Fri", "Mon-Fry 09:00-17:00", "Mon-Fri 09:00-17:00 X Y"):
        with pytest.raises(ValueError):
            WorkingHours.parse(bad)


def test_working_hours_arithmetic() -> None:
    hours = WorkingHours()
    london = ZoneInfo("Europe/London")
    friday_4pm = datetime(2026, 2, 13, 16, 0, tzinfo=london)
    assert hours.add(friday_4pm, timedelta(hours=4)) == datetime(2026, 2, 16, 12, 0, tzinfo=london)
    saturday = datetime(2026, 2, 14, 11, 0, tzinfo=london)
    assert hours.add(saturday, timedelta(hours=4)) == datetime(2026, 2, 16, 13, 0, tzinfo=london)
    # Days are working days, hours are working hours.
    monday_10 = datetime(2026, 2, 16, 10, 0, tzinfo=london)
    assert hours.add(monday_10, timedelta(days=2)) == datetime(2026, 2, 18, 10, 0, tzinfo=london)
    thursday_10 = datetime(2026, 2, 19, 10, 0, tzinfo=london)
    assert hours.add(thursday_10, timedelta(days=2)) == datetime(2026, 2, 23, 10, 0, tzinfo=london)
    assert hours.add(saturday, timedelta(days=1)) == datetime(2026, 2, 17, 9, 0, tzinfo=london)
    assert hours.add(thursday_10, timedelta(days=1, hours=7)) == datetime(
        2026, 2, 20, 17, 0, tzinfo=london
    )
    friday_1pm = datetime(2026, 2, 13, 13, 0, tzinfo=london)
    assert hours.add(friday_1pm, timedelta(hours=4)) == datetime(2026, 2, 13, 17, 0, tzinfo=london)
    # Across the spring clock change; the answer comes back in the caller's timezone.
    before = datetime(2026, 3, 27, 16, 0, tzinfo=UTC)  # Fri 16:00 GMT
    assert hours.add(before, timedelta(hours=2)) == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
    assert hours.is_open(datetime(2026, 2, 16, 9, 0, tzinfo=london))
    assert not hours.is_open(datetime(2026, 2, 16, 17, 0, tzinfo=london))
    assert not hours.is_open(saturday)
    always = WorkingHours.parse("24/7")
    assert always.add(saturday, timedelta(hours=4)) == saturday + timedelta(hours=4)
    with pytest.raises(ValueError):
        hours.add(datetime(2026, 2, 16, 9, 0), timedelta(hours=1))


# --------------------------------------------------------------------------- the example file
# Every key of the example and of docs/configuration.md against the schema, and every default
# the example shows against the real one: tests/config/test_example_and_docs.py.


def test_example_loads_to_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    example = load_config(EXAMPLE, env=ENV)
    assert example == load_config(env=ENV)
    assert example.feeds == DEFAULT_FEEDS
