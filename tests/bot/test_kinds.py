"""Which kinds reach a subscriber (bot/kinds.py): defaults, switching off, follow-ups."""

from __future__ import annotations

import pytest

from bot.kinds import (
    BY_KEY,
    KIND_GROUPS,
    advanced,
    clean_kinds_off,
    delivery_for,
    digest_period,
    kinds_summary,
    toggle_group,
)
from feeds.kinds import KINDS


@pytest.mark.parametrize(
    ("kind", "delivery"),
    [
        ("tender", "instant"),
        ("engagement", "instant"),
        ("dm_intention", "instant"),
        ("dm_established", "instant"),
        ("pipeline", "digest"),
        ("planned", "digest"),
        ("dm_modified", "digest"),
        ("cancelled", "follow_up"),
        ("dm_ceased", "follow_up"),
        ("award", "never"),
        ("direct_award", "never"),
        ("payments", "never"),
        ("no such kind", "digest"),  # read as unknown
    ],
)
def test_defaults_follow_feeds_kinds(kind: str, delivery: str) -> None:
    assert delivery_for(kind) == delivery


def test_switching_off_only_narrows() -> None:
    off = toggle_group([], "early")
    assert off == ["pipeline", "planned"]
    assert delivery_for("pipeline", off) == "never" and delivery_for("tender", off) == "instant"
    # awards can't be switched on, and follow-ups can't be switched off
    assert delivery_for("award", ["award"]) == "never"
    assert delivery_for("cancelled", ["cancelled"]) == "follow_up"
    assert toggle_group(off, "early") == []
    with pytest.raises(KeyError):
        toggle_group([], "awards")


def test_stored_junk_is_ignored() -> None:
    assert clean_kinds_off(["pipeline", "pipeline", "award", 7, None, "tender"]) == [
        "pipeline",
        "tender",
    ]


def test_every_deliverable_kind_has_a_group_and_groups_share_a_delivery() -> None:
    grouped = {k for g in KIND_GROUPS for k in g.kinds}
    deliverable = {k for k, v in KINDS.items() if v.delivery in ("instant", "digest")}
    assert deliverable - grouped == {"unknown"}
    for group in KIND_GROUPS:
        assert len({KINDS[k].delivery for k in group.kinds}) == 1, group
    assert set(BY_KEY) == {"tender", "engage", "dm", "early", "dmchg"}


def test_summary_and_digest_period() -> None:
    assert kinds_summary([]).startswith("every kind")
    assert kinds_summary(["pipeline", "planned"]).startswith("Tenders, Market engagement")
    everything = [k for g in KIND_GROUPS for k in g.kinds]
    assert kinds_summary(everything).startswith("none")
    assert digest_period("weekly", ["tender"]) == "weekly"
    assert digest_period("instant", ["pipeline", "planned"]) == "daily"
    assert digest_period("instant", ["pipeline", "tender"]) is None
    assert digest_period("instant", []) is None


def test_advanced_is_a_change_into_an_opportunity() -> None:
    assert advanced({"kind": ["planned", "tender"]})
    assert advanced({"kind": ["pipeline", "engagement"]})
    assert not advanced({"kind": ["tender", "award"]})
    assert not advanced({"kind": ["tender", "cancelled"]})
    assert not advanced({"deadline": ["a", "b"]})
