"""The kinds vocabulary: one kind per UK code, default deliveries, CF and old-regime mapping."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feeds.kinds import (
    DIGEST,
    FOLLOW_UP,
    INSTANT,
    KIND_BY_CODE,
    KIND_IDS,
    KINDS,
    NEVER,
    OPPORTUNITY_KINDS,
    KindHints,
    kind_for_code,
    kind_from_tags,
    kind_of_stored,
    pick_kind,
)
from feeds.notice import STAGES
from feeds.stages import OLD_REGIME_FORMS, UK_NOTICE_TYPES, pick_stage, stage_from_notice_type

# The issue "The whole life of a procurement": who hears about each UK notice by default.
EXPECTED_DELIVERY = {
    **dict.fromkeys(["UK4", "UK2", "UK13", "UK14"], INSTANT),
    **dict.fromkeys(["UK1", "UK3", "UK15"], DIGEST),
    **dict.fromkeys(["UK5", "UK6", "UK7", "UK9", "UK10", "UK11", "UK17"], NEVER),
    **dict.fromkeys(["UK12", "UK16"], FOLLOW_UP),
}


def test_vocabulary_is_the_proposed_one() -> None:
    assert KIND_IDS == (
        "pipeline",
        "engagement",
        "planned",
        "tender",
        "dm_intention",
        "dm_established",
        "dm_modified",
        "dm_ceased",
        "direct_award",
        "award",
        "contract",
        "performance",
        "change",
        "termination",
        "cancelled",
        "payments",
        "unknown",
    )
    for kind_id, kind in KINDS.items():
        assert kind.id == kind_id
        assert kind.stage in STAGES
        assert kind.name and kind.summary and kind.name[0].isupper()


def test_there_is_no_uk8_and_uk17_is_payments_compliance() -> None:
    assert "UK8" not in UK_NOTICE_TYPES
    assert sorted(int(code[2:]) for code in UK_NOTICE_TYPES) == [*range(1, 8), *range(9, 18)]
    assert UK_NOTICE_TYPES["UK17"] == ("payments compliance notice", "contract")
    assert kind_for_code("UK8") is None


@pytest.mark.parametrize("code", sorted(UK_NOTICE_TYPES, key=lambda c: int(c[2:])))
def test_each_uk_code_has_one_kind_with_the_issue_delivery(code: str) -> None:
    owners = [k.id for k in KINDS.values() if code in k.uk_codes]
    assert len(owners) == 1
    kind = KINDS[owners[0]]
    assert kind_for_code(code) == kind_for_code(code.lower()) == kind.id
    assert kind.stage == stage_from_notice_type(code)
    assert kind.delivery == EXPECTED_DELIVERY[code]


def test_old_regime_forms_agree_with_their_stage() -> None:
    for form, (_, stage) in OLD_REGIME_FORMS.items():
        kind = kind_for_code(form)
        if stage is None:
            assert kind is None, form  # corrigenda and light-touch notices: the tag decides
        else:
            assert kind is not None and KINDS[kind].stage == stage, form
    assert set(KIND_BY_CODE) == set(UK_NOTICE_TYPES) | {
        f for f, (_, stage) in OLD_REGIME_FORMS.items() if stage is not None
    }
    assert [kind_for_code(c) for c in ("F2", "f15", "F20", " F03 ", "F99", "X1")] == [
        "tender",
        "direct_award",
        "change",
        "award",
        None,
        None,
    ]


def test_opportunities_are_what_enterprises_hear_about() -> None:
    assert {
        "pipeline",
        "engagement",
        "planned",
        "tender",
        "dm_intention",
        "dm_established",
        "dm_modified",
    } == OPPORTUNITY_KINDS


ENGAGEMENT = KindHints(frozenset({"marketEngagementNotice"}), engagement_milestone=True)
FUTURE = KindHints(frozenset({"plannedProcurementNotice"}), future_notice_date=True)


@pytest.mark.parametrize(
    ("tags", "status", "hints", "kind"),
    [
        # Contracts Finder: its notice types share OCDS tags, the notice document tells them apart.
        (["planning"], "planning", ENGAGEMENT, "engagement"),
        (["planning"], "planning", KindHints(engagement_milestone=True), "engagement"),
        (["planning"], "planned", FUTURE, "pipeline"),
        (["planning"], "planned", KindHints(future_notice_date=True), "pipeline"),
        (["planning"], "planning", KindHints(), "planned"),  # CSV export: no documents
        (["tender"], "active", KindHints(), "tender"),
        (["tenderAmendment"], "active", KindHints(), "tender"),
        (["award"], "complete", KindHints(), "award"),
        (["awardUpdate"], "complete", KindHints(), "award"),
        (["tender"], "cancelled", KindHints(), "cancelled"),
        (["tender"], "withdrawn", KindHints(), "cancelled"),
        (["planningUpdate"], "withdrawn", FUTURE, "cancelled"),
        # Old regime (PCR 2015) on FTS: tags only, no notice type.
        (["planning"], "planned", KindHints(), "planned"),  # prior information notice
        (["planning", "tender"], "active", KindHints(), "planned"),  # PIN as call for competition
        (["tenderUpdate"], "active", KindHints(), "tender"),  # F14 corrigendum
        (["award", "contract"], "complete", KindHints(), "award"),  # F03
        (["awardUpdate", "contractUpdate"], "complete", KindHints(), "award"),
        (["contract"], "complete", KindHints(), "contract"),
        (["contractAmendment"], "complete", KindHints(), "change"),  # F20 modification
        (["implementation"], "complete", KindHints(), "performance"),
        (["contractTermination"], "complete", KindHints(), "termination"),
        (["tenderCancellation"], "active", KindHints(), "cancelled"),
        (["awardCancellation"], None, KindHints(), "cancelled"),
        (["compiled"], None, KindHints(), "unknown"),
        ([], None, KindHints(), "unknown"),
    ],
)
def test_tags_and_hints_without_a_code(
    tags: list[str], status: str | None, hints: KindHints, kind: str
) -> None:
    assert pick_kind(tags=tags, notice_type=None, tender_status=status, hints=hints) == kind


@pytest.mark.parametrize(
    ("tags", "code", "kind"),
    [
        (["award"], "F15", "direct_award"),
        (["award"], "F03", "award"),
        (["contractAmendment"], "F20", "change"),
        (["tenderUpdate"], "F14", "tender"),  # a corrigendum takes its tag's kind
        (["award"], "F21", "award"),
        (["tender"], "F21", "tender"),
        (["planning"], "F01", "planned"),
        (["tender"], "F07", "dm_established"),
    ],
)
def test_old_regime_form_codes(tags: list[str], code: str, kind: str) -> None:
    assert pick_kind(tags=tags, notice_type=code, tender_status=None) == kind


TAGS = st.sampled_from(
    [
        "planning",
        "planningUpdate",
        "tender",
        "tenderAmendment",
        "tenderUpdate",
        "tenderCancellation",
        "award",
        "awardUpdate",
        "awardCancellation",
        "contract",
        "contractUpdate",
        "contractAmendment",
        "implementation",
        "contractTermination",
        "compiled",
        "nonsense",
    ]
)
CODES = st.one_of(
    st.none(),
    st.sampled_from([*UK_NOTICE_TYPES, *OLD_REGIME_FORMS, "UK8", "uk4", "F2", "tender", ""]),
)
STATUSES = st.one_of(
    st.none(), st.sampled_from(["active", "planned", "planning", "cancelled", "withdrawn", "x"])
)
HINTS = st.builds(
    KindHints,
    st.frozensets(st.sampled_from(["marketEngagementNotice", "plannedProcurementNotice", "x"])),
    st.booleans(),
    st.booleans(),
)


@given(st.lists(TAGS, max_size=3), CODES, STATUSES, HINTS)
def test_kind_always_sits_in_the_stage_pick_stage_gives(
    tags: list[str], code: str | None, status: str | None, hints: KindHints
) -> None:
    """The kind refines the stage and never contradicts it (stage is a watched field)."""
    kind = pick_kind(tags=tags, notice_type=code, tender_status=status, hints=hints)
    assert KINDS[kind].stage == pick_stage(tags=tags, notice_type=code, tender_status=status)


def test_kind_from_tags_first_recognised_tag() -> None:
    assert kind_from_tags(["compiled", "contractAmendment"]) == "change"
    assert kind_from_tags(["award", "tenderCancellation"]) == "cancelled"
    assert kind_from_tags(["nothing"]) is None


@pytest.mark.parametrize(
    ("notice_type", "stage", "kind"),
    [
        ("UK4", "tender", "tender"),
        ("UK4", "cancelled", "cancelled"),
        ("UK14", "tender", "dm_established"),
        ("UK16", "cancelled", "dm_ceased"),
        ("tenderAmendment", "tender", "tender"),
        ("award", "award", "award"),
        ("planning", "planning", "planned"),
        ("tender", "cancelled", "cancelled"),
        ("contractAmendment", "contract", "change"),
        (None, "unknown", "unknown"),
        (None, "tender", "tender"),
        ("UK6", "bogus", "unknown"),
    ],
)
def test_kind_of_notices_stored_before_kinds(
    notice_type: str | None, stage: str, kind: str
) -> None:
    assert kind_of_stored(notice_type, stage) == kind
