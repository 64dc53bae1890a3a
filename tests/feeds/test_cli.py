"""``bestbot feed parse``: JSON Lines on stdout, problems on stderr, exit 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.feeds.conftest import SAMPLES

KEYS = [
    "source", "ocid", "release_id", "notice_type", "stage", "title", "description", "buyer",
    "cpv", "regions", "value", "deadline", "published", "updated", "suitable_sme",
    "suitable_vcse", "url",
]  # fmt: skip
# Added after the stable keys for the Procurement Act 2023 (docs/feeds.md); never before them.
ADDED_KEYS = ["kind", "dates", "lots", "reserved", "awards", "amendments"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    code = main(["feed", "parse", *argv])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_fts_package_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, err = run(capsys, str(SAMPLES / "fts_release_package_2026-10-06_limit4.json"))
    assert code == 0 and err == ""
    rows = [json.loads(line) for line in lines]
    assert [list(r) for r in rows] == [KEYS + ADDED_KEYS] * 4
    assert [r["release_id"] for r in rows] == [
        "094477-2026",
        "094476-2026",
        "094475-2026",
        "094474-2026",
    ]
    assert rows[3]["regions"] == ["UKF14", "UKF15", "UKF16"]
    assert rows[1]["deadline"] == "2026-11-05T12:00:00+00:00"
    assert rows[1]["value"] == {"amount": 2772000.0, "min": None, "currency": "GBP"}


def test_csv_output_in_input_order(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, _ = run(capsys, str(SAMPLES / "cf_harvester_csv_export-2020-08-05.csv"))
    assert code == 0 and len(lines) == 29
    assert json.loads(lines[0])["title"].startswith("PAN2466 - Leicester Local Plan")


def test_bad_release_reported_on_stderr_rest_printed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    package = json.loads((SAMPLES / "fts_release_package_2026-10-06_limit4.json").read_text())
    package["releases"].insert(1, {"id": "oops", "tag": "tender"})
    package["releases"].insert(3, ["not", "a", "release"])
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(package))
    code, lines, err = run(capsys, str(path))
    assert code == 0 and len(lines) == 4
    assert err.splitlines() == [
        "skipped (no ocid): missing or invalid 'ocid'",
        "skipped (no ocid): expected a JSON object, got list",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"\xff\xfe\xfa garbage", "binary"),
        (b'{"uri": "x", "releases": [{"ocid": "ocds-h6vhtk-1", "tag": ["ten', "truncated"),
        (b'{"name": "not ocds", "items": [1, 2]}', "not OCDS"),
        (b"[1, 2, 3]", "not OCDS"),
        (b"hello, world\n", "not an OCDS file"),
        (b"name,email\nA,b@c\n", "not an OCDS file"),
    ],
)
def test_unreadable_input_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "input.json"
    path.write_bytes(content)
    code, lines, err = run(capsys, str(path))
    assert code == 2 and lines == []
    assert message in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_truncated_real_sample_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = (SAMPLES / "cf_ocds_search_2022-10-18_limit1.json").read_bytes()
    path = tmp_path / "cut.json"
    path.write_bytes(data[: len(data) // 2])
    code, lines, err = run(capsys, str(path))
    assert code == 2 and lines == [] and "truncated" in err


def test_truncated_json_lines_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = (SAMPLES / "cf_bluetail_json_1_1_raw_2019-2020.jsonl").read_bytes()
    path = tmp_path / "cut.jsonl"
    path.write_bytes(data[: len(data) - 500])
    code, lines, err = run(capsys, str(path))
    assert code == 2 and lines == [] and "truncated" in err


def test_missing_file_and_directory_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert run(capsys, str(tmp_path / "nope.json"))[0] == 2
    assert run(capsys, str(tmp_path))[0] == 2


def test_url_source_uses_the_feed_client(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    import bot.commands.feed as feed_command

    body = json.loads((SAMPLES / "fts_032703-2026_UK4_tender.json").read_text())

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    monkeypatch.setattr(
        feed_command,
        "make_client",
        lambda: httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )
    code, lines, _ = run(capsys, "https://www.find-tender.service.gov.uk/api/1.0/x")
    assert code == 0 and json.loads(lines[0])["notice_type"] == "UK4"
