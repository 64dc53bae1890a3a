"""Matching lot by lot (``matchers.lots``) and the reservation filter, on real-shaped FTS
releases built from the bundled samples (``tests/feeds/uk_profile_releases.py``).

The lotted release is the real Harrogate district heating tender (£33,721 in all) in
three lots: 1 "Feasibility study" £20,000 (SME and VCSE suitable), 2 "Stakeholder
engagement" £8,000 (SME, not VCSE), 3 "Site surveys and grounds clearance" £5,721
(reserved for supported employment providers, suitability not stated).
"""

from __future__ import annotations

from typing import Any

import pytest

from feeds.notice import Notice
from feeds.ocds import parse_release
from matchers.engine import Matcher
from matchers.lots import LOT_MARK, lot_view, lot_views, match_lots, split_ocid, tender_reserved
from matchers.profile import ProfileError, parse_profile
from tests.feeds import uk_profile_releases as uk


def lotted() -> Notice:
    return parse_release(uk.uk4_lots())


def run(notices: list[Notice], **profile: Any) -> dict[str, tuple[str, ...]]:
    """ocid -> lots that fitted, for one profile (absent: no match)."""
    p = parse_profile({"id": "p", **profile})
    found = match_lots(Matcher([p]).match, notices, [p])
    return {m.match.notice_ocid: m.lots for m in found}


def test_lot_view_carries_the_lots_own_facts() -> None:
    notice = lotted()
    view = lot_view(notice, notice.lots[2])
    assert view.ocid == notice.ocid + LOT_MARK + "3"
    assert split_ocid(view.ocid) == (notice.ocid, "3")
    assert split_ocid(notice.ocid) == (notice.ocid, None)
    assert view.title == notice.title  # the lot's words open the description
    assert view.description.startswith("Site surveys and grounds clearance\n")
    assert view.value is not None and view.value.amount == 5721
    assert view.cpv == ("79314000", "77310000")  # the notice's main code, then the lot's
    assert view.regions == ("UKE22",)
    # the notice's "suitable for VCSEs" comes from lot 1: lot 3 states nothing
    assert (view.suitable_sme, view.suitable_vcse) == (None, None)
    assert view.reserved == ("supported_employment",)
    assert view.description.endswith(notice.description)  # the notice's text follows


def test_only_notices_with_two_or_more_lots_get_views() -> None:
    single = parse_release(uk.uk4_reserved_mutual())
    assert len(single.lots) == 1
    assert lot_views([single]) == [single]
    assert len(lot_views([lotted()])) == 4


def test_small_lot_is_not_hidden_behind_the_whole_value() -> None:
    notice = lotted()
    # the whole notice is £33,721: above the profile's ceiling
    assert run([notice], keywords=["grounds clearance"], max_value=10_000) == {notice.ocid: ("3",)}
    assert run([notice], keywords=["grounds clearance"], min_value=50_000) == {}


def test_title_keyword_lists_every_lot_that_passes_the_filters() -> None:
    notice = lotted()
    assert run([notice], keywords=["feasibility study"]) == {notice.ocid: ("1", "2", "3")}
    assert run([notice], keywords=["feasibility study"], max_value=10_000) == {
        notice.ocid: ("2", "3")
    }


def test_vcse_suitability_is_read_per_lot() -> None:
    notice = lotted()
    assert run([notice], keywords=["feasibility study"], vcse_only=True) == {notice.ocid: ("1",)}
    # only lot 2 is about stakeholder engagement, and it is not marked VCSE-suitable
    assert run([notice], keywords=["stakeholder engagement"], vcse_only=True) == {}
    assert run([notice], keywords=["stakeholder engagement"], sme_only=True) == {
        notice.ocid: ("2",)
    }


def test_reserved_filter_takes_the_reserved_lot_only() -> None:
    notice = lotted()
    assert tender_reserved(notice) == ()
    assert run([notice], keywords=["feasibility study"], reserved=["supported_employment"]) == {
        notice.ocid: ("3",)
    }
    assert run([notice], keywords=["feasibility study"], reserved=["public_service_mutual"]) == {}


def test_reserved_filter_on_a_whole_tender() -> None:
    mutual = parse_release(uk.uk4_reserved_mutual())
    plain = parse_release(uk.uk4_two_stage())
    words = {"keywords": ["supported living"]}
    assert run([mutual], **words) == {mutual.ocid: ()}
    assert run([mutual], **words, reserved=["public_service_mutual"]) == {mutual.ocid: ()}
    assert run([plain], **words, reserved=["public_service_mutual"]) == {}
    assert run([mutual], **words, reserved=["supported_employment"]) == {}


@pytest.mark.parametrize("bad", ["sheltered", "SME", 3])
def test_reserved_must_be_a_known_code(bad: object) -> None:
    with pytest.raises(ProfileError, match="reserved"):
        parse_profile({"id": "p", "keywords": ["care"], "reserved": [bad]})


def test_many_profiles_and_notices_keep_one_match_each() -> None:
    notice, other = lotted(), parse_release(uk.uk1_pipeline())
    profiles = [
        parse_profile({"id": str(i), "keywords": ["feasibility study"], "max_value": cap})
        for i, cap in enumerate([None, 25_000, 10_000, 1_000])
    ]
    found = match_lots(Matcher(profiles).match, [notice, other], profiles)
    assert sorted((m.match.profile_id, m.lots) for m in found) == [
        ("0", ("1", "2", "3")),
        ("1", ("1", "2", "3")),
        ("2", ("2", "3")),
    ]
    assert {m.match.notice_ocid for m in found} == {notice.ocid}
