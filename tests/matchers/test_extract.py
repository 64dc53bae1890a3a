"""Reading "What does your enterprise do?" answers: each answer, as people type them, must give
keywords that match a notice fitting the enterprise and not a notice that merely shares one
of its words — checked through the matcher exactly as the pipeline runs it
(:func:`matchers.profile.parse_profile` with the default stages, :class:`Matcher`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from feeds.notice import Notice
from matchers.engine import Matcher
from matchers.extract import LONG_WORDS, extract, shorter, word_count
from matchers.profile import parse_profile

NOW = datetime(2026, 9, 1, 9, tzinfo=UTC)


@dataclass(frozen=True)
class Fit:
    title: str
    description: str = ""
    cpv: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    buyer: str = "A council"


@dataclass(frozen=True)
class Case:
    answer: str
    fit: Fit
    shares: Fit  # a notice that only shares a word with the answer
    terms: tuple[str, ...] = ()  # terms that must be among those read
    region: tuple[str, ...] | None = None  # the NUTS codes suggested, when a place is named
    not_terms: tuple[str, ...] = field(default=())


CASES: tuple[Case, ...] = (
    Case(
        "we're a community catering co-op doing school meals and events in Nottingham",
        Fit(
            "Primary school meals service 2027-2030",
            "Nottingham City Council seeks a provider of nutritious meals for its primary schools.",
            ("55524000",),
            ("UKF14",),
            "Nottingham City Council",
        ),
        Fit(
            "Catering equipment supply and maintenance",
            "Ovens and dishwashers.",
            ("39310000",),
            ("UKF14",),
        ),
        terms=("catering", "school meals", "events"),
        region=("UKF14",),
        not_terms=("co-op", "community catering co-op", "events in nottingham"),
    ),
    Case(
        "We are a social enterprise providing cleaning services and facilities management for "
        "offices and schools across Derbyshire",
        Fit(
            "Cleaning services for Derbyshire schools and offices",
            "Daily cleaning of 40 sites.",
            ("90911200",),
            ("UKF13",),
            "Derbyshire County Council",
        ),
        Fit(
            "Supply of cleaning products and janitorial consumables",
            "Bleach, mops, paper.",
            ("39830000",),
            ("UKF13",),
        ),
        terms=("cleaning", "facilities management"),
        region=("UKF12", "UKF13"),
        not_terms=("offices", "schools", "social enterprise"),
    ),
    Case(
        "catering, school meals, events",
        Fit("Hospitality and event catering at County Hall", "", ("55520000",)),
        Fit("Events management software licences", "", ("48000000",)),
        terms=("catering", "school meals", "events"),
    ),
    Case(
        "laundry",
        Fit("Laundry and linen services for care homes", "", ("98310000",)),
        Fit("Laundry equipment replacement", "Washing machines and dryers.", ("42716000",)),
        terms=("laundry",),
    ),
    Case(
        "catring and clening",
        Fit("Office cleaning contract 2026", "Cleaning of the civic centre.", ("90919200",)),
        Fit("Cleaning machines: floor scrubbers", "", ("39713410",)),
        terms=("catering", "cleaning"),
    ),
    Case(
        "🍲 catering 🎉 events 🥳",
        Fit("Event catering for civic functions", "", ("55520000",)),
        Fit("Events venue refurbishment works", "New roof and toilets.", ("45453000",)),
        terms=("catering", "events"),
    ),
    Case(
        "Our mission is to tackle food poverty in Leicester by providing healthy, affordable meals "
        "and cookery classes for local families.",
        Fit(
            "Community cookery classes and healthy meals for families",
            "Holiday activities with food for children on free school meals.",
            ("85320000",),
            ("UKF21",),
            "Leicester City Council",
        ),
        Fit(
            "Kitchen refit at the community cookery school",
            "Building works.",
            ("45421000",),
            ("UKF21",),
        ),
        terms=("food poverty", "cookery classes"),
        region=("UKF21",),
        not_terms=("mission", "healthy", "local families"),
    ),
    Case(
        "We're a CIC based in Mansfield. We run a community cafe, do outside catering and offer "
        "volunteering opportunities.",
        Fit(
            "Café operator for the leisure centre",
            "Run the café at Mansfield leisure centre.",
            ("55330000",),
            ("UKF15",),
        ),
        Fit(
            "Volunteering management app",
            "Software to record volunteering hours.",
            ("48000000",),
            ("UKF15",),
        ),
        terms=("community cafe", "outside catering"),
        region=("UKF15", "UKF16"),
        not_terms=("cic",),
    ),
    Case(
        "gardening, grounds maintenance, tree surgery - Lincolnshire",
        Fit(
            "Grounds maintenance and grass cutting 2026-2029",
            "Parks and verges.",
            ("77314000",),
            ("UKF30",),
            "Lincolnshire County Council",
        ),
        Fit(
            "Tree planting stock supply",
            "Saplings for the county's new woodland.",
            ("03451300",),
            ("UKF30",),
        ),
        terms=("gardening", "grounds maintenance", "tree surgery"),
        region=("UKF30",),
    ),
    Case(
        "We clean offices and schools in Derby",
        Fit(
            "Office cleaning services for Derby City Council buildings",
            "",
            ("90919200",),
            ("UKF11",),
        ),
        Fit("School offices refurbishment", "Partitions and flooring.", ("45000000",), ("UKF11",)),
        terms=("cleaning",),
        region=("UKF11",),
        not_terms=("offices", "schools"),
    ),
    Case(
        "Furniture reuse and house clearances across Northants",
        Fit(
            "House clearance and furniture reuse for tenants moving on",
            "Clearing void properties and passing on furniture.",
            ("98000000",),
            ("UKF24",),
        ),
        Fit("Office furniture supply framework", "Desks and chairs.", ("39130000",), ("UKF24",)),
        terms=("furniture reuse", "house clearances"),
        region=("UKF24", "UKF25"),
    ),
    Case(
        "Support for adults with learning disabilities, supported living and day services",
        Fit("Supported living services for adults with learning disabilities", "", ("85311200",)),
        Fit(
            "Supported employment programme evaluation",
            "Research into job outcomes.",
            ("79300000",),
        ),
        terms=("learning disabilities", "supported living", "day services"),
        not_terms=("support",),
    ),
    Case(
        "IT support and website design for charities and small businesses",
        Fit("Website redesign and hosting", "A new council website.", ("72413000",)),
        Fit("IT equipment: laptops and monitors", "", ("30213000",)),
        terms=("IT support", "website design"),
        not_terms=("charities", "small businesses"),
    ),
    Case(
        "we deliver BSL interpreting and translation",
        Fit(
            "Interpretation and translation services framework",
            "Spoken language and BSL interpreters.",
            ("79540000",),
        ),
        Fit("Document translation software licences", "", ("48000000",)),
        terms=("translation",),
    ),
    Case(
        "Counselling and mental health support for young people in Nottinghamshire",
        Fit(
            "Counselling service for children and young people",
            "Emotional wellbeing support in schools.",
            ("85312320",),
            ("UKF16",),
            "Nottinghamshire County Council",
        ),
        Fit("Counselling room furniture", "Sofas and chairs.", ("39100000",), ("UKF16",)),
        terms=("counselling", "mental health"),
        region=("UKF15", "UKF16"),
        not_terms=("young people",),
    ),
    Case(
        "Bicycle repair and cycle training in Leicester",
        Fit("Bikeability cycle training for schools", "", ("80500000",), ("UKF21",)),
        Fit("Bicycle shelters supply and installation", "", ("34928000",), ("UKF21",)),
        terms=("bicycle repair", "cycle training"),
        region=("UKF21",),
    ),
    Case(
        "We are a community interest company that provides printing, signage and graphic design",
        Fit("Print and design services framework", "Leaflets, posters and signs.", ("79800000",)),
        Fit("Graphic design software licences", "", ("48000000",)),
        terms=("printing", "signage", "graphic design"),
        not_terms=("community interest company",),
    ),
    Case(
        "Domiciliary care, home care, respite for carers",
        Fit("Home care and support services", "Care at home for older people.", ("85000000",)),
        Fit("Domiciliary care rostering system", "Software licences.", ("48000000",)),
        terms=("domiciliary care", "home care"),
    ),
    Case(
        "Community transport, dial-a-ride and school transport across Rutland and Leicestershire",
        Fit(
            "Community transport and dial-a-ride services",
            "",
            ("60000000",),
            ("UKF22",),
            "Rutland County Council",
        ),
        Fit("Transport assessment for a new housing development", "", ("71311200",), ("UKF22",)),
        terms=("community transport", "school transport"),
        region=("UKF22",),
    ),
    Case(
        "Youth work, holiday activities and after school clubs",
        Fit("Holiday activities and food programme 2026", "", ("92000000",)),
        Fit("Youth centre roof replacement", "", ("45261000",)),
        terms=("youth work", "holiday activities", "after school clubs"),
    ),
    Case(
        "WE DO CATERING AND EVENTS",
        Fit("Catering for events at the Guildhall", "", ("55520000",)),
        Fit("Catering equipment", "Commercial kitchen equipment.", ("39310000",)),
        terms=("catering", "events"),
    ),
    Case(
        "Hello! We're Green Fingers CIC. We offer garden maintenance, landscaping and tree work "
        "to councils and housing associations in Nottingham and the surrounding area.",
        Fit(
            "Landscaping and garden maintenance for housing estates",
            "",
            ("77310000",),
            ("UKF14",),
            "Nottingham City Homes",
        ),
        Fit("Landscaping stone and gravel supply", "", ("14210000",), ("UKF14",)),
        terms=("garden maintenance", "landscaping"),
        region=("UKF14",),
        not_terms=("green fingers", "fingers", "councils"),
    ),
    Case(
        "- catering\n- cleaning\n- security",
        Fit("Security guarding services", "Manned guarding of the depot.", ("79713000",)),
        Fit("Security fencing installation", "Palisade fencing.", ("45340000",)),
        terms=("catering", "cleaning", "security"),
    ),
    Case(
        "i run a small cleaning company in lincoln, mainly domestic cleaning and end of tenancy "
        "cleans",
        Fit("End of tenancy cleaning for council homes", "", ("90911000",), ("UKF30",)),
        Fit("Cleaning chemicals supply", "", ("39830000",), ("UKF30",)),
        terms=("cleaning", "domestic cleaning"),
        region=("UKF30",),
        not_terms=("small", "company", "end"),
    ),
    Case(
        "We provide employability support, CV workshops and job clubs for unemployed adults "
        "across the East Midlands",
        Fit(
            "Employability support programme for long-term unemployed residents",
            "",
            ("80000000",),
            ("UKF",),
        ),
        Fit("Job evaluation consultancy", "Pay and grading review.", ("79414000",), ("UKF",)),
        terms=("employability support", "job clubs"),
        region=("UKF",),
        not_terms=("unemployed adults",),
    ),
    Case(
        "We're a worker co-op. We make bespoke wooden furniture and do joinery.",
        Fit("Bespoke joinery and fitted furniture for the library", "", ("45421000",)),
        Fit("Furniture removal and storage", "", ("98392000",)),
        terms=("wooden furniture", "joinery"),
        not_terms=("worker",),
    ),
    Case(
        "Recycling of electrical goods, WEEE collection, refurbished laptops for schools",
        Fit("WEEE collection and recycling from household waste sites", "", ("90500000",)),
        Fit("Electrical installation works at the depot", "", ("45310000",)),
        terms=("WEEE collection", "recycling"),
    ),
    Case(
        "We do counselling. How much does it cost?",
        Fit("Adult counselling service", "", ("85312320",)),
        Fit("Counselling room furniture", "", ("39100000",)),
        terms=("counselling",),
    ),
    Case(
        "Can you find me cleaning contracts?",
        Fit("Cleaning services for council offices", "", ("90911200",)),
        Fit("Cleaning products supply", "", ("39830000",)),
        terms=("cleaning",),
        not_terms=("contracts",),
    ),
    Case(
        "Social enterprise, Leicester, we do photography & videography for events and weddings",
        Fit("Photography and videography for council events", "", ("79961000",), ("UKF21",)),
        Fit("Photography equipment", "Cameras and lenses.", ("38600000",), ("UKF21",)),
        terms=("photography", "videography"),
        region=("UKF21",),
    ),
    Case(
        "Outdoor education, forest school and bushcraft for primary schools in Derbyshire",
        Fit("Forest school sessions for primary pupils", "", ("80000000",), ("UKF13",)),
        Fit("Outdoor education centre roof repairs", "", ("45261000",), ("UKF13",)),
        terms=("outdoor education", "forest school", "bushcraft"),
        region=("UKF12", "UKF13"),
    ),
    Case(
        "We run a domestic abuse refuge and outreach services",
        Fit("Domestic abuse refuge accommodation and outreach support", "", ("85311000",)),
        Fit("Domestic waste collection", "", ("90511000",)),
        terms=("domestic abuse", "refuge"),
    ),
    Case(
        "Our social enterprise reinvests profits into the community by providing high quality, "
        "affordable childcare and after-school clubs in Corby.",
        Fit("Wraparound childcare and after-school clubs", "", ("85312110",), ("UKF25",)),
        Fit("Childcare management software", "", ("48000000",), ("UKF25",)),
        terms=("childcare", "after-school clubs"),
        region=("UKF24", "UKF25"),
        not_terms=("high quality", "profits"),
    ),
    Case(
        "Lawn mowing, hedge cutting, litter picking",
        Fit("Grass cutting and hedge maintenance contract", "", ("77314000",)),
        Fit("Lawn mower supply", "Ride-on mowers.", ("16311000",)),
        terms=("lawn mowing", "hedge cutting", "litter picking"),
    ),
    Case(
        "laundry, ironing & linen hire for care homes",
        Fit("Linen hire and laundry services", "For the council's care homes.", ("98310000",)),
        Fit("Care home places: residential care framework", "", ("85311000",)),
        terms=("laundry", "linen hire"),
        not_terms=("care homes",),
    ),
)


def _notice(fit: Fit, n: int) -> Notice:
    return Notice(
        source="find_a_tender",
        ocid=f"ocds-test-{n}",
        release_id="r1",
        notice_type="UK4",
        stage="tender",
        title=fit.title,
        description=fit.description,
        buyer=fit.buyer,
        cpv=fit.cpv,
        regions=fit.regions,
        deadline=NOW + timedelta(days=30),
        published=NOW,
    )


def _matches(case: Case) -> tuple[list[str], bool, bool]:
    found = extract(case.answer)
    regions = [c for p in found.places for c in p.codes] or ["UKF"]
    profile = parse_profile(
        {
            "id": "1",
            "keywords": list(found.terms),
            "regions": regions,
            "stages": ["planning", "tender"],
        }
    )
    matcher = Matcher([profile])
    fit = bool(matcher.match([_notice(case.fit, 1)]))
    shares = bool(matcher.match([_notice(case.shares, 2)]))
    return list(found.terms), fit, shares


def test_there_are_enough_varied_answers() -> None:
    assert len(CASES) >= 25
    kinds = {
        "list": any("," in c.answer and len(c.answer.split()) < 8 for c in CASES),
        "one word": any(len(c.answer.split()) == 1 for c in CASES),
        "typo": any("catring" in c.answer for c in CASES),
        "emoji": any("🎉" in c.answer for c in CASES),
        "question": any("?" in c.answer for c in CASES),
        "place": sum(c.region is not None for c in CASES) >= 10,
        "pasted paragraph": any(len(c.answer) > 120 for c in CASES),
    }
    assert all(kinds.values()), kinds


@pytest.mark.parametrize("case", CASES, ids=[c.answer[:40] for c in CASES])
def test_answer_gives_keywords_that_match_what_fits_and_not_what_shares_a_word(
    case: Case,
) -> None:
    terms, fit, shares = _matches(case)
    lowered = [t.lower() for t in terms]
    for term in case.terms:
        assert term.lower() in lowered, (term, terms)
    for term in case.not_terms:
        assert term.lower() not in lowered, (term, terms)
    assert all(word_count(t) <= LONG_WORDS for t in terms), terms
    assert fit, f"{terms} should match {case.fit.title!r}"
    assert not shares, f"{terms} should not match {case.shares.title!r}"
    if case.region is not None:
        codes = tuple(c for p in extract(case.answer).places for c in p.codes)
        assert codes == case.region, codes


@pytest.mark.parametrize(
    "text",
    [
        "What is this? How much does it cost?",
        "how does this work?",
        "Is it free?",
        "who are you",
    ],
)
def test_questions_about_the_bot_give_no_keywords(text: str) -> None:
    found = extract(text)
    assert found.kind == "question" and found.terms == ()


@pytest.mark.parametrize(
    "text", ["Hi", "asdfgh", "Not sure really", "🎉🎉🎉", "ok", "...", "", "test 123"]
)
def test_greetings_nonsense_and_emoji_give_nothing(text: str) -> None:
    found = extract(text)
    assert found.kind == "empty" and found.terms == ()


def test_a_question_with_a_trade_in_it_keeps_the_trade_and_says_it_asked() -> None:
    found = extract("We do counselling. How much does it cost?")
    assert found.terms == ("counselling",) and found.asked


def test_typos_are_read_as_the_known_word_and_reported() -> None:
    found = extract("catring and clening")
    assert found.terms == ("catering", "cleaning")
    assert found.corrected == (("catring", "catering"), ("clening", "cleaning"))


def test_words_are_never_joined_across_sentences_or_list_items() -> None:
    found = extract("Catering. Events\nschool meals; cleaning")
    assert found.terms == ("catering", "events", "school meals", "cleaning")


def test_the_enterprise_own_name_is_kept_apart() -> None:
    found = extract("We're Green Fingers CIC. We offer garden maintenance.")
    assert found.name == "Green Fingers CIC"
    assert found.terms == ("garden maintenance",)


def test_quoted_phrases_stay_exact_and_long_ones_get_a_shorter_suggestion() -> None:
    found = extract('"meals on wheels", "community catering for schools and events in the city"')
    assert found.terms[0] == '"meals on wheels"'
    assert found.long and found.long[0][0].startswith('"community catering')
    suggestion = found.long[0][1]
    assert word_count(suggestion) <= LONG_WORDS and "catering" in suggestion


def test_shorter_suggests_a_trade_term_for_a_long_keyword() -> None:
    assert shorter("community catering for schools and events in the city") == "catering"
    assert shorter("catering") is None


def test_places_outside_the_east_midlands_are_regions_too() -> None:
    found = extract("cleaning across London and Yorkshire")
    assert found.terms == ("cleaning",)
    assert [p.codes for p in found.places] == [("UKI",), ("UKE",)]
    everywhere = extract("We do catering anywhere in the UK")
    assert [p.codes for p in everywhere.places] == [("ENG",)]


def test_postcodes_suggest_their_area() -> None:
    found = extract("translation & interpreting services - based in LE1 6ZG")
    assert ("UKF21",) in [p.codes for p in found.places]
    assert "translation" in found.terms and "interpreting" in found.terms
