"""`bestbot triage`: JSON Lines out, exit 2 with one line naming the item and field on bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main

ADVISERS = [
    {
        "id": "adv-t",
        "name": "Tendering (Notts)",
        "email": "t@example.org",
        "telegram_id": 1,
        "topics": ["tendering"],
        "regions": ["Nottinghamshire"],
        "capacity": 5,
        "away": False,
    },
    {
        "id": "adv-f",
        "name": "Finance",
        "email": "f@example.org",
        "telegram_id": None,
        "topics": ["finance"],
        "regions": ["East Midlands"],
        "capacity": 5,
        "away": True,
    },
    {
        "id": "adv-d",
        "name": "Duty",
        "email": "d@example.org",
        "telegram_id": 3,
        "topics": ["general"],
        "regions": [],
        "capacity": 5,
        "away": False,
        "open": 2,
    },
]
ENQUIRIES = [
    {"id": "q1", "text": "How do we answer the selection questionnaire for this tender?"},
    {"id": "q2", "text": "Do we need to register for VAT?", "subject": "VAT", "region": "Derby"},
    {"id": "q3", "text": "<script>alert(1)</script>\u202e\x1b[31m hello"},
]


def write(tmp_path: Path, advisers: object = ADVISERS, enquiries: object = ENQUIRIES) -> list[str]:
    a = tmp_path / "advisers.json"
    e = tmp_path / "enquiries.jsonl"
    a.write_text(advisers if isinstance(advisers, str) else json.dumps(advisers), "utf-8")
    if isinstance(enquiries, str):
        e.write_text(enquiries, "utf-8")
    else:
        assert isinstance(enquiries, list)
        e.write_text("".join(json.dumps(x) + "\n" for x in enquiries), "utf-8")
    return ["triage", "--advisers", str(a), "--enquiries", str(e)]


def test_triage_prints_one_line_per_enquiry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(write(tmp_path)) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["enquiry"] for r in lines] == ["q1", "q2", "q3"]
    for r in lines:
        assert set(r) == {"enquiry", "topic", "adviser", "confidence", "reasons"}
        assert all(isinstance(x, str) for x in r["reasons"])
    assert (lines[0]["topic"], lines[0]["adviser"]) == ("tendering", "adv-t")
    # the finance adviser is away: the duty adviser gets it, and the reasons say so
    assert (lines[1]["topic"], lines[1]["adviser"]) == ("finance", "adv-d")
    assert "skipped adv-f: away" in lines[1]["reasons"]
    assert "load 2/5" in lines[1]["reasons"]
    assert (lines[2]["topic"], lines[2]["adviser"]) == ("general", "adv-d")


def test_triage_on_the_dev_set(capsys: pytest.CaptureFixture[str]) -> None:
    repo = Path(__file__).resolve().parents[2]
    argv = [
        "triage",
        "--advisers",
        str(repo / "data/eval/advisers.json"),
        "--enquiries",
        str(repo / "data/eval/enquiries_dev.jsonl"),
    ]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 60
    assert all(json.loads(line)["adviser"] != "adv-5" for line in lines)  # adv-5 is away


def bad_cases() -> list[tuple[str, object, object, str]]:
    good_a, good_e = ADVISERS, ENQUIRIES
    no_topics = [{k: v for k, v in ADVISERS[0].items() if k != "topics"}]
    return [
        ("malformed advisers", '[{"id": "a",', good_e, "advisers.json: not valid JSON (line 1"),
        ("empty advisers", "", good_e, "advisers.json: empty file"),
        ("empty list", "[]", good_e, "advisers.json: no advisers in the list"),
        ("not a list", '{"id": "a"}', good_e, "advisers.json: expected a JSON list"),
        ("missing field", no_topics, good_e, "advisers.json: adviser 1: field 'topics': missing"),
        (
            "wrong type",
            [ADVISERS[0], ADVISERS[1], {**ADVISERS[2], "capacity": "ten"}],
            good_e,
            "advisers.json: adviser 3: field 'capacity': expected a whole number",
        ),
        (
            "hostile topic",
            [{**ADVISERS[0], "topics": ["x\n\x1b[2Jrm -rf /" * 5]}],
            good_e,
            "advisers.json: adviser 1: field 'topics': unknown topic",
        ),
        ("malformed enquiry", good_a, '{"id": "q1", "text": "hi"}\n{"id": ', "line 2: not valid"),
        ("empty enquiries", good_a, "\n\n", "enquiries.jsonl: no enquiries in the file"),
        (
            "enquiry missing text",
            good_a,
            [{"id": "q1"}],
            "enquiries.jsonl: line 1: field 'text': missing",
        ),
        (
            "enquiry wrong type",
            good_a,
            [{"id": "q1", "text": "hi", "subject": 3}],
            "enquiries.jsonl: line 1: field 'subject': expected text",
        ),
        ("enquiry not object", good_a, "[1, 2]\n", "enquiries.jsonl: line 1: expected an object"),
        (
            "duplicate id",
            good_a,
            [{"id": "q", "text": "a"}, {"id": "q", "text": "b"}],
            "line 2: field 'id': same id as line 1",
        ),
    ]


@pytest.mark.parametrize(
    ("advisers", "enquiries", "message"),
    [c[1:] for c in bad_cases()],
    ids=[c[0] for c in bad_cases()],
)
def test_bad_files_exit_2_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    advisers: object,
    enquiries: object,
    message: str,
) -> None:
    assert main(write(tmp_path, advisers, enquiries)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert "\n" not in err
    assert "\x1b" not in err
    assert message in err
    assert "Traceback" not in err


def test_binary_and_missing_files_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = write(tmp_path)
    Path(argv[2]).write_bytes(b"\xff\xfe\x00garbage")
    assert main(argv) == 2
    assert "not UTF-8" in capsys.readouterr().err
    argv = write(tmp_path)
    assert main(["triage", "--advisers", argv[2], "--enquiries", str(tmp_path / "nope")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_triage_reads_notice_and_profile_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    enquiries = [
        {
            "id": "n1",
            "text": "can we go for this one?",
            "notice_text": "Grounds maintenance. The council invites tenders in two lots.",
            "profile_regions": ["Nottinghamshire"],
        }
    ]
    for method in ("auto", "lexicon"):
        assert main([*write(tmp_path, enquiries=enquiries), "--method", method]) == 0
        (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
        assert (line["topic"], line["adviser"]) == ("tendering", "adv-t")
        assert "region: Nottinghamshire (from profile)" in line["reasons"]
        assert "(about a notice)" in line["reasons"]


def test_triage_rejects_a_bad_notice_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    enquiries = [{"id": "n1", "text": "hi", "profile_regions": "Derby"}]
    assert main(write(tmp_path, enquiries=enquiries)) == 2
    err = capsys.readouterr().err
    assert "line 1: field 'profile_regions': expected a list of text" in err
