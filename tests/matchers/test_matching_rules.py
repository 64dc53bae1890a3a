"""Each matching rule of issue 3, on real notice text from feeds/samples."""

from __future__ import annotations

from dataclasses import replace

import pytest
from matching_helpers import (
    BROADBAND,
    CLEANING,
    CONCIERGE,
    EOTAS,
    FACILITIES,
    IT_SERVICES,
    LIFT_REPAIRS,
    NHS_AWARD,
    SCHOOL_CATERING,
    SHORT_BREAKS,
    hits,
    notice,
    one,
    profile,
    real,
)

from feeds.notice import Value
from matchers.cpv import covers, describe, significant, suggest_cpv
from matchers.engine import Matcher, match, match_in_thread
from matchers.profile import ProfileError, parse_profile, parse_profiles
from matchers.reference import match_brute

# --- the real notices used below --------------------------------------------------------


def test_sample_titles_are_what_the_tests_quote() -> None:
    assert real(SCHOOL_CATERING).title == "United Kingdom-Bristol: School catering services"
    assert real(LIFT_REPAIRS).title.startswith("1415-066 Lift repairs and maintenance")
    assert real(IT_SERVICES).title == "Provision of IT & Digital Managed Services"
    assert (
        real(BROADBAND).title == "Africa Hub - Nairobi - Provision of Broadband Internet Services"
    )
    assert (
        real(FACILITIES).title
        == "United Kingdom-London: Building and facilities management services"
    )


# --- words --------------------------------------------------------------------------------


def test_title_weighs_more_than_description() -> None:
    n = real(SCHOOL_CATERING)
    in_title = one(n, profile(["school catering"]))
    in_description = one(n, profile(["framework agreement"]))
    assert in_title is not None and in_description is not None
    assert in_title.reasons[0] == "matched “school catering” in the title"
    assert in_description.reasons[0] == "matched “framework agreement” in the description"
    assert in_title.score > in_description.score


@pytest.mark.parametrize("keyword", ["SCHOOL CATERING", "School-Catering", "schöol catering"])
def test_case_accents_and_punctuation_do_not_matter(keyword: str) -> None:
    assert hits(real(SCHOOL_CATERING), profile([keyword]))


@pytest.mark.parametrize(
    ("keyword", "ref"),
    [
        ("lift repair", LIFT_REPAIRS),  # "Lift repairs"
        ("caterer", SCHOOL_CATERING),  # "catering"
        ("cleans", CLEANING),  # "Building-cleaning services"
        ("managing facilities", FACILITIES),  # "facilities management"
    ],
)
def test_inflections_match(keyword: str, ref: tuple[str, str]) -> None:
    assert hits(real(ref), profile([keyword]))


def test_roof_repair_finds_roofing_repairs() -> None:
    assert hits(notice("Roofing repairs to council depots"), profile(["roof repair"]))


@pytest.mark.parametrize(
    ("keyword", "other_thing"),
    [
        ("training", "Train operating services for the branch line"),
        ("housing support", "In house support for the finance system"),
        ("banking", "Food bank referrals"),
        ("planning", "Business plan writing"),
        ("gardening", "Garden waste haulage and composting"),
        ("accounting", "Taking into account the tenant's views"),
        ("printing", "Specialist paper for our print rooms"),
        ("information service", "A trauma informed service for children"),
    ],
)
def test_an_ing_trade_is_not_its_base_word(keyword: str, other_thing: str) -> None:
    assert not hits(notice(other_thing), profile([keyword]))
    assert hits(notice(keyword.capitalize() + " services"), profile([keyword]))


def test_printing_still_finds_the_print_trade_by_its_names() -> None:
    for title in ("Print and design contract", "Print management services", "Print and mail"):
        assert hits(notice(title), profile(["printing"])), title


# ("maintenace" alone no longer alerts lift maintenance: the object check wants the lift named)
@pytest.mark.parametrize("keyword", ["catring", "schol catering", "lift maintenace"])
def test_typos_in_longer_words_are_tolerated(keyword: str) -> None:
    n = real(SCHOOL_CATERING) if "cat" in keyword else real(LIFT_REPAIRS)
    assert hits(n, profile([keyword]))


def test_typo_in_the_notice_is_reported_with_its_spelling() -> None:
    m = one(notice("Interpretting and translaton services"), profile(["translation"]))
    assert m is not None
    assert m.reasons[0] == "matched “translation” in the title (spelt “translaton”)"


def test_a_rare_real_word_in_a_keyword_is_not_corrected() -> None:
    assert not hits(notice("Grading of staff roles"), profile(["grazing"]))
    assert hits(notice("Linking Levisham Grazing Assessment"), profile(["grazing"]))


def test_no_fuzz_for_short_words() -> None:
    # "lift" (4 letters) must not find "lint" or "gift"; "roof" must not find "room"
    assert not hits(notice("Gift vouchers"), profile(["lift"]))
    assert not hits(notice("Meeting room hire"), profile(["roof"]))


def test_a_real_word_is_never_a_typo_of_another() -> None:
    assert not hits(notice("Painting and decorating"), profile(["printing"]))
    assert not hits(notice("Support for refugees"), profile(["refuge"]))


def test_acronyms_are_whole_words_and_case_sensitive() -> None:
    it = real(IT_SERVICES)
    assert hits(it, profile(["IT"]))
    # "IT" is not inside "facilities", nor the word "it" / "It"
    assert not hits(real(FACILITIES), profile(["IT"]))
    assert not hits(notice("It is a framework for cleaning"), profile(["IT"]))
    assert hits(notice("Recruitment of IDVAs for the county"), profile(["IDVA"]))


def test_acronym_in_an_award_title_with_stage_filter() -> None:
    award = real(NHS_AWARD)
    assert not hits(award, profile(["NHS"]))  # awards are not alerted by default
    assert hits(award, profile(["NHS"], stages=["award"]))


def test_nothing_matches_inside_another_word() -> None:
    assert not hits(real(BROADBAND), profile(["road"]))
    assert not hits(real(BROADBAND), profile(["band"]))
    assert hits(real(BROADBAND), profile(["broadband"]))


def test_phrase_words_close_together_in_any_order() -> None:
    # "Lift repairs and maintenance": "maintenance" and "lift" three words apart
    assert hits(real(LIFT_REPAIRS), profile(["maintenance of lifts"]))
    # too far apart: no match
    far = notice("Lift shaft survey, painting of stairwells, corridors and cupboards, maintenance")
    assert not hits(far, profile(["lift maintenance"]))


def test_phrase_words_must_be_in_the_same_sentence() -> None:
    assert not hits(notice("Road works. Safety barriers"), profile(["road safety"]))


def test_quoted_phrase_matches_exactly() -> None:
    n = real(SCHOOL_CATERING)
    assert hits(n, profile(['"school catering"']))
    assert not hits(n, profile(['"catering school"']))
    assert not hits(n, profile(['"school caterers"']))  # no inflection inside quotes


def test_run_together_words() -> None:
    assert hits(notice("Holiday playscheme 2025"), profile(["play scheme"]))
    assert hits(notice("Child care places"), profile(["childcare"]))


def test_lexicon_synonyms_with_reason() -> None:
    m = one(notice("Grounds maintenance of parks and cemeteries"), profile(["grass cutting"]))
    assert m is not None
    assert m.reasons[0] == "matched “grass cutting” in the title (as “grounds maintenance”)"
    assert m.matched_keywords == ("grass cutting",)
    assert hits(notice("Domiciliary care framework"), profile(["home care"]))


def test_lexicon_covers_the_trades_social_enterprises_name() -> None:
    # care, alternative education, community transport, catering: real notices first
    breaks = one(real(SHORT_BREAKS), profile(["respite"]))
    assert (
        breaks is not None
        and breaks.reasons[0] == "matched “respite” in the title (as “short breaks”)"
    )
    eotas = one(real(EOTAS), profile(["alternative provision"]))
    assert eotas is not None
    assert eotas.reasons[0] == (
        "matched “alternative provision” in the title (as “education other than at school”)"
    )
    assert hits(notice("Home to school transport framework"), profile(["school transport"]))
    assert hits(notice("Dial-a-ride service for the district"), profile(["community transport"]))
    assert hits(notice("Community meals service"), profile(["meals on wheels"]))
    assert hits(notice("Handyman service for older residents"), profile(["handyperson"]))
    assert hits(notice("Disabled facilities grant adaptations"), profile(["home adaptations"]))
    # groups stay one service each: a neighbouring trade is not a synonym
    assert not hits(notice("Home to school transport framework"), profile(["minibus"]))
    assert not hits(notice("Community meals service"), profile(["event catering"]))


def test_word_in_another_sense_is_not_a_hit() -> None:
    assert not hits(notice("Debt recovery services"), profile(["recovery"]))
    assert hits(notice("Debt recovery services"), profile(["debt recovery"]))
    assert hits(notice("Recovery support for drug users"), profile(["recovery"]))
    assert not hits(notice("Disaster recovery for IT servers"), profile(["recovery"]))
    assert not hits(notice("Seek advice before bidding"), profile(["advice"]))
    assert not hits(notice("State aid advice"), profile(["advice"]))
    assert hits(notice("Advice services for residents"), profile(["advice"]))
    assert not hits(notice("Documents are on our website"), profile(["website"]))
    assert hits(notice("Redesign of the website"), profile(["website"]))


def test_description_counts_in_its_opening_words_only() -> None:
    filler = " ".join(["The council will run the procurement openly."] * 8)
    late = notice("Provision of services", f"{filler} We need a new website design.")
    early = notice("Provision of services", "A new website design for the museum. " + filler)
    assert not hits(late, profile(["website design"]))
    assert hits(early, profile(["website design"]))


def test_one_word_in_the_description_needs_the_main_cpv_to_agree() -> None:
    text = "The provider will advise on printing the annual report and its layout."
    assert not hits(notice("Annual report", text), profile(["printing"]))
    # the main CPV code is in a division that "printing" names (79 Printing services)
    assert hits(notice("Annual report", text, cpv=("79810000",)), profile(["printing"]))
    assert not hits(notice("Annual report", text, cpv=("72000000",)), profile(["printing"]))
    # phrases are specific enough on their own
    assert hits(notice("Annual report", text), profile(["annual report"]))


# --- what the CPV labels say about a keyword ---------------------------------------------------


def test_keyword_finds_the_cpv_code_that_names_it() -> None:
    guards = notice("Static and mobile cover for council sites", cpv=("79710000",))
    m = one(guards, profile(["security guarding"]))
    assert m is not None
    assert m.reasons[0] == "CPV 79710000 Security services (from “security guarding”)"
    assert m.matched_keywords == ("security guarding",)
    # and everything beneath it
    assert hits(notice("Patrols", cpv=("79715000",)), profile(["security guarding"]))
    assert hits(notice("Newsletter", cpv=("79822500",)), profile(["graphic design"]))
    # a label that only shares a word says something else
    assert not hits(notice("Household help", cpv=("98514000",)), profile(["domestic abuse"]))
    # division-level codes are too broad to match on their own
    assert not hits(notice("Courses", cpv=("80000000",)), profile(["education and training"]))


def test_inference_ignores_generic_label_words() -> None:
    from matchers.inference import infer

    assert {c.code for c in infer("printing").codes} >= {"79810000", "79800000"}
    assert {c.code for c in infer("signage").codes} >= {"34928470", "44423400"}
    assert "37400000" not in {c.code for c in infer("sport").codes}  # goods for sport
    assert not infer("advice").codes


def test_service_words_in_works_and_supplies_notices_do_not_count() -> None:
    built = notice("New leisure centre and sports hall", cpv=("45212100",))
    assert not hits(built, profile(["leisure"]))
    assert not hits(built, profile(["sport"]))
    run = notice("Leisure centre management", cpv=("92610000",))
    assert hits(run, profile(["leisure"]))
    # a goods keyword whose labels name the division still counts
    chairs = notice("Furniture for the new library", cpv=("39100000", "45000000"))
    assert hits(chairs, profile(["furniture"]))
    # the main (first) code decides: a works contract with some goods in it
    fitout = notice("Library refurbishment and furniture", cpv=("45000000", "39100000"))
    assert not hits(fitout, profile(["furniture"]))
    # no code: nothing to check
    assert hits(notice("Leisure services review"), profile(["leisure"]))


def test_a_title_naming_the_service_outranks_a_goods_code() -> None:
    # filed under 35120000 (security systems, supplies) but the title buys a service
    n = real(CONCIERGE)
    assert n.title is not None and n.title.endswith(
        "Security and Concierge Services at Totland Close Farnborough"
    )
    assert n.cpv[:1] == ("35120000",)
    m = one(n, profile(["concierge"]))
    assert m is not None and m.reasons[0] == "matched “concierge” in the title"
    # the same word without "services" after it, or only in the description, stays out
    assert not hits(replace(n, title="Concierge desk and CCTV equipment"), profile(["concierge"]))
    goods = notice("CCTV cameras", "Cameras for the concierge services desk.", cpv=("35120000",))
    assert not hits(goods, profile(["concierge"]))
    # and a service word that is not followed by "services" still needs a compatible code
    assert not hits(
        notice("Leisure centre build services", cpv=("45212100",)), profile(["leisure"])
    )


def test_a_title_that_is_the_keywords_own_label_counts_whatever_the_main_code() -> None:
    # TED title = label of 44423400, which "signage" names; the main code is works (installation)
    signs = notice(
        "United Kingdom-Wakefield: Signs and related items", cpv=("45316211", "34992000")
    )
    m = one(signs, profile(["signage"]))
    assert m is not None and m.reasons[0] == "matched “signage” in the title (as “signs”)"
    # a works label that is not the keyword's own still falls to the contract-type check
    road = notice("United Kingdom-Leeds: Installation of road signs", cpv=("45233290",))
    assert not hits(road, profile(["signage"]))


def test_a_title_that_is_a_cpv_label_is_a_category() -> None:
    title = "Recreational, cultural and sporting services"
    assert not hits(notice(title, cpv=("92000000",)), profile(["sport"]))
    assert hits(notice("Sporting services", cpv=("92600000",)), profile(["sport"]))
    # a keyword covering the whole label still matches it
    assert hits(notice(title), profile(["recreational cultural and sporting"]))
    # TED-style titles put the place first: "United Kingdom-Town: <label>"
    ted = notice(f"United Kingdom-Plymouth: {title}", cpv=("92000000",))
    assert not hits(ted, profile(["sport"]))
    assert hits(ted, profile(["recreational cultural and sporting"]))
    # the real one: the keyword covers the whole label, so it still counts
    assert hits(real(SCHOOL_CATERING), profile(["school catering"]))
    # a title that is not a label keeps its words, prefix or not
    assert hits(notice("United Kingdom-Leeds: Sports coaching for schools"), profile(["sport"]))


def test_generic_modifier_head_noun_in_the_title() -> None:
    staff = notice("Safeguarding Training", "Courses for our staff across the county.")
    m = one(staff, profile(["staff training"]))
    assert m is not None and m.reasons[0] == "matched “staff training” in the title (as “training”)"
    pupils = notice("Safeguarding Training", "Sessions for pupils in primary schools.")
    assert not hits(pupils, profile(["staff training"]))


def test_generic_head_is_interchangeable() -> None:
    assert hits(notice("Carers Breaks Service"), profile(["carers support"]))
    assert hits(notice("Summer play provision"), profile(["play scheme"]))
    # a phrase with a generic word needs its words (nearly) together
    loose = notice("Library", "Information about the library and its lending service.")
    assert not hits(loose, profile(["information service"]))
    assert hits(notice("Library", "A local information service."), profile(["information service"]))
    # one word may come between, if it is a little word
    assert hits(notice("Services of information for tenants"), profile(["information service"]))
    assert not hits(notice("IT and digital managed services"), profile(["digital services"]))
    assert hits(notice("Digital services for the library"), profile(["digital services"]))
    # "delivery" and "provision" are as generic as "services" ("digital delivery" is a synonym)
    apprenticeship = notice("Apprentice levy", "Delivery of the L6 Digital and Technology degree.")
    assert not hits(apprenticeship, profile(["digital services"]))
    assert hits(notice("Digital delivery partner"), profile(["digital services"]))


def test_swapped_heads_are_our_wording_so_they_stay_tight_and_in_the_title() -> None:
    # little words may come between, other words may not
    carers = notice("Learning and Development Services for Carers", cpv=("85000000",))
    m = one(carers, profile(["carers support"]))
    assert (
        m is not None
        and m.reasons[0] == "matched “carers support” in the title (as “carers service”)"
    )
    assert not hits(notice("Employment Law Services"), profile(["employment support"]))
    # and only in the title: the description is where such wordings occur by chance
    title = notice("Alternative support for excluded pupils")
    assert hits(title, profile(["alternative provision"]))
    described = notice("Crisis beds", "An alternative support offer for adults in crisis.")
    assert not hits(described, profile(["alternative provision"]))


def test_a_synonym_of_only_generic_words_is_searched_as_written() -> None:
    # "into work" (employment support) must not become "work"
    assert not hits(notice("Minor Works Projects"), profile(["employment support"]))
    assert not hits(notice("Planned maintenance works"), profile(["employment support"]))
    m = one(notice("Help into work for young people"), profile(["employment support"]))
    assert (
        m is not None
        and m.reasons[0] == "matched “employment support” in the title (as “into work”)"
    )


def test_acronym_spelt_out_as_something_else() -> None:
    other = notice("CMS replacement", "Central Management System (CMS) for street lighting.")
    assert not hits(other, profile(["CMS"]))
    ours = notice("CMS replacement", "A new content management system (CMS) for the website.")
    assert hits(ours, profile(["CMS"]))
    assert hits(notice("CMS replacement"), profile(["CMS"]))


# --- exclusions -----------------------------------------------------------------------------


def test_exclusion_vetoes() -> None:
    n = real(LIFT_REPAIRS)
    assert hits(n, profile(["lift repairs"]))
    assert not hits(n, profile(["lift repairs"], exclude=["housing"]))
    # anywhere in the description, too
    assert not hits(real(SCHOOL_CATERING), profile(["school catering"], exclude=["call-off"]))


def test_exclusion_phrase() -> None:
    eq = notice("Catering equipment, supply only")
    assert hits(eq, profile(["catering"]))
    assert not hits(eq, profile(["catering"], exclude=["supply only"]))


# --- CPV ------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["555", "55500000", "5552", "55524000", "55"])
def test_cpv_covers_everything_beneath(code: str) -> None:
    m = one(real(SCHOOL_CATERING), profile([], cpv=[code]))
    assert m is not None
    assert m.reasons == ("CPV 55524000 School catering services",)


@pytest.mark.parametrize("code", ["556", "55523000", "90911200"])
def test_cpv_elsewhere_does_not_match(code: str) -> None:
    assert not hits(real(SCHOOL_CATERING), profile([], cpv=[code]))


def test_cpv_helpers() -> None:
    assert significant("55500000") == "555"
    assert significant("55524000-1") == "55524"
    assert covers("555", "55524000") and not covers("556", "55524000")
    assert describe("90911200") == "CPV 90911200 Building-cleaning services"
    codes = [s.code for s in suggest_cpv("school catering")]
    assert "55524000" in codes
    assert any(s.code.startswith("555") for s in suggest_cpv("caterer"))


@pytest.mark.parametrize(
    ("word", "first"),
    [
        ("childcare", "85312110"),  # Child daycare services, not nursery plants
        ("cleaning", "90910000"),  # Cleaning services, not cleaning products
        ("printing", "79810000"),  # Printing services, not printed books
        ("catering", "55520000"),  # Catering services, not catering equipment
        ("furniture", "39100000"),  # a goods word keeps its goods code
    ],
)
def test_cpv_suggestions_put_what_the_word_says_first(word: str, first: str) -> None:
    assert suggest_cpv(word)[0].code == first


def test_cpv_suggestions_leave_out_other_senses() -> None:
    labels = [s.label for s in suggest_cpv("recovery")]
    assert not any("Disaster" in x or "Breakdown" in x or "Backup" in x for x in labels)
    assert all("nurser" not in s.label.lower() for s in suggest_cpv("childcare"))
    # and so does matching: plant nurseries are not childcare
    assert not hits(notice("Tree nursery stock for the parks"), profile(["childcare"]))
    assert hits(notice("Nursery places for two-year-olds"), profile(["childcare"]))


def test_reasons_fit_to_print() -> None:
    p = profile(["school catering"], cpv=["555"], regions=["South West"])
    m = one(real(SCHOOL_CATERING), p)
    assert m is not None
    assert "; ".join(m.reasons) == (
        "matched “school catering” in the title; CPV 55524000 School catering services; "
        "South West (UKK)"
    )
    assert 0 < m.score <= 100


# --- filters ----------------------------------------------------------------------------------


def test_region_names_and_codes() -> None:
    n = real(SCHOOL_CATERING)  # Bristol, UKK
    assert hits(n, profile(["school catering"], regions=["UKK"]))
    assert hits(n, profile(["school catering"], regions=["south west"]))
    assert hits(n, profile(["school catering"], regions=["UKK1"]))  # region-wide notice
    assert not hits(n, profile(["school catering"], regions=["East Midlands"]))
    east = real(SCHOOL_CATERING, regions=("UKF14",))
    m = one(east, profile(["school catering"], regions=["East Midlands"]))
    assert m is not None and m.reasons[-1] == "East Midlands (UKF14)"
    assert hits(east, profile(["school catering"], regions=["TLF"]))  # ITL code


def test_uk_wide_notices_pass_unless_local_only() -> None:
    n = real(IT_SERVICES)  # regions ("UK",)
    assert n.regions == ("UK",)
    assert hits(n, profile(["IT"], regions=["East Midlands"]))
    assert not hits(n, profile(["IT"], regions=["East Midlands"], local_only=True))
    england = real(IT_SERVICES, regions=("ENG",))
    assert hits(england, profile(["IT"], regions=["UKF"]))
    assert not hits(england, profile(["IT"], regions=["Wales"]))


def test_notice_without_region_passes_unless_local_only() -> None:
    n = real(LIFT_REPAIRS)
    assert n.regions == ()
    assert hits(n, profile(["lift repairs"], regions=["London"]))
    assert not hits(n, profile(["lift repairs"], regions=["London"], local_only=True))


def test_value_range() -> None:
    n = real(IT_SERVICES)  # 2.5m - 4m
    assert hits(n, profile(["IT"], min_value=1_000_000, max_value=3_000_000))
    assert not hits(n, profile(["IT"], max_value=2_000_000))
    assert not hits(n, profile(["IT"], min_value=5_000_000))


def test_no_value_passes_unless_required() -> None:
    n = real(IT_SERVICES, value=None)
    assert hits(n, profile(["IT"], min_value=10_000, max_value=50_000))
    assert not hits(n, profile(["IT"], min_value=10_000, require_value=True))
    zero = real(IT_SERVICES, value=Value(amount=0, min=None))
    assert hits(zero, profile(["IT"], max_value=50_000))


def test_suitability() -> None:
    n = real(IT_SERVICES)  # suitable_sme True, suitable_vcse False
    assert hits(n, profile(["IT"], sme_only=True))
    assert not hits(n, profile(["IT"], vcse_only=True))
    unknown = real(IT_SERVICES, suitable_sme=None)
    assert not hits(unknown, profile(["IT"], sme_only=True))


def test_stages_default_planning_and_tender() -> None:
    n = real(SCHOOL_CATERING)
    p = profile(["school catering"])
    assert p.stages == ("planning", "tender")
    assert hits(real(SCHOOL_CATERING, stage="planning"), p)
    assert not hits(real(SCHOOL_CATERING, stage="award"), p)
    assert hits(n, profile(["school catering"], stages=["tender"]))
    assert not hits(n, profile(["school catering"], stages=["planning"]))


# --- profiles -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"id": "x", "keywords": ["a"], "cpv": ["abc"]}, "cpv"),
        ({"id": "x", "keywords": "catering", "regions": ["Atlantis"]}, "regions"),
        ({"id": "x", "keywords": [3]}, "keywords"),
        ({"id": "x"}, "keywords"),
        ({"id": "x", "keywords": []}, "keywords"),
        ({"id": "x", "keywords": ["a"], "min_value": "lots"}, "min_value"),
        ({"id": "x", "keywords": ["a"], "min_value": 10, "max_value": 5}, "max_value"),
        ({"id": "x", "keywords": ["a"], "stages": ["open"]}, "stages"),
        ({"id": "x", "keywords": ["a"], "vcse_only": "yes"}, "vcse_only"),
        ({"id": "x", "keywords": ["..."]}, "keywords"),
    ],
)
def test_bad_profiles_name_profile_and_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(ProfileError) as info:
        parse_profile(data)
    assert info.value.field == field
    assert str(info.value).startswith(f"profile 'x': field '{field}': ")


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(ProfileError, match="profile 'a': field 'id'"):
        parse_profiles([{"id": "a", "keywords": ["x"]}, {"id": "a", "keywords": ["y"]}])


def test_profile_round_trip() -> None:
    p = profile(["school meals"], cpv=["55524000-1"], regions=["England"], min_value="1,000")
    assert p.cpv == ("55524000",)
    assert "UKF" in p.regions and len(p.regions) == 9
    assert p.min_value == 1000
    assert type(p).from_dict(p.to_dict()) == p


# --- API --------------------------------------------------------------------------------------


def test_matcher_is_reusable_and_ordered() -> None:
    profiles = [profile(["school catering"], id="a"), profile(["cleaning"], id="b")]
    matcher = Matcher(profiles)
    notices = [real(CLEANING), real(SCHOOL_CATERING)]
    first = matcher.match(notices)
    assert [(m.notice_ocid, m.profile_id) for m in first] == [
        (CLEANING[1], "b"),
        (SCHOOL_CATERING[1], "a"),
    ]
    assert matcher.match(notices) == first == match(notices, profiles)


async def test_match_in_thread() -> None:
    p = [profile(["school catering"])]
    got = await match_in_thread([real(SCHOOL_CATERING)], p)
    assert [m.profile_id for m in got] == ["p"]
    assert await match_in_thread([real(SCHOOL_CATERING)], Matcher(p)) == got


# --- the profile read as one trade; ambiguous single words ---------------------------------


def test_an_ambiguous_word_alone_needs_the_main_cpv_to_agree() -> None:
    # "printing" has other senses (matchers.senses): its own labels name divisions 22 and 79
    assert hits(notice("Printing of annual reports", cpv=("79810000",)), profile(["printing"]))
    assert not hits(notice("Printing of annual reports", cpv=("85000000",)), profile(["printing"]))
    # a notice without codes is not checked, as for the contract type
    assert hits(notice("Printing of annual reports"), profile(["printing"]))
    # a word that is not ambiguous needs no second signal
    assert hits(notice("Dementia cafe", cpv=("98000000",)), profile(["dementia"]))


def test_an_ambiguous_word_counts_with_a_second_keyword_of_the_profile() -> None:
    title = "Recovery service for adults"
    assert not hits(notice(title, cpv=("85000000",)), profile(["recovery"]))
    both = notice(title, "Community drug and alcohol treatment.", cpv=("85000000",))
    m = one(both, profile(["recovery", "drug and alcohol"]))
    assert m is not None and m.matched_keywords == ("recovery", "drug and alcohol")
    # or with one of the profile's own CPV codes
    assert hits(notice(title, cpv=("85000000",)), profile(["recovery"], cpv=["85"]))


def test_a_phrase_or_synonym_phrase_is_not_ambiguous() -> None:
    assert hits(notice("Debt advice service", cpv=("75000000",)), profile(["debt advice"]))
    assert hits(notice("Advice services for tenants", cpv=("98000000",)), profile(["advice"]))


def test_profile_trade_is_the_union_of_its_keywords() -> None:
    from matchers.rules import compile_profile

    cp = compile_profile(profile(["staff training", "first aid training", "dementia"]))
    assert cp.trade.classes == {"7963", "8051", "8056"}
    assert cp.trade.divisions == {"79", "80"}
    assert cp.trade.kinds == {"services"}
    assert compile_profile(profile(["recovery"])).trade.known is False


def test_trade_head_noun_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    import matchers.rules as rules

    n = notice("Workshops for people living alone", cpv=("85311000",))
    p = profile(["older people", "befriending"])
    assert not hits(n, p)
    monkeypatch.setattr(rules, "TRADE_HEADS", True)
    m = one(n, p)
    assert m is not None and m.matched_keywords == ("older people",)
    assert m.reasons[0] == "matched “older people” in the title (as “people”, CPV 85311000)"
    # outside the trade's classes the head noun is nothing
    assert not hits(notice("Workshops for people living alone", cpv=("80000000",)), p)
    assert Matcher([p]).match([n]) == match_brute([n], [p])


def test_trade_reject_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    import matchers.rules as rules

    n = notice("Printing of event programmes", cpv=("92000000",))
    p = profile(["printing", "leaflets"], cpv=["92"])  # its own code puts 92 in its trade
    q = profile(["printing", "leaflets"])
    monkeypatch.setattr(rules, "TWO_SIGNALS", "off")
    assert hits(n, q)
    monkeypatch.setattr(rules, "TRADE_REJECT", "far")  # 92 is a service, the trade has some
    assert hits(n, q)
    monkeypatch.setattr(rules, "TRADE_REJECT", "division")
    assert not hits(n, q)
    m = one(n, p)
    assert m is not None and m.matched_keywords == ("printing",)
