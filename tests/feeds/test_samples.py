"""Every bundled real sample parses, and the fields hold the values the files contain."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from feeds.notice import Notice, Value
from tests.feeds.conftest import SAMPLES, notice, parsed

ALL_SAMPLES = sorted(p.name for p in SAMPLES.iterdir() if p.suffix in (".json", ".jsonl", ".csv"))
EXPECTED_COUNTS = {
    "cf_bluetail_json_1_1_raw_2019-2020.jsonl": 100,
    "cf_cfserver1_release_literals_2025-03-11.json": 100,
    "cf_harvester_csv_export-2020-07-01_awards.csv": 10,
    "cf_harvester_csv_export-2020-08-01_tenders.csv": 2,
    "cf_harvester_csv_export-2020-08-05.csv": 29,
    "cf_ocds_search_2022-10-18_limit1.json": 1,
    "cf_ocds_search_2022-10-18_limit5_backslash-stripped.json": 5,
    "cf_ocds_search_2022-10-19_to_2022-10-20_limit100.json": 100,
    "cf_ocds_search_2022-10-21_to_2022-10-22_limit100.json": 100,
    "cf_ocds_search_2025-01-20_to_2025-01-23_page1.json": 100,
    "cf_sample-data_2014-12_to_2015-02_tenders.json": 200,
    "cf_spendnetwork_via_bluetail_awards_2020.json": 100,
    "fts_032703-2026_UK4_tender.json": 1,
    "fts_037689-2026_UK1_pipeline.json": 1,
    "fts_release_package_2026-10-06_limit4.json": 4,
    "pcs_cfserver1_release_literals_2019-03_to_2019-04.json": 90,
    "s2w_cfserver1_release_literals_2025-02.json": 90,
}


def test_every_sample_is_listed() -> None:
    assert set(ALL_SAMPLES) == set(EXPECTED_COUNTS)


@pytest.mark.parametrize("name", ALL_SAMPLES)
def test_sample_parses_completely(name: str) -> None:
    result = parsed(name)
    assert result.problems == []
    assert len(result.notices) == EXPECTED_COUNTS[name]
    for n in result.notices:
        assert n.ocid and n.release_id and n.title
        assert n.stage in ("planning", "tender", "award", "contract", "cancelled")
        assert all(len(c) == 8 and c.isdigit() for c in n.cpv)
        assert len(set(n.cpv)) == len(n.cpv)
        for moment in (n.deadline, n.published, n.updated):
            assert moment is None or moment.utcoffset() is not None
        # The stable output round-trips and is valid JSON.
        data = json.loads(json.dumps(n.to_json_dict()))
        assert Notice.from_json_dict(data).to_json_dict() == data


def test_fts_uk4_tender_harrogate() -> None:
    n = notice("fts_032703-2026_UK4_tender.json")
    assert (n.source, n.ocid, n.release_id) == (
        "find_a_tender",
        "ocds-h6vhtk-067fb8",
        "032703-2026",
    )
    assert (n.notice_type, n.stage) == ("UK4", "tender")
    assert n.title == "HARROGATE TOWN DISTRICT HEATING PROJECT - Feasibility Study"
    assert n.buyer == "Harrogate Town Council"
    assert n.cpv == ("09323000", "79314000")
    assert n.regions == ("UKE2",)
    assert n.value == Value(amount=33721.0, min=None, currency="GBP")
    assert n.deadline is not None
    assert n.deadline.isoformat() == "2026-05-08T23:59:59+01:00"
    assert n.deadline.utcoffset() == timedelta(hours=1)
    assert n.url == "https://www.find-tender.service.gov.uk/Notice/032703-2026"
    assert n.buyer_postcode == "HG1 5LT"
    assert n.description.endswith("£33,721 (excluding VAT).")


def test_fts_uk1_pipeline_is_planning() -> None:
    n = notice("fts_037689-2026_UK1_pipeline.json")
    assert (n.notice_type, n.stage) == ("UK1", "planning")
    assert n.title == "Northumberland County Council Heat Networks"
    assert len(n.cpv) == 12 and n.cpv[0] == "09000000" and n.cpv[-1] == "90700000"
    assert n.regions == ("UKC2",)
    assert n.value is not None and n.value.amount == 30_000_000
    assert n.deadline is None


def test_fts_award_to_east_midlands_cic_uses_award_value_and_items() -> None:
    n = notice("fts_release_package_2026-10-06_limit4.json", ocid="ocds-h6vhtk-06d285")
    assert (n.notice_type, n.stage) == ("UK6", "award")
    assert n.title == "Mentoring in Education"
    assert n.buyer == "The Police and Crime Commissioner for Nottinghamshire"
    assert n.cpv == ("85300000",)
    assert n.regions == ("UKF14", "UKF15", "UKF16")
    assert n.value == Value(amount=211232.0, min=None, currency="GBP")
    assert n.buyer_postcode == "NG5 8PP"


def test_fts_award_with_only_gross_value() -> None:
    n = notice("fts_release_package_2026-10-06_limit4.json", ocid="ocds-h6vhtk-06e832")
    assert n.value == Value(amount=256378.74, min=None, currency="GBP")
    assert n.cpv == ("64200000",)


def test_fts_light_touch_tender() -> None:
    n = notice("fts_release_package_2026-10-06_limit4.json", ocid="ocds-h6vhtk-078219")
    assert (n.notice_type, n.stage) == ("UK4", "tender")
    # Double space in the source title is tidied.
    assert (
        n.title == "Competitive Flexible Procedure (CFP) Aldbanks Supported Living CBC-2074-CFP-SK"
    )
    assert n.deadline is not None and n.deadline.isoformat() == "2026-11-05T12:00:00+00:00"
    assert n.regions == ("UKH25",)
    assert n.value == Value(amount=2772000.0, min=None, currency="GBP")


def test_cf_2025_tender_with_suitability_and_england() -> None:
    n = notice("cf_ocds_search_2025-01-20_to_2025-01-23_page1.json", title="AT1299")
    assert n.source == "contracts_finder" and n.stage == "tender" and n.notice_type == "tender"
    assert n.buyer == "Luton Council"
    assert n.cpv == ("85300000",)
    assert (n.suitable_sme, n.suitable_vcse) == (True, True)
    assert n.regions == ("UKC", "UKD", "UKE", "UKF", "UKG", "UKH", "UKI", "UKJ", "UKK")
    assert n.value == Value(amount=118_000_000.0, min=None, currency="GBP")
    assert n.deadline is not None and n.deadline.isoformat() == "2025-02-17T17:00:00+00:00"
    assert n.published is not None and n.published.isoformat() == "2025-01-16T14:26:39+00:00"
    assert n.updated is not None and n.updated.isoformat() == "2025-01-23T18:30:29+00:00"
    assert n.url == (
        "https://www.contractsfinder.service.gov.uk/Notice/06c7e0ea-fd0b-431c-93b4-d1fcf3801ce5"
    )


def test_cf_planning_with_additional_classifications() -> None:
    n = notice("cf_ocds_search_2025-01-20_to_2025-01-23_page1.json", title="Analytical Testing")
    assert n.stage == "planning"
    assert n.cpv == ("09100000", "71630000")
    assert n.regions == ("UK",)
    assert (n.suitable_sme, n.suitable_vcse) == (True, False)


def test_cf_mojibake_repaired_on_real_text() -> None:
    n = notice("cf_cfserver1_release_literals_2025-03-11.json", title="Pressure Area Care")
    assert "£198,450,000" in n.description
    assert "Â" not in n.description
    camera = notice("cf_cfserver1_release_literals_2025-03-11.json", title="High Speed Camera")
    assert "• Monochrome high-speed" in camera.description
    assert "â€" not in camera.description


def test_no_mojibake_left_in_2025_page() -> None:
    raw = (SAMPLES / "cf_ocds_search_2025-01-20_to_2025-01-23_page1.json").read_text("utf-8")
    assert "Â£" in raw  # the source really is damaged
    for n in parsed("cf_ocds_search_2025-01-20_to_2025-01-23_page1.json").notices:
        assert "Â£" not in n.description and "â€" not in n.description + n.title


def test_cf_delivery_postcode_gives_region() -> None:
    n = notice("cf_ocds_search_2022-10-18_limit1.json")
    assert n.title == "RStudio License and Support"
    assert n.regions == ("UKI",)  # delivery postcode E20 1JN
    assert n.deadline is not None and n.deadline.isoformat() == "2022-10-03T23:59:59+01:00"


def test_cf_csv_tender_leicester() -> None:
    n = notice("cf_harvester_csv_export-2020-08-05.csv", title="PAN2466")
    assert n.buyer == "Leicester City Council"
    assert n.cpv == ("73000000",)
    assert n.value == Value(amount=35000.0, min=35000.0, currency="GBP")
    assert (n.suitable_sme, n.suitable_vcse) == (True, False)
    assert n.regions == ("UKF",)  # buyer postcode LE1 1FZ
    assert n.deadline is not None and n.deadline.isoformat() == "2020-09-01T12:00:00+00:00"
    assert n.url == (
        "https://www.contractsfinder.service.gov.uk/Notice/d84a1c50-79d6-4c7c-9d5f-7372a9e2143c"
    )


def test_cf_csv_planning_row_and_stage_counts() -> None:
    n = notice("cf_harvester_csv_export-2020-08-05.csv", title="Universal Youth and Play")
    assert n.stage == "planning"
    assert (n.suitable_sme, n.suitable_vcse) == (True, True)
    stages = [x.stage for x in parsed("cf_harvester_csv_export-2020-08-05.csv").notices]
    assert stages.count("tender") == 28 and stages.count("planning") == 1
    kinds = [x.notice_type for x in parsed("cf_harvester_csv_export-2020-08-05.csv").notices]
    assert kinds.count("tenderAmendment") == 2


def test_cf_csv_row_deadline_fills_a_release_without_one() -> None:
    # this row states its response deadline only in the row's own deadlineDate column
    n = notice("cf_harvester_csv_export-2020-08-05.csv", title="Universal Youth and Play")
    assert n.deadline is not None and n.deadline.isoformat() == "2020-08-21T23:59:59+00:00"
    deadlines = [x.deadline for x in parsed("cf_harvester_csv_export-2020-08-05.csv").notices]
    assert all(d is not None for d in deadlines)


def test_cf_csv_row_deadline_never_overrides_the_release() -> None:
    from feeds.cf_csv import unflatten_row

    header = ["deadlineDate", "releases/0/ocid", "releases/0/tender/tenderPeriod/endDate"]
    own = unflatten_row(header, ["2020-01-01T00:00:00Z", "ocds-x", "2020-02-02T12:00:00Z"])
    assert own["releases"][0]["tender"]["tenderPeriod"]["endDate"] == "2020-02-02T12:00:00Z"
    assert "deadlineDate" not in own
    # an award-only row has no tender block, and gets none
    bare = unflatten_row(header[:2], ["2020-01-01T00:00:00Z", "ocds-y"])
    assert "tender" not in bare["releases"][0]


def test_cf_csv_award_uses_award_value() -> None:
    n = notice("cf_harvester_csv_export-2020-07-01_awards.csv", title="BPDTS")
    assert n.stage == "award"
    assert n.value == Value(amount=231265.0, min=None, currency="GBP")  # tender value was 0.0
    assert n.buyer_postcode == "SW1H 9NA"


def test_cf_2014_old_shape() -> None:
    n = notice("cf_sample-data_2014-12_to_2015-02_tenders.json", title="CSSP")
    assert n.title == (
        "Climate Science for Service Partnership (CSSP): Calls for Expressions of Interest"
    )
    assert n.buyer == "Met Office"
    assert (n.suitable_sme, n.suitable_vcse) == (False, False)
    assert n.value == Value(amount=None, min=40676.0, currency="GBP")
    assert n.cpv == ("73000000",)
    assert n.regions == ()
    assert n.url == (
        "https://www.contractsfinder.service.gov.uk/Notice/3503e3f3-1527-4f44-8842-ef73958f8a80"
    )


def test_cf_spendnetwork_lincolnshire_by_postcode() -> None:
    n = notice(
        "cf_spendnetwork_via_bluetail_awards_2020.json",
        ocid="ocds-b5fd17-a26f2fdf-5348-4a78-bbaf-ff8954f9d4fd",
    )
    assert n.title == "Transport Services - Tender Batch 1052"
    assert n.regions == ("UKF",)  # buyer LN2 1BD
    assert n.value == Value(amount=None, min=250000.0, currency="GBP")
    assert (n.suitable_sme, n.suitable_vcse) == (True, False)


def test_bluetail_jsonl_entities_decoded() -> None:
    n = notice("cf_bluetail_json_1_1_raw_2019-2020.jsonl", title="Cannes")
    assert n.source == "contracts_finder"
    assert "café" in n.description and "&eacute;" not in n.description
    assert n.regions == ("UKI",)
    assert n.cpv == ("79952000", "79952100")


def test_pcs_release_without_id() -> None:
    n = notice("pcs_cfserver1_release_literals_2019-03_to_2019-04.json")
    assert n.source == "public_contracts_scotland"
    assert n.release_id == "ocds-r6ebe6-0000581860@2019-04-29T00:00:00Z"
    assert n.regions == ("UKM82",)
    assert n.cpv == ("50711000",)
    assert n.url == (
        "https://www.publiccontractsscotland.gov.uk/search/show/search_view.aspx?ID=APR352786"
    )


def test_sell2wales_framework() -> None:
    n = notice("s2w_cfserver1_release_literals_2025-02.json", ocid="ocds-kuma6s-148410")
    assert n.source == "sell2wales"
    assert n.buyer == "Creating Enterprise C.I.C"
    assert n.regions == ("UKL12", "UKL13")
    assert n.value == Value(amount=20_000_000.0, min=None, currency="GBP")
    assert len(n.cpv) == 18 and n.cpv[:2] == ("45000000", "45261000")


def test_every_pcs_and_s2w_notice_touches_scotland_or_wales() -> None:
    for name, prefix in (
        ("pcs_cfserver1_release_literals_2019-03_to_2019-04.json", "UKM"),
        ("s2w_cfserver1_release_literals_2025-02.json", "UKL"),
    ):
        for n in parsed(name).notices:
            # Cross-border work exists (a Dumfries buyer delivering in Cumbria, UKD1),
            # and some contracts are UK-wide (CalMac's dry docking: region "UK").
            assert any(r.startswith(prefix) or r == "UK" for r in n.regions), n.ocid
