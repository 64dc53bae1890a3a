"""``bestbot report`` as a user runs it: every format, files and the database, bad input."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.reports.formats import CSV_COLUMNS
from feeds.order import notice_key
from storage.db import Database, upgrade_async
from storage.notices import store_notice
from tests.reports.kit import END, sample_files, sample_notices

WINDOW = ["--from", "2025-01-01", "--to", "2025-03-31"]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def samples() -> list[str]:
    return [str(p) for p in sample_files()]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "bestbot.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "db.sqlite3"}"\n'
        '[web]\nsecret_key = "report-cli-test-key"\n'
        '[reports]\nregion = "UK"\n'
    )
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_from_files(
    config: Path, samples: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys,
        "--config",
        str(config),
        "report",
        "--notices",
        *samples,
        *WINDOW,
        "--format",
        "json",
    )
    assert code == 0
    report = json.loads(out)
    assert report["window"] == {
        "from": "2025-01-01T00:00:00+00:00",  # midnight in London (GMT in January)
        "to": "2025-03-31T23:00:00+00:00",  # the end of 31 March in London (BST)
    }
    assert report["about"]["region"] == "UK"  # [reports] region
    assert report["about"]["source"] == "files"
    assert report["opportunities"]["total"] > 100


def test_region_by_name_and_horizon(
    config: Path, samples: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--config", str(config), "report", "--notices", *samples, *WINDOW, "--format", "json"]
    _, wide, _ = run(capsys, *argv, "--region", "East Midlands")
    _, short, _ = run(capsys, *argv, "--region", "ukf", "--horizon", "3mo")
    wide_report, short_report = json.loads(wide), json.loads(short)
    assert wide_report["about"]["region"] == short_report["about"]["region"] == "UKF"
    assert short_report["about"]["horizon_days"] == 91
    assert len(short_report["contracts_ending"]) < len(wide_report["contracts_ending"])
    assert {e["ocid"] for e in short_report["contracts_ending"]} <= {
        e["ocid"] for e in wide_report["contracts_ending"]
    }


def test_text_csv_and_html_to_stdout(
    config: Path, samples: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--config", str(config), "report", "--notices", *samples, *WINDOW]
    _, text, _ = run(capsys, *base)
    assert text.startswith("Market report: United Kingdom (UK), 1 Jan 2025 – 31 Mar 2025")
    assert "Contracts ending in the next 18 months" in text

    _, raw_json, _ = run(capsys, *base, "--format", "json")
    report = json.loads(raw_json)
    _, table, _ = run(capsys, *base, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(table)))
    assert tuple(rows[0]) == CSV_COLUMNS
    figure = {(r["section"], r["key"]): r["value"] for r in rows if not r["ocid"]}
    assert figure[("opportunities", "total")] == str(report["opportunities"]["total"])
    assert figure[("awards", "count")] == str(report["awards"]["count"])
    for key, n in report["opportunities"]["by_cpv_division"].items():
        assert figure[("opportunities", f"by_cpv_division.{key}")] == str(n)
    ending = [r for r in rows if r["section"] == "contracts_ending"]
    assert [r["ocid"] for r in ending] == [e["ocid"] for e in report["contracts_ending"]]

    _, page, _ = run(capsys, *base, "--format", "html")
    assert page.startswith("<!doctype html>")
    assert page.count('src="data:image/png;base64,') == 3
    assert "Contracts ending in the next 18 months" in page


def test_files_in_out_dir(
    config: Path, samples: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    base = ["--config", str(config), "report", "--notices", *samples, *WINDOW, "--out", str(out)]
    assert run(capsys, *base, "--format", "png")[0] == 0
    pngs = sorted(p.name for p in out.iterdir())
    assert pngs == ["buyers.png", "contracts_ending.png", "sectors_over_time.png"]
    assert all((out / name).read_bytes().startswith(PNG) for name in pngs)
    code, _, err = run(capsys, *base, "--format", "html")
    assert code == 0 and "report.html" in err
    page = (out / "report.html").read_text("utf-8")
    assert 'src="contracts_ending.png"' in page
    run(capsys, *base, "--format", "json")
    assert json.loads((out / "report.json").read_text("utf-8"))["about"]["source"] == "files"


def test_feed_strings_are_escaped_and_defused(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hostile title reaches HTML escaped and the CSV as text, never as a formula (a real
    tender closing in the week after the window, so it is listed as closing soon)."""
    [tender] = [
        n
        for n in sample_notices()
        if n.kind == "tender" and n.deadline and END < n.deadline < END + timedelta(days=7)
    ][:1]
    evil = replace(
        tender,
        title='=HYPERLINK("http://evil.example","<script>alert(1)</script> & Sons")',
        buyer="<b>Bold & Co</b>",
    )
    path = tmp_path / "evil.jsonl"
    path.write_text(json.dumps(evil.to_json_dict()) + "\n", encoding="utf-8")
    base = ["--config", str(config), "report", "--notices", str(path), *WINDOW]
    _, page, _ = run(capsys, *base, "--format", "html")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<b>Bold" not in page and "&lt;b&gt;Bold &amp; Co" in page
    _, table, _ = run(capsys, *base, "--format", "csv")
    titles = [r["title"] for r in csv.DictReader(io.StringIO(table)) if r["ocid"]]
    assert titles and all(t.startswith("'=HYPERLINK") for t in titles)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--region", "Narnia"], "--region 'Narnia' is not a region"),
        (["--since", "a while"], "--since"),
        (["--from", "2025-02-01", "--to", "2025-01-01"], "the window is empty"),
        (["--from", "1 Jan"], "--from '1 Jan' is not a date"),
        (["--since", "7d", "--from", "2025-01-01"], "not both"),
        (["--horizon", "soon"], "--horizon 'soon' is not a length"),
        (["--format", "png"], "give --out DIR"),
        (["--profiles", "people.json"], "--profiles goes with --notices"),
        (["--notices", "/no/such/file.json"], "no such file"),
    ],
)
def test_bad_input_is_one_line(
    config: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, "--config", str(config), "report", *argv)
    assert code == 2 and out == ""
    lines = [line for line in err.splitlines() if " INFO " not in line]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in err


def test_from_the_database(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --notices: the report reads the configured database (empty, then with notices)."""
    code, out, _ = run(capsys, "--config", str(config), "report", *WINDOW, "--format", "json")
    assert code == 0
    empty = json.loads(out)
    assert empty["about"]["source"] == "database"
    assert empty["opportunities"]["total"] == 0 and empty["contracts_ending"] == []
    assert empty["unserved_demand"] == [] and empty["feedback"]["marked"] == 0

    async def store() -> None:
        url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
        await upgrade_async(url)
        db = Database(url)
        async with db.session() as session:
            for notice in sorted(sample_notices(), key=notice_key):
                await store_notice(session, notice)
        await db.dispose()

    import asyncio

    asyncio.run(store())
    _, out, _ = run(capsys, "--config", str(config), "report", *WINDOW, "--format", "json")
    _, files, _ = run(
        capsys,
        "--config",
        str(config),
        "report",
        *WINDOW,
        "--format",
        "json",
        "--notices",
        *[str(p) for p in sample_files()],
    )
    stored: dict[str, Any] = json.loads(out)
    read: dict[str, Any] = json.loads(files)
    assert stored["opportunities"] == read["opportunities"]
    assert stored["contracts_ending"] == read["contracts_ending"]
