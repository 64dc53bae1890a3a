"""The two tiers: ``alert`` (sure: sent at once) and ``maybe`` (worth a look: digests only),
each with its source named in the reasons."""

from __future__ import annotations

import pytest
from matching_helpers import notice, profile

from feeds.notice import Notice
from matchers.engine import Match, Matcher
from matchers.profile import Profile, ProfileError, parse_profile

LAUNDRY = (
    "Commercial laundry social enterprise that collects, washes and irons bed linen, towels "
    "and staff uniforms for care homes and hotels."
)
EVENTS = (
    "We plan and run community festivals, civic celebrations and outdoor public events, with "
    "stewarding and event management."
)
ADVICE = (
    "Independent advice charity: welfare benefits advice, debt advice and housing advice for "
    "residents."
)
HANDYPERSON = "Handyperson service doing small repairs and adaptations in older people's homes."


def tiers_of(notices: list[Notice], profiles: list[Profile]) -> dict[tuple[str, str], Match]:
    return {(m.profile_id, m.notice_ocid): m for m in Matcher(profiles).match_tiers(notices)}


def test_a_related_cpv_wording_is_a_maybe_with_its_code() -> None:
    festival = notice(
        "Festival organisation services for the summer programme",
        "Organisation of the town's summer festival and civic celebrations.",
        cpv=["79953000"],
    )
    got = tiers_of([festival], [profile(["events"], id="events", description=EVENTS)])
    m = got[("events", festival.ocid)]
    assert m.tier == "maybe"
    assert "related: “festival organisation” (CPV 79953000)" in m.reasons
    assert m.matched_keywords == ("events",)
    # the same notice is never an instant alert
    assert Matcher([profile(["events"], id="events", description=EVENTS)]).match([festival]) == []


def test_a_cpv_class_link_needs_the_description() -> None:
    washing = notice("Washing and dry-cleaning services", "Framework.", cpv=["98310000"])
    described = profile(["laundry"], id="laundry", description=LAUNDRY)
    bare = profile(["laundry"], id="bare")
    got = tiers_of([washing], [described, bare])
    m = got[("laundry", washing.ocid)]
    assert m.tier == "maybe"
    assert any(r.startswith("filed under CPV 98310000") for r in m.reasons)
    assert ("bare", washing.ocid) not in got  # no description: a class link alone is too weak


def test_the_description_is_never_a_keyword() -> None:
    # every word of this notice is in the description, none is a keyword
    n = notice(
        "Collection and ironing of bed linen and towels for care homes",
        "Collects, washes and irons bed linen and towels for care homes and hotels.",
        cpv=["85000000"],
    )
    p = profile(["solar panels"], id="p", description=LAUNDRY)
    assert tiers_of([n], [p]) == {}


def test_a_keyword_the_one_word_rule_distrusts_is_a_maybe() -> None:
    hub = notice(
        "Community hub services",
        "The hub will offer drop-in sessions. Partners will provide welfare benefits advice, "
        "debt advice and housing advice to residents on site.",
        cpv=["85000000"],
    )
    m = tiers_of([hub], [profile(["advice"], id="advice", description=ADVICE)])[
        ("advice", hub.ocid)
    ]
    assert m.tier == "maybe"
    assert m.reasons[0] == "“advice” in the description, but one word is not enough on its own"


def test_a_keyword_in_a_cpv_category_title_is_a_maybe() -> None:
    category = notice(
        "United Kingdom-Leeds: Recreational, cultural and sporting services",
        "Framework for the council's cultural programme.",
        cpv=["92000000"],
    )
    m = tiers_of([category], [profile(["sport"], id="sport")])[("sport", category.ocid)]
    assert m.tier == "maybe"
    assert m.reasons[0] == "“sport” in the title, but the title is only a CPV category"


def test_a_keyword_only_far_down_the_description_needs_a_like_description() -> None:
    boilerplate = notice(
        "Supply of office paper",
        "The council invites tenders for the supply of office paper. "
        + "Lots are described in the documents. " * 8
        + "Bidders should seek independent advice before tendering.",
        cpv=["30197600"],
    )
    got = tiers_of([boilerplate], [profile(["welfare benefits advice"], id="a")])
    assert got == {}


def test_a_trade_word_on_a_thing_the_profile_never_names_is_not_an_alert() -> None:
    ships = notice(
        "Repairs to ships and marine vessels",
        "Repair and maintenance of the harbour authority's ships and boats.",
        cpv=["50240000"],
    )
    p = profile(["repairs"], id="h", description=HANDYPERSON)
    assert Matcher([p]).match([ships]) == []
    m = tiers_of([ships], [p])[("h", ships.ocid)]
    assert m.tier == "maybe"
    assert m.reasons[0] == "“repairs” in the title, but for “ships”"


@pytest.mark.parametrize(
    ("keywords", "title", "cpv"),
    [
        (["repairs"], "Lift repairs and servicing", "50750000"),
        (["repairs"], "Fleet vehicle repairs", "50110000"),
        (["cleaning"], "Cleaning products framework", "39830000"),
        (["bike repair"], "Repair of buses and coaches", "50113000"),
        (["maintenance"], "Boiler maintenance contract", "50531100"),
    ],
)
def test_object_check_keeps_things_out_of_alerts(keywords: list[str], title: str, cpv: str) -> None:
    assert Matcher([profile(keywords)]).match([notice(title, cpv=[cpv])]) == []


@pytest.mark.parametrize(
    ("keywords", "title", "cpv"),
    [
        (["cleaning"], "Office cleaning services", "90910000"),
        (["cleaning"], "School cleaning contract", "90919300"),
        (["bike repair"], "Bike repair workshop for the community", "50000000"),
        (["lift maintenance"], "Lift maintenance contract", "50750000"),
        (["repairs"], "Small repairs service for older people", "85000000"),
        (["repairs"], "Repairs to council homes", None),
    ],
)
def test_object_check_lets_the_trade_itself_through(
    keywords: list[str], title: str, cpv: str | None
) -> None:
    got = Matcher([profile(keywords)]).match([notice(title, cpv=[cpv] if cpv else [])])
    assert [m.tier for m in got] == ["alert"]


def test_a_synonym_broader_than_the_keyword_is_only_a_maybe() -> None:
    broad = notice("Respite provision", "Provision for families in the county.", cpv=["85000000"])
    exact = notice("Short breaks for disabled children", "Short breaks.", ocid="short")
    p = profile(["respite care"], id="r")
    got = tiers_of([broad, exact], [p])
    assert got[("r", "short")].tier == "alert"  # a synonym as specific as the keyword
    m = got[("r", broad.ocid)]
    assert m.tier == "maybe"
    assert m.reasons[0] == "“respite” in the title, a broader word for “respite care”"


@pytest.mark.parametrize(
    ("keyword", "title", "found"),
    [
        ("web development", "Web, print and software development", False),
        ("user research", "User accounts, research data and storage", False),
        ("window cleaning", "Windows, cleaning products and paper", False),
        ("grounds maintenance", "Grounds (maintenance of play areas excluded)", False),
        ("drug and alcohol", "Drug, alcohol and tobacco services", True),
        (
            "recreational cultural and sporting",
            "Recreational, cultural and sporting services",
            True,
        ),
        ("cleaning services", "Cleaning services for the civic centre", True),
        ("school catering", "School catering – lots 1 to 3", True),
    ],
)
def test_phrases_never_join_words_across_clauses(keyword: str, title: str, found: bool) -> None:
    got = Matcher([profile([keyword])]).match([notice(title)])
    assert bool(got) is found


def test_a_word_common_in_notices_needs_a_second_signal() -> None:
    from matchers.rules import common_word
    from matchers.text import stem

    assert common_word(stem("delivery")) and not common_word(stem("befriending"))
    n = notice("Delivery of the housing strategy", "Consultancy for the council.", cpv=["79400000"])
    assert Matcher([profile(["delivery"])]).match([n]) == []
    assert [m.tier for m in Matcher([profile(["delivery"])]).match_tiers([n])] == ["maybe"]
    # a second keyword of the same profile is that signal
    both = Matcher([profile(["delivery", "housing strategy"])]).match([n])
    assert [m.tier for m in both] == ["alert"]


def test_a_strict_profile_needs_a_second_signal_for_every_single_word() -> None:
    n = notice("Befriending service for isolated residents", cpv=["85000000"])
    assert [m.tier for m in Matcher([profile(["befriending"])]).match_tiers([n])] == ["alert"]
    strict = profile(["befriending"], strict=True)
    assert [m.tier for m in Matcher([strict]).match_tiers([n])] == ["maybe"]
    # a phrase is not a single word: still sure
    phrase = profile(["befriending service"], strict=True)
    assert [m.tier for m in Matcher([phrase]).match_tiers([n])] == ["alert"]


def test_maybe_matches_keep_exclusions_and_filters() -> None:
    festival = notice(
        "Festival organisation services",
        "Organisation of the summer festival.",
        cpv=["79953000"],
        regions=("UKI",),
    )
    excluded = profile(["events"], id="x", description=EVENTS, exclude=["summer"])
    elsewhere = profile(["events"], id="y", description=EVENTS, regions=["UKF"], local_only=True)
    assert tiers_of([festival], [excluded, elsewhere]) == {}


@pytest.mark.parametrize(
    "value",
    [
        "We run community festivals 🎉 and civic events in Northampton.",
        "  spaces\nand\tnew lines  ",
        "",
        None,
        "x" * 5000,
        "Stewarding, event management & conferences — since 2009!",
    ],
)
def test_a_profile_description_is_any_text(value: str | None) -> None:
    p = parse_profile({"id": "p", "keywords": ["events"], "description": value})
    assert len(p.description) <= 2000
    assert "\n" not in p.description and "\t" not in p.description
    assert Profile.from_dict(p.to_dict()) == p


@pytest.mark.parametrize("value", [42, ["festivals"], {"text": "x"}, True])
def test_a_description_that_is_not_text_is_refused_with_its_field(value: object) -> None:
    with pytest.raises(ProfileError, match="field 'description': must be text"):
        parse_profile({"id": "p", "keywords": ["events"], "description": value})


def test_strict_must_be_true_or_false() -> None:
    with pytest.raises(ProfileError, match="field 'strict'"):
        parse_profile({"id": "p", "keywords": ["events"], "strict": "yes"})
