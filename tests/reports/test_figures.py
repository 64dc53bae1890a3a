"""Every figure of the JSON report against counts made here, independently, from the bundled
real samples (and the real-shaped contract details and changes of ``kit.contract_family``).

The expectations below are written out plainly from the parsed notices — newest release
per procurement by date then id, simple loops and Counters — and never call
``bot.reports``. Three regions are checked: the whole UK, the East Midlands (few notices,
mostly Contracts Finder region names) and Wales (Sell2Wales' NUTS3 codes).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.reports.build import REPORT_KEYS, build_report
from bot.reports.params import ReportParams
from bot.reports.procurements import procurements_from_notices
from bot.reports.source import procurements_from_files
from feeds.notice import Award, Notice
from matchers.engine import match
from matchers.profile import parse_profiles
from tests.reports.kit import (
    CHANGED_OCID,
    END,
    START,
    TERMINATED_OCID,
    all_notices,
    contract_family,
    sample_notices,
)

EARLY = {"pipeline", "engagement", "planned", "dm_intention"}
OPEN_KINDS = {"tender", "dm_established", "dm_modified", "unknown"}
ACTIONABLE = EARLY | {"tender", "dm_established", "dm_modified"}
ENGLISH = {"UKC", "UKD", "UKE", "UKF", "UKG", "UKH", "UKI", "UKJ", "UKK"}
NEVER = datetime.min.replace(tzinfo=UTC)
GENERATED = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


# ----------------------------------------------------------------------------- expectations


def newest_by_procurement(notices: Iterable[Notice]) -> dict[tuple[str, str], list[Notice]]:
    """(source, ocid) -> its releases, oldest first (the last is the newest)."""
    grouped: dict[tuple[str, str], list[Notice]] = {}
    for n in notices:
        grouped.setdefault((n.source, n.ocid), []).append(n)
    for releases in grouped.values():
        releases.sort(key=lambda n: (n.updated or n.published or NEVER, n.release_id))
    return grouped


def first_published_as_now(releases: list[Notice]) -> datetime | None:
    kind = releases[-1].kind
    dates = [r.published for r in releases if r.kind == kind and r.published]
    return min(dates) if dates else releases[-1].published


def located(n: Notice, region: str) -> bool:
    codes = set(n.regions)
    if region == "UK":
        return True
    if "UK" in codes or {c[:3] for c in codes} >= ENGLISH:
        return False
    return any(c.startswith(region) or (region.startswith(c) and c != "UK") for c in codes)


def money(n: Notice | Award) -> float | None:
    if n.value is None:
        return None
    figure = n.value.amount if n.value.amount is not None else n.value.min
    return figure if figure and figure > 0 else None


def band(figure: float | None) -> str:
    if figure is None:
        return "not_stated"
    for key, bound in (
        ("under_25k", 25e3),
        ("25k_to_100k", 100e3),
        ("100k_to_500k", 500e3),
        ("500k_to_2m", 2e6),
    ):
        if figure < bound:
            return key
    return "over_2m"


def sector(n: Notice) -> str:
    return n.cpv[0][:2] if n.cpv else "none"


def opportunities_expected(notices: Iterable[Notice], region: str) -> list[Notice]:
    found = []
    for releases in newest_by_procurement(notices).values():
        n = releases[-1]
        opened = first_published_as_now(releases)
        if n.kind in ACTIONABLE and opened and START <= opened < END and located(n, region):
            found.append(n)
    return found


def merged_awards(releases: list[Notice]) -> dict[str, dict[str, Any]]:
    awards: dict[str, dict[str, Any]] = {}
    for release in releases:
        for award in release.awards:
            fields = awards.setdefault(award.id, {})
            for name in Award.__dataclass_fields__:
                value = getattr(award, name)
                if value not in (None, "", ()):
                    fields[name] = value
    return awards


def contracts(notices: Iterable[Notice], region: str) -> list[tuple[Notice, dict[str, Any]]]:
    found = []
    for releases in newest_by_procurement(notices).values():
        n = releases[-1]
        if not located(n, region) or n.kind.startswith("dm_"):
            continue
        for award in merged_awards(releases).values():
            if award.get("status") not in ("cancelled", "unsuccessful"):
                found.append((n, award))
    return found


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", params=["UK", "UKF", "UKL"])
def region(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def report_for(region: str, *, start: datetime = START, end: datetime = END) -> dict[str, Any]:
    params = ReportParams(start=start, end=end, region=region)
    return build_report(
        procurements_from_notices(all_notices()), params, generated_at=GENERATED, source="files"
    )


@pytest.fixture(scope="module")
def report(region: str) -> dict[str, Any]:
    return report_for(region)


# ----------------------------------------------------------------------------- tests


def test_the_json_has_the_documented_keys_and_is_plain_json(report: dict[str, Any]) -> None:
    assert tuple(report) == REPORT_KEYS
    assert json.loads(json.dumps(report)) == report
    assert report["window"] == {"from": START.isoformat(), "to": END.isoformat()}
    assert set(report["opportunities"]) >= {
        "total",
        "by_cpv_division",
        "by_region",
        "by_value_band",
        "by_notice_kind",
        "suitable_sme",
        "suitable_vcse",
    }
    assert report["feedback"] is report["enquiries"] is report["service"] is None


def test_the_samples_give_a_report_worth_reading() -> None:
    """Not an empty report passing vacuously: the UK window holds real figures."""
    whole = report_for("UK")
    assert whole["opportunities"]["total"] > 100
    assert whole["awards"]["count"] > 50
    assert len(whole["contracts_ending"]) > 50
    assert whole["closing_soon"] and whole["early_signals"]


def test_one_count_per_procurement_newest_release(region: str, report: dict[str, Any]) -> None:
    expected = opportunities_expected(all_notices(), region)
    assert report["opportunities"]["total"] == len(expected)
    assert len(expected) == len({(n.source, n.ocid) for n in expected})
    releases = Counter((n.source, n.ocid) for n in sample_notices())
    if region == "UK":  # some procurements have several releases in the samples
        amended = [n for n in expected if releases[(n.source, n.ocid)] > 1]
        assert amended, "the samples should hold tenders released more than once"


def test_opportunities_by_sector_kind_value_and_suitability(
    region: str, report: dict[str, Any]
) -> None:
    expected = opportunities_expected(all_notices(), region)
    opp = report["opportunities"]
    assert opp["by_cpv_division"] == dict(Counter(sector(n) for n in expected))
    assert opp["by_notice_kind"] == dict(Counter(n.kind for n in expected))
    assert opp["by_value_band"] == dict(Counter(band(money(n)) for n in expected))
    assert opp["suitable_sme"] == sum(n.suitable_sme is True for n in expected)
    assert opp["suitable_vcse"] == sum(n.suitable_vcse is True for n in expected)
    assert list(opp["by_cpv_division"].values()) == sorted(
        opp["by_cpv_division"].values(), reverse=True
    )
    buyers = Counter(n.buyer.strip() for n in expected if n.buyer)
    assert opp["by_buyer"] == dict(sorted(buyers.items(), key=lambda kv: (-kv[1], kv[0]))[:15])
    weeks = opp["over_time"]["periods"]
    assert sum(p["total"] for p in weeks) == len(expected)


def test_opportunities_by_region(region: str, report: dict[str, Any]) -> None:
    expected = opportunities_expected(all_notices(), region)
    depth = 3 if region == "UK" else len(region) + 1
    counts: Counter[str] = Counter()
    for n in expected:
        keys = {c[:depth] for c in n.regions if c != "UK" and located_code(c, region)}
        for key in keys or {"not_stated"}:
            counts[key] += 1
    assert report["opportunities"]["by_region"] == dict(counts)
    if region == "UKL":
        assert set(counts) <= {"UKL1", "UKL2", "UKL"}
        assert counts["UKL1"] > 10


def located_code(code: str, region: str) -> bool:
    return region == "UK" or code.startswith(region) or region.startswith(code)


def deadline_of(n: Notice) -> datetime | None:
    if n.kind == "engagement":
        dates = [n.dates.engagement_end]
    elif n.kind in OPEN_KINDS:
        dates = [n.deadline, n.dates.expression_of_interest]
    else:
        dates = []
    known = [d for d in dates if d is not None]
    return min(known) if known else None


def test_closing_soon(region: str, report: dict[str, Any]) -> None:
    expected = []
    for releases in newest_by_procurement(all_notices()).values():
        n = releases[-1]
        due = deadline_of(n)
        if n.kind in ACTIONABLE and located(n, region) and due and END < due <= END + timedelta(14):
            expected.append((due, n.title, n.ocid))
    got = [(e["deadline"], e["ocid"]) for e in report["closing_soon"]]
    assert got == [(due.isoformat(), ocid) for due, _, ocid in sorted(expected)]
    if region == "UK":
        assert len(got) >= 10


def test_early_signals(region: str, report: dict[str, Any]) -> None:
    expected = set()
    for releases in newest_by_procurement(all_notices()).values():
        n = releases[-1]
        if n.kind not in EARLY or not located(n, region):
            continue
        starts = [lot.contract_start for lot in n.lots if lot.contract_start]
        ahead = [
            d
            for d in (
                n.dates.engagement_end,
                n.dates.future_notice,
                n.dates.contract_start or (min(starts) if starts else None),
            )
            if d is not None and d >= END
        ]
        opened = first_published_as_now(releases)
        if ahead or (opened and START <= opened < END):
            expected.add(n.ocid)
    assert {e["ocid"] for e in report["early_signals"]} == expected
    if region == "UK":
        assert {"pipeline", "engagement"} <= {e["kind"] for e in report["early_signals"]}


def test_contracts_ending_within_the_horizon(region: str, report: dict[str, Any]) -> None:
    horizon = END + timedelta(days=548)
    expected = sorted(
        (award["contract_end"], n.ocid, award["id"])
        for n, award in contracts(all_notices(), region)
        if award.get("contract_end") and END < award["contract_end"] <= horizon
    )
    got = [(e["end_date"], e["ocid"], e["award_id"]) for e in report["contracts_ending"]]
    assert got == [(end.isoformat(), ocid, award) for end, ocid, award in expected]
    for entry in report["contracts_ending"]:
        assert {"ocid", "title", "buyer", "supplier", "value", "end_date"} <= set(entry)


def test_contract_changes_move_the_forecast() -> None:
    """UK7 then UK10: the signed contract ended 31 March 2028, the change extends it a year
    at a new total value; the terminated copy ended on 30 June 2027 whatever it said before."""
    in_2028 = report_for(
        "UKF", start=datetime(2028, 1, 1, tzinfo=UTC), end=datetime(2028, 3, 1, tzinfo=UTC)
    )
    [changed] = [e for e in in_2028["contracts_ending"] if e["ocid"] == CHANGED_OCID]
    assert changed["end_date"] == "2029-03-31T23:59:59+01:00"
    assert changed["value"] == 320000
    assert changed["supplier"] == "SWITCH UP C.I.C."
    assert changed["buyer"] and "Nottinghamshire" in changed["buyer"]
    assert changed["changed"] is True
    assert TERMINATED_OCID not in {e["ocid"] for e in in_2028["contracts_ending"]}

    before = report_for(
        "UKF", start=datetime(2026, 12, 1, tzinfo=UTC), end=datetime(2027, 1, 1, tzinfo=UTC)
    )
    ends = {e["ocid"]: e["end_date"] for e in before["contracts_ending"]}
    assert ends[TERMINATED_OCID] == "2027-06-30T23:59:59+01:00"
    # Signed to end in March 2028, inside 18 months of January 2027 — but extended to 2029.
    assert CHANGED_OCID not in ends


def test_awards_count_value_and_shares(region: str, report: dict[str, Any]) -> None:
    made = [
        award
        for n, award in contracts(all_notices(), region)
        if START <= (award.get("date") or award.get("signed") or n.published or NEVER) < END
    ]
    values = [v for a in made if (v := money_of(a)) is not None]
    got = report["awards"]
    assert got["count"] == len(made)
    assert got["value"] == pytest.approx(sum(values), abs=0.01)
    assert got["with_value"] == len(values)
    for flag in ("sme", "vcse"):
        stated = [
            a for a in made if any(getattr(s, flag) is not None for s in a.get("suppliers", ()))
        ]
        yes = [a for a in stated if any(getattr(s, flag) for s in a["suppliers"])]
        assert got[f"{flag}_stated"] == len(stated)
        assert got[f"{flag}_awards"] == len(yes)
        assert got[f"share_{flag}"] == (round(len(yes) / len(stated), 3) if stated else None)
    if region == "UK":
        assert 0 < got["share_sme"] < 1 and got["vcse_awards"] >= 1


def money_of(award: dict[str, Any]) -> float | None:
    value = award.get("value")
    if value is None:
        return None
    figure = value.amount if value.amount is not None else value.min
    return figure if figure and figure > 0 else None


def test_unserved_demand_from_profiles() -> None:
    """With the demo's five enterprises as profiles: the sectors whose opportunities matched
    none of them, counted here with the matcher run directly on the newest releases."""
    people = json.loads((REPO / "bot" / "demo_data" / "subscribers.json").read_text("utf-8"))
    profiles = parse_profiles(people)
    notices = all_notices()
    params = ReportParams(start=START, end=END, region="UK")
    report = build_report(
        procurements_from_files(notices, profiles), params, generated_at=GENERATED, source="files"
    )
    expected = opportunities_expected(notices, "UK")
    hit = {m.notice_ocid for m in match(expected, profiles)}
    unmatched = Counter(sector(n) for n in expected if n.ocid not in hit)
    total = Counter(sector(n) for n in expected)
    got = {
        u["cpv_division"]: (u["unmatched"], u["opportunities"]) for u in report["unserved_demand"]
    }
    assert got == {key: (n, total[key]) for key, n in unmatched.items()}
    assert hit, "the demo enterprises should match some of the window's opportunities"
    assert "45" in got  # construction: none of the five does it
    assert report_for("UK")["unserved_demand"] is None  # files without profiles: not known


def test_the_same_procurement_on_both_feeds_counts_once() -> None:
    """A real Contracts Finder tender republished on Find a Tender (same buyer, deadline and
    title, other ocid) is one procurement; a different title is another."""
    [original] = [
        n
        for n in sample_notices()
        if n.source == "contracts_finder"
        and n.kind == "tender"
        and n.deadline
        and n.buyer
        and n.published
        and START <= n.published < END
    ][:1]
    from dataclasses import replace

    twin = replace(original, source="find_a_tender", ocid="ocds-h6vhtk-twin", release_id="t-1")
    other = replace(twin, ocid="ocds-h6vhtk-other", title="Something else entirely, elsewhere")
    base = procurements_from_notices(all_notices())
    with_twin = procurements_from_notices([*all_notices(), twin])
    with_other = procurements_from_notices([*all_notices(), other])
    assert len(with_twin) == len(base)
    assert len(with_other) == len(base) + 1


def test_contract_family_is_what_the_kit_says() -> None:
    kinds = [(n.ocid, n.kind) for n in contract_family()]
    assert (CHANGED_OCID, "change") in kinds and (TERMINATED_OCID, "termination") in kinds
