"""``bestbot match``: output lines, input formats, exit 2 on bad profiles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from matching_helpers import SAMPLES, SCHOOL_CATERING, real

from bot.cli import main

SAMPLE = SAMPLES / SCHOOL_CATERING[0]


def _profiles(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps(data), "utf-8")
    return path


def test_match_prints_json_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    profiles = _profiles(
        tmp_path,
        [
            {"id": "meals", "keywords": ["school catering"], "cpv": ["555"], "regions": ["UKK"]},
            {"id": "none", "keywords": ["zebra crossing patrols"]},
        ],
    )
    assert main(["match", "--notices", str(SAMPLE), "--profiles", str(profiles)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    mine = [x for x in lines if x["notice"] == SCHOOL_CATERING[1]]
    assert mine == [
        {
            "profile": "meals",
            "notice": SCHOOL_CATERING[1],
            "tier": "alert",
            "score": mine[0]["score"],
            "reasons": [
                "matched “school catering” in the title",
                "CPV 55524000 School catering services",
                "South West (UKK)",
            ],
            "matched_keywords": ["school catering"],
        }
    ]
    assert all(x["profile"] == "meals" for x in lines)
    assert all(x["tier"] in ("alert", "maybe") for x in lines)
    assert 0 < mine[0]["score"] <= 100


def test_match_reads_feed_parse_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notices = tmp_path / "notices.jsonl"
    notices.write_text(json.dumps(real(SCHOOL_CATERING).to_json_dict()) + "\n", "utf-8")
    profiles = _profiles(tmp_path, [{"id": "meals", "keywords": ["caterer"]}])
    assert main(["match", "--notices", str(notices), "--profiles", str(profiles)]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(x["profile"], x["notice"]) for x in out] == [("meals", SCHOOL_CATERING[1])]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            [{"id": "x", "keywords": ["a"], "cpv": ["catering"]}],
            "profiles.json: profile 'x': field 'cpv': 'catering' is not a CPV code",
        ),
        (
            [{"id": "ok", "keywords": ["a"]}, {"id": "y", "keywords": ["a"], "regions": ["Mars"]}],
            "profiles.json: profile 'y': field 'regions': ",
        ),
        (
            {"id": "x"},
            "profiles.json: profile: field 'id': the profiles file must hold a JSON list",
        ),
    ],
)
def test_bad_profiles_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: object, expected: str
) -> None:
    profiles = _profiles(tmp_path, data)
    assert main(["match", "--notices", str(SAMPLE), "--profiles", str(profiles)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(expected)
    assert captured.err.count("\n") == 1


def test_unreadable_inputs_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "profiles.json"
    broken.write_text("[{", "utf-8")
    assert main(["match", "--notices", str(SAMPLE), "--profiles", str(broken)]) == 2
    good = _profiles(tmp_path, [{"id": "a", "keywords": ["x"]}])
    empty = tmp_path / "empty.json"
    empty.write_text("", "utf-8")
    assert main(["match", "--notices", str(empty), "--profiles", str(good)]) == 2
    assert "empty" in capsys.readouterr().err


def test_match_prints_each_tier_and_can_keep_to_alerts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profiles = _profiles(
        tmp_path,
        [
            {
                "id": "meals",
                "keywords": ["school catering", "catering"],
                "description": "Catering co-operative cooking school meals and community lunches.",
            }
        ],
    )
    assert main(["match", "--notices", str(SAMPLE), "--profiles", str(profiles)]) == 0
    both = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {x["tier"] for x in both} <= {"alert", "maybe"}
    assert (
        main(["match", "--notices", str(SAMPLE), "--profiles", str(profiles), "--tier", "alert"])
        == 0
    )
    alerts = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert alerts == [x for x in both if x["tier"] == "alert"]
    assert alerts
    assert (
        main(["match", "--notices", str(SAMPLE), "--profiles", str(profiles), "--tier", "maybe"])
        == 0
    )
    maybes = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert maybes == [x for x in both if x["tier"] == "maybe"]
