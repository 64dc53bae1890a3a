"""Every UK notice type, as a real-shaped release, reads as the right kind, stage and dates.

The releases come from ``tests/feeds/uk_profile_releases.py`` (built from the
bundled FTS samples; each builder says what it is modelled on).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from feeds.kinds import INSTANT, KINDS
from feeds.notice import Notice, first_deadline, still_open
from feeds.ocds import parse_release
from feeds.stages import UK_NOTICE_TYPES
from tests.feeds import uk_profile_releases as uk


def parsed(release: dict[str, Any]) -> Notice:
    # Through JSON text, as the feeds deliver it.
    return parse_release(json.loads(json.dumps(release)))


@pytest.mark.parametrize("code", sorted(uk.UK_RELEASES, key=lambda c: int(c[2:])))
def test_each_uk_notice_type_reads_as_its_kind(code: str) -> None:
    build, kind = uk.UK_RELEASES[code]
    notice = parsed(build())
    assert notice.notice_type == code
    assert notice.kind == kind
    assert notice.stage == UK_NOTICE_TYPES[code][1] == KINDS[kind].stage
    assert notice.title


def test_every_uk_code_has_a_fixture() -> None:
    assert set(uk.UK_RELEASES) == set(UK_NOTICE_TYPES)


def test_award_contract_tag_is_split_by_notice_type() -> None:
    """FTS tags UK5, UK6, UK7, UK14 and UK15 all ``["award", "contract"]``."""
    builders = [uk.uk5_direct_award, uk.uk6_award, uk.uk7_contract_details]
    builders += [uk.uk14_dm_established, uk.uk15_dm_modified]
    notices = [parsed(build()) for build in builders]
    assert {tuple(build()["tag"]) for build in builders} == {("award", "contract")}
    assert [n.kind for n in notices] == [
        "direct_award",
        "award",
        "contract",
        "dm_established",
        "dm_modified",
    ]
    # A dynamic market one can join is an opportunity, not an award.
    assert [n.stage for n in notices] == ["award", "award", "contract", "tender", "tender"]


def test_compiled_uk2_has_its_type_only_in_planning_documents() -> None:
    release = uk.uk2_engagement(compiled=True)
    assert release["tag"] == ["compiled"]
    notice = parsed(release)
    assert (notice.notice_type, notice.kind, notice.stage) == ("UK2", "engagement", "planning")
    assert KINDS[notice.kind].delivery == INSTANT


def test_compiled_release_takes_the_latest_notice() -> None:
    """A record's compiled release holds every notice's document: the newest is current."""
    release = uk.uk2_engagement(compiled=True)
    later = uk.uk3_planned()["planning"]["documents"][0]
    release["planning"]["documents"].insert(0, later)  # listed first, published later
    assert parsed(release).notice_type == "UK3"
    later["datePublished"] = "2026-01-01T00:00:00Z"  # now the older of the two
    assert parsed(release).notice_type == "UK2"


def test_procurement_termination_is_cancelled_whatever_the_status_says() -> None:
    release = uk.uk12_procurement_terminated()
    assert release["tender"]["status"] == "active"
    notice = parsed(release)
    assert (notice.kind, notice.stage) == ("cancelled", "cancelled")
    assert notice.cpv == () and notice.lots == ()


@pytest.mark.parametrize("tag", ["tenderCancellation", "tenderUpdate", "awardUpdate"])
def test_dynamic_market_cessation_stays_dm_ceased(tag: str) -> None:
    notice = parsed(uk.uk16_dm_ceased(tag=tag))
    assert (notice.kind, notice.stage) == ("dm_ceased", "cancelled")


def test_uk4_cancelled_by_status_becomes_cancelled() -> None:
    release = uk.real("fts_032703-2026_UK4_tender.json")
    release["tender"]["status"] = "cancelled"
    notice = parsed(release)
    assert (notice.notice_type, notice.kind, notice.stage) == ("UK4", "cancelled", "cancelled")


# ----------------------------------------------------------------- dates and first_deadline
NOW = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)


def test_two_stage_tender_deadline_is_the_expression_of_interest() -> None:
    notice = parsed(uk.uk4_two_stage())
    assert notice.deadline is None
    eoi = notice.dates.expression_of_interest
    assert eoi is not None and eoi.isoformat() == "2026-11-02T12:00:00+00:00"
    assert first_deadline(notice) == eoi
    assert notice.dates.enquiry_end is not None  # clarifications: stated, never a deadline
    assert first_deadline(notice) != notice.dates.enquiry_end
    assert still_open(notice, NOW)
    assert not still_open(notice, datetime(2026, 11, 2, 12, 0, 1, tzinfo=UTC))


def test_first_deadline_is_the_earlier_of_eoi_and_tender_deadline() -> None:
    release = uk.uk4_two_stage()
    release["tender"]["tenderPeriod"] = {"endDate": "2026-12-14T12:00:00+00:00"}
    notice = parsed(release)
    assert notice.deadline is not None and notice.dates.expression_of_interest is not None
    assert first_deadline(notice) == notice.dates.expression_of_interest
    release["tender"]["expressionOfInterestDeadline"] = "2027-01-05T12:00:00+00:00"
    assert first_deadline(parsed(release)) == notice.deadline


def test_single_stage_tender_first_deadline_is_the_tender_deadline() -> None:
    notice = parsed(uk.real("fts_032703-2026_UK4_tender.json"))
    assert notice.dates.expression_of_interest is None
    assert first_deadline(notice) == notice.deadline is not None


def test_engagement_close_date_from_the_engagement_milestone() -> None:
    notice = parsed(uk.uk2_engagement())
    close = notice.dates.engagement_end
    assert close is not None and close.isoformat() == "2026-04-24T23:59:59+01:00"
    assert first_deadline(notice) == close
    assert still_open(notice, datetime(2026, 4, 20, tzinfo=UTC))
    assert not still_open(notice, datetime(2026, 4, 25, tzinfo=UTC))


def test_engagement_with_several_milestones_closes_at_the_last_engagement() -> None:
    release = uk.uk2_engagement()
    milestones = release["planning"]["milestones"]
    milestones.append({"id": "day", "type": "engagement", "dueDate": "2026-04-14T10:00:00+01:00"})
    milestones.append({"id": "x", "type": "preProcurement", "dueDate": "2026-09-01T00:00:00Z"})
    assert parsed(release).dates.engagement_end == parsed(uk.uk2_engagement()).dates.engagement_end


def test_planned_procurement_expected_dates_are_not_deadlines() -> None:
    """A UK3's tender period is only the deadline the buyer *expects*: nobody can bid yet."""
    notice = parsed(uk.uk3_planned())
    assert notice.dates.future_notice is not None
    assert notice.dates.future_notice.isoformat() == "2026-06-01T09:00:00+01:00"
    assert notice.deadline is not None  # kept in the stable field, as before
    assert first_deadline(notice) is None
    assert still_open(notice, datetime(2027, 1, 1, tzinfo=UTC))


def test_pipeline_expected_tender_date() -> None:
    notice = parsed(uk.uk1_pipeline())
    assert notice.dates.future_notice is not None
    assert notice.dates.future_notice.isoformat() == "2026-06-29T23:59:59+01:00"
    # FTS gives the contract period per lot only.
    assert notice.dates.contract_start is not None
    assert notice.dates.contract_start.isoformat() == "2027-03-31T00:00:00+01:00"
    assert notice.dates.contract_end is not None
    assert notice.dates.contract_end.isoformat() == "2028-03-31T23:59:59+01:00"


def test_dynamic_markets_have_no_deadline_and_stay_open() -> None:
    for build in (uk.uk13_dm_intention, uk.uk14_dm_established):
        notice = parsed(build())
        assert notice.deadline is None and first_deadline(notice) is None
        assert still_open(notice, NOW)
    established = parsed(uk.uk14_dm_established())
    assert established.dates.contract_end is not None
    assert established.dates.contract_end.year == 2030


@pytest.mark.parametrize(
    "code", ["UK5", "UK6", "UK7", "UK9", "UK10", "UK11", "UK12", "UK16", "UK17"]
)
def test_history_and_follow_ups_are_never_open(code: str) -> None:
    notice = parsed(uk.UK_RELEASES[code][0]())
    assert first_deadline(notice) is None
    assert not still_open(notice, datetime(2000, 1, 1, tzinfo=UTC))


def test_contract_period_prefers_the_signed_contract() -> None:
    award = parsed(uk.uk6_award())
    signed = parsed(uk.uk7_contract_details())
    terminated = parsed(uk.uk11_termination())
    assert award.dates.contract_end == signed.dates.contract_end
    assert terminated.dates.contract_end is not None
    assert terminated.dates.contract_end.isoformat() == "2027-06-30T23:59:59+01:00"
    assert terminated.awards[0].status == "terminated"
