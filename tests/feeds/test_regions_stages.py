"""Region names/codes/postcodes to NUTS, and stages from tags and UK notice types."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feeds import regions as feed_regions
from feeds.regions import (
    ENGLAND,
    NUTS1_NAMES,
    NUTS_NAMES,
    REGION_ALIASES,
    codes_for_name,
    normalise_postcode,
    normalise_region_name,
    region_from_postcode,
)
from feeds.stages import (
    OLD_REGIME_FORMS,
    UK_NOTICE_TYPES,
    is_open,
    pick_stage,
    stage_from_notice_type,
)
from matchers import regions as match_regions


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        ("East Midlands", ["UKF"]),
        ("  east   midlands ", ["UKF"]),
        ("London", ["UKI"]),
        ("Yorkshire and the Humber", ["UKE"]),
        ("Yorkshire & Humber", ["UKE"]),
        ("East of England", ["UKH"]),
        ("Scotland", ["UKM"]),
        ("Wales", ["UKL"]),
        ("Northern Ireland", ["UKN"]),
        ("United Kingdom", ["UK"]),
        ("England", list(ENGLAND)),
        ("UKF14", ["UKF14"]),
        ("ukf", ["UKF"]),
        ("TLF14", ["UKF14"]),
        ("Atlantis", []),
        ("", []),
    ],
)
def test_normalise_region_name(name: str, codes: list[str]) -> None:
    assert normalise_region_name(name) == codes


def test_every_nuts1_name_round_trips() -> None:
    for code, name in NUTS1_NAMES.items():
        assert normalise_region_name(name) == [code]


@pytest.mark.parametrize(
    ("postcode", "code"),
    [
        ("DE1 3AA", "UKF"),
        ("LE1 1FZ", "UKF"),
        ("LN2 1BD", "UKF"),
        ("NG5 8PP", "UKF"),
        ("NN1 1DE", "UKF"),
        ("DE13 0AA", "UKG"),  # Burton upon Trent
        ("DE14 2AB", "UKG"),
        ("de15 9xx", "UKG"),
        ("DE12 7AA", "UKF"),
        ("S41 7TX", "UKF"),  # Chesterfield
        ("S1 2HH", "UKE"),  # Sheffield
        ("PE10 9LE", "UKF"),  # Bourne, Lincolnshire
        ("PE1 1AA", "UKH"),  # Peterborough
        ("E20 1JN", "UKI"),
        ("B4 7DJ", "UKG"),
        ("CF10 1AA", "UKL"),
        ("G21 4LS", "UKM"),
        ("BT1 1AA", "UKN"),
        ("JE2 3AB", None),
        ("not a postcode", None),
    ],
)
def test_region_from_postcode(postcode: str, code: str | None) -> None:
    assert region_from_postcode(postcode) == code


def test_normalise_postcode() -> None:
    assert normalise_postcode("ng31ax") == "NG3 1AX"
    assert normalise_postcode("Switch Up Centre, NG3 1AX") == "NG3 1AX"
    assert normalise_postcode("DE14") is None


def test_uk_notice_types_all_mapped() -> None:
    # UK1 to UK17 without UK8, which Find a Tender does not have.
    assert sorted(UK_NOTICE_TYPES, key=lambda c: int(c[2:])) == [
        f"UK{i}" for i in range(1, 18) if i != 8
    ]
    assert UK_NOTICE_TYPES["UK17"][0] == "payments compliance notice"
    assert stage_from_notice_type("UK8") is None
    assert [stage_from_notice_type(f"UK{i}") for i in (1, 2, 3)] == ["planning"] * 3
    assert stage_from_notice_type("uk4") == "tender"
    assert stage_from_notice_type("UK6") == "award"
    assert stage_from_notice_type("UK12") == "cancelled"
    assert stage_from_notice_type("UK99") is None


@pytest.mark.parametrize(
    ("tags", "notice_type", "status", "stage"),
    [
        (["planning"], None, None, "planning"),
        (["planningUpdate"], None, None, "planning"),
        (["tenderAmendment"], None, "active", "tender"),
        (["tenderUpdate"], None, None, "tender"),
        (["award", "contract"], "UK6", None, "award"),
        (["awardUpdate"], None, None, "award"),
        (["contractAmendment"], None, None, "contract"),
        (["tenderCancellation"], None, None, "cancelled"),
        (["tender"], None, "withdrawn", "cancelled"),
        (["tender"], "UK12", None, "cancelled"),
        ([], "UK4", None, "tender"),
        ([], None, None, "unknown"),
    ],
)
def test_pick_stage(
    tags: list[str], notice_type: str | None, status: str | None, stage: str
) -> None:
    assert pick_stage(tags=tags, notice_type=notice_type, tender_status=status) == stage


def test_is_open() -> None:
    now = datetime(2026, 5, 1, tzinfo=UTC)
    assert is_open("planning", None, now)
    assert is_open("tender", now + timedelta(days=1), now)
    assert not is_open("tender", now - timedelta(seconds=1), now)
    assert is_open("tender", None, now)
    assert not is_open("award", None, now)


def test_old_regime_form_codes_give_their_stage() -> None:
    assert stage_from_notice_type("F02") == stage_from_notice_type("f2") == "tender"
    assert stage_from_notice_type("F15") == "award"
    assert stage_from_notice_type("F20") == "contract"
    assert stage_from_notice_type("F14") is None  # a corrigendum: the tag decides
    assert pick_stage(tags=["tenderUpdate"], notice_type="F14", tender_status=None) == "tender"
    assert stage_from_notice_type("F99") is None
    assert all(code[0] == "F" and len(code) == 3 for code in OLD_REGIME_FORMS)


# ----------------------------------------------------------------- the one NUTS table
def test_matchers_use_the_feeds_table() -> None:
    assert match_regions.NUTS_NAMES is feed_regions.NUTS_NAMES
    assert frozenset(ENGLAND) == match_regions.ENGLISH_REGIONS
    assert {c: n for c, n in NUTS_NAMES.items() if len(c) == 3 and c != "UK"} == NUTS1_NAMES
    assert len(NUTS1_NAMES) == 12


def test_every_nuts_name_reads_back_as_its_code() -> None:
    for code, name in NUTS_NAMES.items():
        found = codes_for_name(name)
        assert len(found) == 1 and NUTS_NAMES[found[0]] == name, (code, name)
        assert normalise_region_name(name) == list(found)


def test_feeds_and_matchers_read_every_name_alike() -> None:
    """A profile's region and a notice's region go through the same table."""
    names = [*NUTS_NAMES.values(), *REGION_ALIASES]
    for name in names:
        codes = codes_for_name(name)
        expected = "ENG" if codes == ENGLAND else (codes[0] if len(codes) == 1 else None)
        assert match_regions.to_code(name) == expected, name


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        ("Nottinghamshire", ["UKF1"]),
        ("Derby", ["UKF11"]),
        ("Leicester", ["UKF21"]),
        ("Rutland", ["UKF22"]),
        ("Lincolnshire", ["UKF30"]),
        ("The East Midlands", ["UKF"]),
        ("Inner London - West", ["UKI3"]),
        ("inner london west", ["UKI3"]),
        ("East Anglia", ["UKH1"]),
        ("Midlands", ["UKF", "UKG"]),
        ("national", ["UK"]),
        ("Yorkshire and The Humber", ["UKE"]),
    ],
)
def test_finer_names_and_counties(name: str, codes: list[str]) -> None:
    assert normalise_region_name(name) == codes
