"""``bestbot feed parse`` on crafted inputs: one line saying what is wrong and what to do, exit 2.

Never a traceback. Inputs that are readable apart from some releases or rows print what they
can and report the rest on stderr (exit 0).
"""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import bot.commands.feed as feed_command
from bot.cli import main
from feeds.http import RetryPolicy
from tests.fakes.feed_server import Fault, FeedServer
from tests.feeds.conftest import SAMPLES

pytestmark = pytest.mark.timeout(60)

FTS4 = json.loads((SAMPLES / "fts_release_package_2026-10-06_limit4.json").read_text("utf-8"))
CSV = SAMPLES / "cf_harvester_csv_export-2020-08-01_tenders.csv"


def run(capsys: pytest.CaptureFixture[str], source: str) -> tuple[int, list[str], list[str]]:
    code = main(["feed", "parse", source])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out.splitlines(), err.splitlines()


def _csv_with_rows(keep: int, damage: dict[int, int]) -> bytes:
    """The real CSV export's header and ``keep`` rows; row n loses/gains ``damage[n]`` cells."""
    rows = list(csv.reader(io.StringIO(CSV.read_text("utf-8-sig"))))
    header, body = rows[0], rows[1 : 1 + keep]
    for index, change in damage.items():
        body[index] = body[index][:change] if change < 0 else body[index] + ["x"] * change
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *body])
    return buffer.getvalue().encode()


BAD_INPUTS: dict[str, tuple[bytes, str]] = {
    "a number": (b"42", "is not OCDS (a number): expected a release package"),
    "a string": (b'"releases"', "is not OCDS (a string)"),
    "null": (b"null\n", "is not OCDS (the value null)"),
    "an empty object": (b"{}", "is not OCDS (an object without 'releases'"),
    "a deeply nested array": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "a package nesting deeply": (
        b'{"releases": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        "nested too deeply",
    ),
    "invalid UTF-8": (b'{"releases": [{"ocid": "\xff\xfe\xc3\x28"}]}', "not UTF-8 text"),
    "binary": (bytes(range(256)) * 40, "binary"),
    "gzip": (gzip.compress(json.dumps(FTS4).encode()), "gzip-compressed: decompress it"),
    "utf-16": (json.dumps(FTS4).encode("utf-16"), "UTF-16 text: save it as UTF-8"),
    "empty": (b"", "the file is empty: give OCDS JSON"),
    "only a byte-order mark": (b"\xef\xbb\xbf\n", "the file is empty"),
    "CSV whose every row is ragged": (
        _csv_with_rows(2, {0: -10, 1: 3}),
        "every row has a different number of cells from the header (69)",
    ),
    "CSV with a huge list index": (
        b"releases/0/ocid,releases/0/awards/99999999/id\nocds-b5fd17-1,x\n",
        "list index above 1000",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, case: str
) -> None:
    content, message = BAD_INPUTS[case]
    path = tmp_path / "input.json"
    path.write_bytes(content)
    code, lines, err = run(capsys, str(path))
    assert code == 2 and lines == []
    assert len(err) == 1 and err[0].startswith(f"feed parse: {path}: ")
    assert message in err[0], err[0]


def test_a_directory_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, lines, err = run(capsys, str(tmp_path))
    assert code == 2 and lines == [] and len(err) == 1 and "is a directory" in err[0]


def test_a_file_too_big_to_read_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import feeds.local

    monkeypatch.setattr(feeds.local, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "big.json"
    path.write_text(json.dumps(FTS4))
    code, _, err = run(capsys, str(path))
    assert code == 2 and len(err) == 1 and "at most 0 MB is read at once: split it" in err[0]


def test_ragged_csv_rows_are_reported_and_the_rest_printed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(_csv_with_rows(2, {0: -30}))
    code, lines, err = run(capsys, str(path))
    assert code == 0 and len(lines) == 1
    assert len(err) == 1 and "CSV line 2 has 39 cells but the header has 69" in err[0]


def test_json_lines_with_one_enormous_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    huge = dict(FTS4["releases"][1])
    huge["tender"] = {**huge["tender"], "description": "Supported living. " * 1_700_000}
    lines = [json.dumps(FTS4["releases"][0]), json.dumps(huge), "{" * 2_000_000]
    lines.append(json.dumps(FTS4["releases"][2]))
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(lines) + "\n")
    code, out, err = run(capsys, str(path))
    assert code == 0 and len(out) == 3
    assert len(json.loads(out[1])["description"]) <= 20_000
    assert err == ["skipped (no ocid): line 3: invalid JSON"]


def test_lone_surrogates_are_cleaned_and_a_long_ocid_skipped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    releases = [dict(r) for r in FTS4["releases"][:2]]
    releases[0]["tender"] = {**releases[0]["tender"], "title": "Care \ud800 services"}
    releases[1]["ocid"] = "ocds-h6vhtk-" + "0" * 5000
    path = tmp_path / "poison.json"
    path.write_text(json.dumps({"releases": releases}))  # the surrogate as the escape \ud800
    assert "\\ud800" in path.read_text()
    code, out, err = run(capsys, str(path))
    assert code == 0 and len(out) == 1
    assert json.loads(out[0])["title"] == "Care services"
    assert len(err) == 1 and "ocid is 5,012 characters long" in err[0]


async def test_a_url_serving_html_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed_command, "CLI_POLICY", RetryPolicy(max_attempts=2, base_delay=0))
    async with FeedServer() as server:
        server.script(*[Fault.raw(200, "<html><body>Service maintenance</body></html>")] * 2)
        code = await asyncio.to_thread(main, ["feed", "parse", server.fts_url])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "Traceback" not in err
    [line] = err.splitlines()
    assert "an HTML page, not JSON" in line and "gave up after 2 attempts" in line
    assert "check the address is an OCDS API URL" in line


def test_a_real_subprocess_gets_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "feed", "parse", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"feed parse: {path}: the JSON is nested too deeply to read (thousands of levels): "
        "it is not OCDS data"
    ]
