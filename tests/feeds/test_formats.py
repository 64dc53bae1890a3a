"""Format detection and the less common shapes: JSON Lines of packages, record packages."""

from __future__ import annotations

import json
import re

import pytest

from feeds.errors import FeedFormatError
from feeds.local import parse_bytes, parse_json_document
from tests.feeds.conftest import SAMPLES

FTS4 = json.loads((SAMPLES / "fts_release_package_2026-10-06_limit4.json").read_text("utf-8"))


def test_json_lines_of_packages() -> None:
    lines = [json.dumps({"releases": [r]}) for r in FTS4["releases"]]
    result = parse_bytes(("\n".join(lines) + "\n").encode())
    assert [n.release_id for n in result.notices] == [r["id"] for r in FTS4["releases"]]


def test_json_lines_bad_middle_line_is_a_problem() -> None:
    lines = [json.dumps(r) for r in FTS4["releases"]]
    lines.insert(2, "{not json")
    result = parse_bytes(("\n".join(lines) + "\n").encode())
    assert len(result.notices) == 4
    assert [p.reason for p in result.problems] == ["line 3: invalid JSON"]


def test_record_package_uses_compiled_release() -> None:
    release = FTS4["releases"][1]
    package = {"records": [{"ocid": release["ocid"], "compiledRelease": release}]}
    result = parse_bytes(json.dumps(package).encode())
    assert [n.ocid for n in result.notices] == [release["ocid"]]


def test_record_package_with_embedded_releases() -> None:
    package = {"records": [{"ocid": "x", "releases": FTS4["releases"][:2]}]}
    assert len(parse_json_document(package).notices) == 2


def test_single_release_and_list_of_releases() -> None:
    assert len(parse_bytes(json.dumps(FTS4["releases"][0]).encode()).notices) == 1
    assert len(parse_bytes(json.dumps(FTS4["releases"]).encode()).notices) == 4


def test_utf8_bom_is_accepted() -> None:
    data = b"\xef\xbb\xbf" + json.dumps(FTS4).encode()
    assert len(parse_bytes(data).notices) == 4


def test_content_decides_not_extension() -> None:
    csv_bytes = (SAMPLES / "cf_harvester_csv_export-2020-08-01_tenders.csv").read_bytes()
    assert len(parse_bytes(csv_bytes).notices) == 2


def test_wrong_types_inside_a_release_do_not_fail_it() -> None:
    release = {
        "ocid": "ocds-b5fd17-1",
        "id": 42,
        "tag": "tenderCancellation",
        "tender": {
            "title": ["not", "text"],
            "items": "nope",
            "classification": {"scheme": "CPV", "id": 3000000},
            "value": {"amount": "1,500.50", "currency": None},
            "tenderPeriod": {"endDate": "not a date"},
            "suitability": {"sme": "yes", "vcse": 7},
        },
        "parties": "none",
        "buyer": 5,
        "title": "Fallback title",
    }
    n = parse_json_document({"releases": [release]}).notices[0]
    assert n.release_id == "42" and n.stage == "cancelled" and n.title == "Fallback title"
    assert n.cpv == ("03000000",)
    assert n.value is not None and n.value.amount == 1500.5 and n.value.currency == "GBP"
    assert n.deadline is None and n.buyer is None
    assert (n.suitable_sme, n.suitable_vcse) == (True, None)


@pytest.mark.parametrize("status", ["cancelled", "withdrawn"])
def test_cancelled_status_wins_over_tag(status: str) -> None:
    release = {"ocid": "ocds-h6vhtk-1", "tag": ["tender"], "tender": {"status": status}}
    assert parse_json_document(release).notices[0].stage == "cancelled"


def test_cpv_only_from_cpv_scheme_deduplicated_with_check_digit_removed() -> None:
    release = {
        "ocid": "ocds-x-1",
        "tender": {
            "classification": {"scheme": "CPV", "id": "85300000-2"},
            "additionalClassifications": [
                {"scheme": "CPVS", "id": "AA01-1"},
                {"scheme": "UNSPSC", "id": "12345678"},
                {"scheme": "cpv", "id": "85300000"},
            ],
            "items": [{"classification": {"scheme": "CPV", "id": "98000000-3"}}],
        },
    }
    n = parse_json_document(release).notices[0]
    assert n.cpv == ("85300000", "98000000") and n.source == "unknown"


def test_non_ocds_json_lines_is_an_error() -> None:
    with pytest.raises(FeedFormatError, match="not OCDS"):
        parse_bytes(b'{"a": 1}\n{"b": 2}\n')


def _csv_rows(name: str) -> list[dict[str, str]]:
    import csv
    import io

    text = (SAMPLES / name).read_text("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_supplier_flags_empty_cell_is_false_for_a_named_supplier() -> None:
    """CF's full export writes a supplier's ``sme``/``vco`` as ``1`` or an empty cell."""
    name = "cf_harvester_csv_export-2020-08-05.csv"
    rows = _csv_rows(name)
    named = [c for c in rows[0] if re.search(r"/suppliers/\d+/name$", c)]
    prefixes = [c.removesuffix("name") for c in named]  # header order: 0, 1, 2, ...10
    expected = [
        (row[p + "name"].strip(), row[p + "sme"] == "1", row[p + "vco"] == "1")
        for row in rows
        for p in prefixes
        if row[p + "name"].strip()
    ]
    result = parse_bytes((SAMPLES / name).read_bytes())
    got = [(s.name, s.sme, s.vcse) for n in result.notices for a in n.awards for s in a.suppliers]
    assert got == expected
    assert {flags[1:] for flags in got} == {(True, False), (False, False), (True, True)}


def test_csv_without_supplier_flag_columns_leaves_them_unstated() -> None:
    name = "cf_harvester_csv_export-2020-07-01_awards.csv"
    assert not any(c.endswith("/sme") for c in _csv_rows(name)[0])
    result = parse_bytes((SAMPLES / name).read_bytes())
    suppliers = [s for n in result.notices for a in n.awards for s in a.suppliers]
    assert len(suppliers) == 10
    assert all(s.sme is None and s.vcse is None for s in suppliers)


def test_csv_empty_flags_of_an_unnamed_supplier_invent_nothing() -> None:
    header = "releases/0/ocid,releases/0/tag,releases/0/awards/0/suppliers/0/sme,x"
    result = parse_bytes(f"{header}\nocds-b5fd17-1,award,,1\n".encode())
    assert [n.awards for n in result.notices] == [()]
