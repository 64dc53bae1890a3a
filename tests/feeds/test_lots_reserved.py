"""Lots (value, suitability, CPV and places per lot) and reserved participation."""

from __future__ import annotations

import json
from typing import Any

from feeds.lots import notice_reserved, parse_lots, reserved_codes
from feeds.notice import RESERVATIONS, Lot, Value
from feeds.ocds import parse_release
from tests.feeds import uk_profile_releases as uk
from tests.feeds.conftest import SAMPLES, notice, parsed


def test_lots_with_their_own_value_suitability_and_reservation() -> None:
    n = parse_release(uk.uk4_lots())
    assert [lot.id for lot in n.lots] == ["1", "2", "3"]
    assert [lot.title for lot in n.lots] == [
        "Feasibility study",
        "Stakeholder engagement",
        "Site surveys and grounds clearance",
    ]
    assert [lot.value for lot in n.lots] == [
        Value(20000.0, None, "GBP"),
        Value(8000.0, None, "GBP"),
        Value(5721.0, None, "GBP"),
    ]
    assert [(lot.suitable_sme, lot.suitable_vcse) for lot in n.lots] == [
        (True, True),
        (True, False),
        (None, None),
    ]
    assert [lot.reserved for lot in n.lots] == [(), (), ("supported_employment",)]
    # Notice level: reserved in part is reserved; no tender-level suitability, so any lot's.
    assert n.reserved == ("supported_employment",)
    assert (n.suitable_sme, n.suitable_vcse) == (True, True)


def test_lot_cpv_and_regions_come_from_items_naming_the_lot() -> None:
    n = parse_release(uk.uk4_lots())
    assert [lot.cpv for lot in n.lots] == [("79314000",), ("79311000",), ("77310000",)]
    assert [lot.regions for lot in n.lots] == [("UKE2",), ("UKE2",), ("UKE22",)]
    assert n.cpv == ("79314000", "79311000", "77310000")


def test_lot_contract_period() -> None:
    lots = parse_release(uk.uk4_lots()).lots
    assert lots[0].contract_start is not None
    assert lots[0].contract_start.isoformat() == "2026-05-14T00:00:00+01:00"
    assert lots[1].contract_start is None and lots[1].contract_end is None


def test_single_lot_owns_items_without_related_lot() -> None:
    release = uk.real("fts_032703-2026_UK4_tender.json")
    release["tender"]["items"][0].pop("relatedLot")
    (lot,) = parse_release(release).lots
    assert lot.cpv == ("09323000", "79314000") and lot.regions == ("UKE2",)


def test_items_of_another_lot_do_not_leak() -> None:
    release = uk.uk4_lots()
    release["tender"]["items"][0]["relatedLot"] = "99"  # names no lot
    lots = parse_release(release).lots
    assert lots[0].cpv == () and lots[1].cpv == ("79311000",)


def test_award_notices_bare_lot_stubs_are_dropped() -> None:
    """UK6s repeat the tender's lots as ``{"id", "status", "description": null}``."""
    n = parse_release(uk.uk6_award())
    assert n.lots == ()
    assert n.awards[0].lots == ("1",)


def test_lot_without_id_is_numbered_by_position() -> None:
    lots = parse_lots({"lots": [{"title": "A"}, {"id": "7", "title": "B"}, {"title": "C"}]})
    assert [(lot.id, lot.title) for lot in lots] == [("1", "A"), ("7", "B"), ("3", "C")]


def test_wrong_types_inside_lots_cost_the_field_only() -> None:
    tender: dict[str, Any] = {
        "lots": [
            "not a lot",
            {"id": 2, "title": ["x"], "value": {"amount": "12,500"}, "suitability": "yes"},
            {"id": "3", "suitability": {"sme": "1", "vcse": "0"}, "contractPeriod": "soon"},
            None,
        ],
        "items": [
            {"relatedLot": 2, "additionalClassifications": [{"scheme": "cpv", "id": 85300000}]}
        ],
    }
    lots = parse_lots(tender)
    assert lots == (
        Lot(id="2", value=Value(12500.0, None, "GBP"), cpv=("85300000",)),
        Lot(id="3", suitable_sme=True, suitable_vcse=False),
    )


def test_sell2wales_multi_lot_framework_matches_the_raw_file() -> None:
    """Lots and per-lot CPV counted straight from the sample's JSON, not through the parser."""
    raw = json.loads(SAMPLES.joinpath("s2w_cfserver1_release_literals_2025-02.json").read_text())
    release = next(r for r in raw["releases"] if r["ocid"] == "ocds-kuma6s-148410")
    expected: dict[str, set[str]] = {lot["id"]: set() for lot in release["tender"]["lots"]}
    for item in release["tender"]["items"]:
        for c in item.get("additionalClassifications", []):
            expected[item["relatedLot"]].add(c["id"][:8])
    n = notice("s2w_cfserver1_release_literals_2025-02.json", ocid="ocds-kuma6s-148410")
    assert [lot.id for lot in n.lots] == list(expected)
    assert {lot.id: set(lot.cpv) for lot in n.lots} == expected
    assert [lot.title for lot in n.lots][:2] == ["Roofing", "Adaptations, Fencing and Landscaping"]
    assert all(lot.value == Value(5000000.0, None, "GBP") for lot in n.lots[:1])


def _says_something(lot: dict[str, Any], tender: dict[str, Any]) -> bool:
    period = lot.get("contractPeriod") or {}
    items = [
        i for i in tender.get("items") or [] if i.get("relatedLot", lot.get("id")) == lot.get("id")
    ]
    return bool(
        lot.get("title")
        or lot.get("description")
        or (lot.get("value") or {}).get("amount")
        or period.get("startDate")
        or period.get("endDate")
        or lot.get("suitability")
        or items
    )


def test_every_sample_lot_count_matches_the_raw_lots() -> None:
    """Over all bundled JSON samples: a lot is kept unless it is a bare id/status stub."""
    total = 0
    for name in sorted(p.name for p in SAMPLES.glob("*.json")):
        raw = json.loads(SAMPLES.joinpath(name).read_text(encoding="utf-8"))
        for release, n in zip(raw["releases"], parsed(name).notices, strict=True):
            tender = release.get("tender") or {}
            kept = [lot for lot in tender.get("lots") or [] if _says_something(lot, tender)]
            assert [lot.id for lot in n.lots] == [lot["id"] for lot in kept], release["ocid"]
            total += len(kept)
    assert total > 400  # PCS and Sell2Wales carry hundreds of real lots


# ----------------------------------------------------------------- reserved participation
def test_reservation_codes_of_the_uk_profile() -> None:
    assert reserved_codes(
        {"otherRequirements": {"reservedParticipation": ["shelteredWorkshop"]}}
    ) == ("supported_employment",)
    assert reserved_codes(
        {"otherRequirements": {"reservedParticipation": ["publicServiceMissionOrganization"]}}
    ) == ("public_service_mutual",)
    assert reserved_codes({"reservedParticipation": ["publicServiceMission", "smeVcse"]}) == (
        "public_service_mutual",
        "sme_vcse",
    )
    assert reserved_codes(
        {"otherRequirements": {"reservedParticipationLocation": {"description": "Derbyshire"}}}
    ) == ("local",)
    # An unknown code is kept as published rather than lost; junk is ignored.
    assert reserved_codes({"reservedParticipation": ["newCode", 5, None]}) == ("newCode",)
    assert reserved_codes({"otherRequirements": "none", "reservedParticipation": "smeVcse"}) == (
        "sme_vcse",
    )
    assert reserved_codes({}) == ()
    assert set(RESERVATIONS) == {
        "supported_employment",
        "public_service_mutual",
        "sme_vcse",
        "local",
    }


def test_whole_tender_reserved_for_public_service_mutuals() -> None:
    n = parse_release(uk.uk4_reserved_mutual())
    assert n.reserved == ("public_service_mutual",)
    assert all(lot.reserved == () for lot in n.lots)


def test_notice_reserved_is_tender_level_then_lots_without_repeats() -> None:
    lots = (
        Lot(id="1", title="a", reserved=("supported_employment",)),
        Lot(id="2", title="b", reserved=("supported_employment", "local")),
    )
    tender = {"otherRequirements": {"reservedParticipation": ["smeVcse"]}}
    assert notice_reserved(tender, lots) == ("sme_vcse", "supported_employment", "local")


def test_sell2wales_sheltered_workshop_sample() -> None:
    """The one bundled release that reserves participation (a real Sell2Wales notice)."""
    reserved = [
        n for n in parsed("s2w_cfserver1_release_literals_2025-02.json").notices if n.reserved
    ]
    assert [(n.ocid, n.reserved) for n in reserved] == [
        ("ocds-kuma6s-148223", ("supported_employment",))
    ]
