"""Awards with their suppliers (SME/VCSE where stated), signed contracts and contract changes."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from feeds.awards import parse_amendments, parse_awards, supplier
from feeds.notice import Award, Supplier, Value
from feeds.ocds import parse_release
from tests.feeds import uk_profile_releases as uk
from tests.feeds.conftest import SAMPLES, notice, parsed


def test_uk6_award_to_a_cic_in_nottingham() -> None:
    n = notice("fts_release_package_2026-10-06_limit4.json", ocid="ocds-h6vhtk-06d285")
    (award,) = n.awards
    assert award.title == "Mentoring in Education"
    assert award.value == Value(211232.0, None, "GBP")
    assert award.date is not None and award.date.isoformat() == "2026-10-06T00:00:00+01:00"
    assert award.contract_end is not None
    assert award.contract_end.isoformat() == "2028-03-31T23:59:59+01:00"
    assert award.contract_max_end is not None and award.contract_max_end.year == 2030
    assert award.lots == ("1",)
    assert award.suppliers == (
        Supplier(
            name="SWITCH UP C.I.C.",
            id="GB-COH-08522643",
            scale="large",
            sme=False,
            vcse=True,
        ),
    )


def test_uk6_supplier_flags_of_the_uk_profile() -> None:
    n = notice("fts_release_package_2026-10-06_limit4.json", ocid="ocds-h6vhtk-06e832")
    (award,) = n.awards
    assert award.status == "pending"
    assert award.standstill_end is not None
    assert award.standstill_end.isoformat() == "2026-10-15T23:59:59+01:00"
    assert award.value == Value(256378.74, None, "GBP")  # gross only on this award
    assert award.suppliers == (
        Supplier(
            name="Chess ICT",
            id="GB-PPON-PVHJ-9851-QPYJ",
            scale="large",
            sme=False,
            vcse=False,
            supported_employment=False,
            public_service_mutual=False,
        ),
    )
    sme = notice("fts_release_package_2026-10-06_limit4.json", ocid="ocds-h6vhtk-078217")
    assert [(s.name, s.scale, s.sme) for s in sme.awards[0].suppliers] == [
        ("BiP Solutions Ltd", "sme", True)
    ]


def test_supplier_scale_and_flag_readings() -> None:
    def read(reference: dict[str, Any], details: dict[str, Any] | None = None) -> Supplier | None:
        return supplier({"name": "Acme", **reference}, {"details": details or {}})

    assert read({}, {"scale": "micro"}) == Supplier("Acme", scale="micro", sme=True)
    assert read({}, {"scale": "Large"}) == Supplier("Acme", scale="Large", sme=False)
    assert read({}, {"scale": "unknown"}) == Supplier("Acme", scale="unknown")
    # Contracts Finder's old shape: flags on the supplier, "1"/"0" from the CSV export.
    assert read({"sme": "1", "vco": "1"}) == Supplier("Acme", sme=True, vcse=True)
    assert read({"sme": True, "vco": False}) == Supplier("Acme", sme=True, vcse=False)
    assert read({}, {"shelteredWorkshop": True, "publicServiceMissionOrganization": "true"}) == (
        Supplier("Acme", supported_employment=True, public_service_mutual=True)
    )
    assert supplier({"name": "  "}, {}) is None
    assert supplier({"id": "x"}, {"name": "From party"}) == Supplier("From party", id="x")


def test_contracts_finder_award_suppliers_match_the_raw_file() -> None:
    """Every supplier name and SME/VCSE flag of the 2025 CF page, read straight from the JSON."""
    name = "cf_ocds_search_2025-01-20_to_2025-01-23_page1.json"
    raw = json.loads(SAMPLES.joinpath(name).read_text(encoding="utf-8"))
    expected: list[list[tuple[str, bool | None, bool | None]]] = []
    for release in raw["releases"]:
        details = {p["id"]: p.get("details") or {} for p in release.get("parties", [])}
        rows = []
        for award in release.get("awards", []):
            for ref in award["suppliers"]:
                d = details.get(ref["id"], {})
                scale = d.get("scale")
                rows.append(
                    (ref["name"].strip(), None if scale is None else scale == "sme", d.get("vcse"))
                )
        expected.append(rows)
    got = [
        [(s.name, s.sme, s.vcse) for a in n.awards for s in a.suppliers]
        for n in parsed(name).notices
    ]
    assert got == expected
    assert sum(map(len, got)) > 50


def test_spendnetwork_old_shape_sme_vco_flags() -> None:
    name = "cf_spendnetwork_via_bluetail_awards_2020.json"
    raw = json.loads(SAMPLES.joinpath(name).read_text(encoding="utf-8"))
    flags = Counter(
        (s.get("sme"), s.get("vco"))
        for r in raw["releases"]
        for a in r["awards"]
        for s in a["suppliers"]
        if (s.get("name") or "").strip()
    )
    got = Counter(
        (s.sme, s.vcse) for n in parsed(name).notices for a in n.awards for s in a.suppliers
    )
    # A supplier named twice on one award counts once.
    assert sum(got.values()) <= sum(flags.values())
    assert set(got) <= set(flags)
    assert got[(True, False)] > 100 and got[(False, False)] > 100


def test_uk5_direct_award_has_a_named_supplier_and_no_date() -> None:
    n = parse_release(uk.uk5_direct_award())
    (award,) = n.awards
    assert award.date is None and award.status == "pending"
    assert [s.name for s in award.suppliers] == ["BiP Solutions Ltd"]


def test_uk7_signed_contract_wins_over_the_award() -> None:
    n = parse_release(uk.uk7_contract_details())
    (award,) = n.awards
    assert award.value == Value(209000.0, None, "GBP")
    assert award.signed is not None and award.signed.isoformat() == "2026-10-30T00:00:00+00:00"
    assert award.suppliers[0].name == "SWITCH UP C.I.C."
    assert award.status == "active"


def test_contract_without_its_award_takes_the_supplier_parties() -> None:
    n = parse_release(uk.uk10_change())
    (award,) = n.awards
    assert award.id == "1"
    assert [s.name for s in award.suppliers] == ["SWITCH UP C.I.C."]
    assert award.value == Value(209000.0, None, "GBP")


def test_uk10_change_states_the_new_end_date_and_value() -> None:
    for proposed in (False, True):
        n = parse_release(uk.uk10_change(proposed=proposed))
        (change,) = n.amendments
        assert change.contract_id == "1"
        assert change.contract_end is not None
        assert change.contract_end.isoformat() == "2029-03-31T23:59:59+01:00"
        assert change.value == Value(320000.0, None, "GBP")
        assert change.description.startswith("Extension of the contract")


def test_amendments_without_content_are_skipped() -> None:
    release = {"contracts": [{"id": "9", "amendments": [{"id": "1"}, "junk", {"date": "bad"}]}]}
    assert parse_amendments(release) == ()


def test_dynamic_market_members_are_value_less_awards() -> None:
    n = parse_release(uk.uk14_dm_established())
    assert [a.suppliers[0].name for a in n.awards] == ["Mansfield Care CIC", "Ashfield Homes Ltd"]
    assert all(a.value is None for a in n.awards)
    assert [a.suppliers[0].vcse for a in n.awards] == [True, False]
    assert n.value == Value(2772000.0, None, "GBP")  # the market's estimate, from the tender


def test_junk_awards_cost_the_field_only() -> None:
    release: dict[str, Any] = {
        "parties": ["x", {"id": 5, "name": "Numbered Ltd", "details": "none"}],
        "awards": [
            None,
            {"suppliers": [{"id": 5}, {"name": None}, "y"], "value": {"amount": "n/a"}},
            {"id": "2", "date": "31/12/2025", "contractPeriod": [], "relatedLots": "1"},
        ],
        "contracts": "none",
    }
    assert parse_awards(release) == (
        Award(id="1", suppliers=(Supplier("Numbered Ltd", id="5"),)),
        Award(id="2", lots=("1",)),
    )
