"""The CLI as a user runs it: exit codes, one-line errors, real files and databases."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.subscriber_files import read_subscriber_file
from feeds.local import parse_file
from storage.db import Database
from storage.suppression import suppress
from tests.conftest import SAMPLES

CF_PAGE = SAMPLES / "cf_ocds_search_2025-01-20_to_2025-01-23_page1.json"


def _write_config(tmp_path: Path, database_url: str, extra: str = "") -> Path:
    path = tmp_path / "bestbot.toml"
    path.write_text(
        f"""
[database]
url = "{database_url}"

[web]
secret_key = "cli-test-secret-key"

[alerts]
quiet_hours = "off"

[[feeds]]
name = "sample"
kind = "file"
path = "{CF_PAGE}"
{extra}
"""
    )
    return path


def test_bad_config_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[[feeds]]\nname = "x"\nkind = "find_a_tender"\nevery = "5 mins"\n')
    assert main(["--config", str(config), "poll"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("config error: feeds[0].every:")
    assert "\n" not in err and "Traceback" not in err


def test_broken_toml_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("[database]\nurl = 'sqlite:///x.db'\n[web\n")
    assert main(["--config", str(config), "db", "upgrade"]) == 2
    assert "line 3" in capsys.readouterr().err


def test_db_upgrade_then_up_to_date(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write_config(tmp_path, database_url)
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    assert "migrated from empty" in capsys.readouterr().out
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_subscribers_import_list_and_poll(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write_config(tmp_path, database_url)
    people = tmp_path / "people.csv"
    people.write_text(
        "name,email,frequency,keywords,regions\n"
        "Green Plate,hello@greenplate.example.org,daily,catering;school meals,East Midlands\n"
        "Wheels,wheels@example.org,instant,minibus,\n"
    )
    assert main(["--config", str(config), "subscribers", "import", str(people)]) == 0
    assert "2 new, 0 updated" in capsys.readouterr().out
    assert main(["--config", str(config), "subscribers", "import", str(people)]) == 0
    assert "0 new, 2 updated" in capsys.readouterr().out
    assert main(["--config", str(config), "subscribers", "list"]) == 0
    listing = capsys.readouterr().out
    assert "hello@greenplate.example.org" in listing and "catering, school meals" in listing
    assert listing.splitlines()[0].split("\t")[5] == "suppressed"

    async def bounce() -> None:  # a hard bounce came back for Wheels
        db = Database(database_url)
        try:
            async with db.session() as session:
                await suppress(session, "Wheels@example.org", "hard_bounce", "5.1.1")
        finally:
            await db.dispose()

    asyncio.run(bounce())
    assert main(["--config", str(config), "subscribers", "list"]) == 0
    rows = {line.split("\t")[2]: line.split("\t") for line in capsys.readouterr().out.splitlines()}
    assert rows["wheels@example.org"][5] == "suppressed: hard bounce"
    assert rows["hello@greenplate.example.org"][5] == "-"

    assert main(["--config", str(config), "poll"]) == 0
    out = capsys.readouterr().out
    distinct = len({n.ocid for n in parse_file(CF_PAGE).notices})
    assert out.startswith(f"polled sample: {distinct} new,")
    assert "matched" in out and "sent" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ('[{"name": "x"}]', "give an email or a telegram_id"),
        ('[{"email": "not-an-email", "keywords": ["a"]}]', "is not an email address"),
        ('[{"email": "a@b.org", "keywords": ["a"], "frequency": "hourly"}]', "'frequency'"),
        ('[{"email": "a@b.org", "keywords": ["a"], "cpv": ["999x"]}]', "field 'cpv'"),
        ("{not json", "not valid JSON"),
        ("name,phone\nx,1\n", "'email' or 'telegram_id' column"),
        ("email,keywords,reserved\na@b.org,care,mutuals\n", "field 'reserved'"),
        ("email,keywords,kinds_off\na@b.org,care,award\n", "field 'kinds_off'"),
    ],
)
def test_bad_subscriber_files_exit_2_naming_the_problem(
    tmp_path: Path, content: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}")
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    assert main(["--config", str(config), "subscribers", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_poll_unknown_feed_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert main(["--config", str(config), "poll", "--feed", "nope"]) == 2
    assert "no feed named 'nope'" in capsys.readouterr().err


def test_subscriber_json_profiles_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}")
    people = tmp_path / "people.json"
    people.write_text(
        json.dumps(
            [
                {
                    "id": "p1",
                    "name": "Care CIC",
                    "email": "care@example.org",
                    "telegram_id": 12345,
                    "keywords": ["home care"],
                    "cpv": ["853"],
                    "frequency": "weekly",
                }
            ]
        )
    )
    assert main(["--config", str(config), "subscribers", "import", str(people)]) == 0
    assert main(["--config", str(config), "subscribers", "list"]) == 0
    out = capsys.readouterr().out
    assert "telegram+email" in out and "weekly" in out


def test_import_kinds_off_and_reserved_and_keep_them_when_a_file_does_not_say(
    tmp_path: Path,
) -> None:
    with_kinds = tmp_path / "with.csv"
    with_kinds.write_text(
        "email,keywords,kinds_off,reserved\n"
        "care@example.org,home care,pipeline;planned,supported_employment\n"
    )
    (item,) = read_subscriber_file(with_kinds)
    assert item.profile["kinds_off"] == ["pipeline", "planned"]
    assert item.profile["reserved"] == ["supported_employment"]
    without = tmp_path / "without.csv"
    without.write_text("email,keywords\ncare@example.org,home care\n")
    (plain,) = read_subscriber_file(without)
    assert "kinds_off" not in plain.profile and "reserved" not in plain.profile


def test_poll_warns_when_subscribers_have_no_working_channel(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write_config(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}")
    people = tmp_path / "people.csv"
    people.write_text("name,email,keywords\nGreen Plate,hello@greenplate.example.org,catering\n")
    assert main(["--config", str(config), "subscribers", "import", str(people)]) == 0
    caplog.set_level("WARNING")
    assert main(["--config", str(config), "poll"]) == 0
    assert "1 subscribers get alerts by email but [email] smtp_host" in caplog.text
