"""Triage: topic classification, region detection and routing (pure functions)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matchers.triage import (
    GENERAL,
    Adviser,
    Enquiry,
    TriageInputError,
    advisers_from_json,
    classify,
    clean_email,
    detect_region,
    enquiry_from_json,
    next_best,
    route,
)
from matchers.triage_lexicon import TOPICS

# ---------------------------------------------------------------------------------------------
# classify


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("How do we register for VAT and what records does HMRC expect?", "finance"),
        ("Can you help us write our first bid for a council framework?", "tendering"),
        ("Is there a Lottery grant for a community garden?", "funding"),
        ("What should go in our articles of association about the asset lock?", "legal"),
        ("How do we answer the social value question and measure our impact?", "social_value"),
        ("Me and a friend want to start a CIC, where do we start?", "start_up"),
        ("Do we have to auto-enrol part-time staff into a workplace pension?", "employment"),
        ("How do I unsubscribe from the tender alerts?", GENERAL),
    ],
)
def test_classify_topics(text: str, topic: str) -> None:
    result = classify(text)
    assert result.topic == topic
    assert 0.0 <= result.confidence <= 1.0
    assert result.reasons and result.reasons[0].startswith(f"topic: {topic}")
    assert set(result.scores) == set(TOPICS)


def test_typos_are_forgiven_on_longer_words() -> None:
    result = classify(
        "we need help with our procurment and the goverance of the consortium", method="lexicon"
    )
    assert result.scores["tendering"] > 0
    assert result.scores["legal"] > 0
    assert any("~" in term for term in result.terms["tendering"])


def test_common_look_alikes_are_not_typos() -> None:
    # "contact" is one letter from "contract", "finding" from "funding"
    result = classify("please contact me about finding the right person", method="lexicon")
    assert result.scores["tendering"] == 0
    assert result.scores["funding"] == 0


def test_first_alone_is_not_start_up() -> None:
    text = "We are taking on our first two paid staff. How do we set up payroll?"
    assert classify(text).topic == "employment"
    result = classify(text, method="lexicon")
    assert result.topic == "employment"
    assert not any("first" in term for term in result.terms.get("start_up", ()))
    assert result.scores["start_up"] < result.scores["employment"] / 4


def test_phrase_beats_its_words() -> None:
    """ "funding bid" is funding; its "bid" does not also count for tendering."""
    result = classify("Can you look over our funding bid to the Lottery?")
    assert result.topic == "funding"
    assert result.scores["tendering"] == 0


def test_meta_negation() -> None:
    text = "This is not about funding. How do we price our services for the council?"
    assert classify(text).topic == "finance"
    result = classify(text, method="lexicon")
    assert result.scores["funding"] == 0
    assert result.topic == "finance"


def test_extra_words_from_config() -> None:
    text = "Can you explain the flibbertigibbet rules for us?"
    assert classify(text).topic == GENERAL
    result = classify(text, extra_words={"legal": ["flibbertigibbet"]})
    assert result.topic == "legal"
    with pytest.raises(ValueError):
        classify(text, extra_words={"nonsense": ["x"]})


def test_nothing_recognisable_is_general_with_zero_confidence() -> None:
    result = classify("hello???")
    assert result.topic == GENERAL
    assert result.confidence == 0.0


def test_low_confidence_goes_general_but_keeps_best_guess() -> None:
    result = classify("We had a meeting with the council last week.", method="lexicon")
    assert result.topic == GENERAL
    assert result.best == "tendering"
    assert "best guess: tendering" in result.reasons[0]


LONG_EMAIL = """Hi team,

Hope you are all well and had a good weekend. We are a small CIC running a community cafe and a
grant-funded youth project, and we have been going for six years now with lots of volunteers.
Last year we won a small council contract for catering and the tender went really well.

Our question: we are taking on a new cook in May. Do we need to give her a written contract of
employment from day one, and how does holiday pay work for someone on variable hours?

Thanks,
Priya

--
Priya Shah | Operations Manager
Sunflower Kitchen CIC, 12 High Street, Mansfield NG18 1AA
Tel: 01623 000000 | www.sunflower.example

This email and any attachments are confidential and intended solely for the addressee. If you
have received this email in error please notify the sender. Sunflower Kitchen CIC is registered
in England. Funding, grants, tenders and VAT enquiries: see our website.

On Mon, 3 Mar 2025 at 10:00, SEEM Funding <funding@seem.example.org> wrote:
> Dear Priya, here is the grant funding information you asked for about the Lottery,
> the Community Fund, crowdfunding and social investment.
"""


def test_long_email_question_counts_most() -> None:
    result = classify(LONG_EMAIL, subject="quick question")
    assert result.topic == "employment"
    assert result.scores["funding"] < result.scores["employment"] / 2


def test_clean_email_drops_signature_quote_and_disclaimer() -> None:
    cleaned = clean_email(LONG_EMAIL)
    assert "holiday pay" in cleaned
    assert "Operations Manager" not in cleaned
    assert "confidential" not in cleaned
    assert "crowdfunding" not in cleaned
    assert "wrote:" not in cleaned


def test_clean_email_original_message_and_sign_off_name() -> None:
    text = (
        "Can we reclaim VAT on the van?\n\nCheers, Tom\n07700 900000\n"
        "-----Original Message-----\nFrom: someone\nAbout grants"
    )
    cleaned = clean_email(text)
    assert cleaned == "Can we reclaim VAT on the van?"


def test_subject_counts() -> None:
    assert classify("Any advice please?", subject="TUPE").topic == "legal"


# ---------------------------------------------------------------------------------------------
# detect_region


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("We're based in Worksop and run a repair cafe", "Nottinghamshire"),
        ("Pennywhistle Reuse\nS80 2AA", "Nottinghamshire"),
        ("a charity shop in Chesterfield", "Derbyshire"),
        ("NG7 2RD", "Nottingham"),
        ("office at NG18 1AA", "Nottinghamshire"),
        ("DE1 3AH", "Derby"),
        ("DE4 3AG", "Derbyshire"),
        ("LE11 3TU", "Leicestershire"),
        ("LE1 6TY", "Leicester"),
        ("we are in oakham", "Rutland"),
        ("Lincoln LN1 1AA", "Lincolnshire"),
        ("Boston PE21 6LD", "Lincolnshire"),
        ("a social enterprise in Kettering", "Northamptonshire"),
        ("Corby NN17 1AA", "Northamptonshire"),
        ("in Grantham", "Lincolnshire"),
        ("Loughborough", "Leicestershire"),
        ("how do i price a bid??", None),
    ],
)
def test_detect_region(text: str, region: str | None) -> None:
    assert detect_region(text) == region


def test_burton_de14_is_not_east_midlands() -> None:
    assert detect_region("Trent Valley Crafts, Burton upon Trent DE14 1AA") is None
    assert detect_region("our office: DE14 2WB") is None


def test_street_names_and_buyers_weigh_less_than_the_base() -> None:
    text = "Bidding for a Derbyshire County Council contract.\n\nJo\n12 Derby Road, Mansfield"
    assert detect_region(text) == "Nottinghamshire"


def test_peterborough_is_outside() -> None:
    assert detect_region("PE1 1AA") is None


def test_quoted_text_is_not_the_senders_base() -> None:
    text = "Where do we start?\n\nOn Tue, SEEM wrote:\n> SEEM, Leicester LE1 1AA"
    assert detect_region(text) is None


# ---------------------------------------------------------------------------------------------
# route

EMPLOYMENT_Q = "How do we set up payroll and pensions for our new staff?"
TENDER_Q = "Can you check our tender answers before the deadline for the framework?"


def adviser(
    ident: str,
    topics: tuple[str, ...],
    regions: tuple[str, ...] = (),
    capacity: int = 10,
    open_: int = 0,
    away: bool = False,
) -> Adviser:
    return Adviser(
        id=ident,
        name=ident,
        topics=topics,
        capacity=capacity,
        regions=regions,
        away=away,
        open=open_,
    )


ROSTER = (
    adviser("t-notts", ("tendering",), ("Nottingham", "Nottinghamshire")),
    adviser("t-leics", ("tendering", "social_value"), ("Leicester", "Leicestershire")),
    adviser("t-wide", ("tendering",), ("East Midlands",), open_=5),
    adviser("emp", ("employment", "start_up"), ()),
    adviser("duty", ("general",), ("East Midlands",)),
)


def test_route_prefers_region() -> None:
    r = route(Enquiry("e1", TENDER_Q, region="Leicestershire"), ROSTER)
    assert (r.topic, r.adviser_id) == ("tendering", "t-leics")
    assert "covers Leicestershire" in r.reasons
    r = route(Enquiry("e2", TENDER_Q + "\nWorksop S80 1AA"), ROSTER)
    assert r.adviser_id == "t-notts"
    assert "region: Nottinghamshire (S80)" in r.reasons


def test_route_city_counts_for_its_county() -> None:
    roster = (
        adviser("t-county", ("tendering",), ("Derbyshire",), open_=3),
        adviser("t-wide", ("tendering",), (), open_=0),
    )
    r = route(Enquiry("e", TENDER_Q, region="Derby"), roster)
    assert r.adviser_id == "t-county"


def test_route_unknown_region_prefers_region_wide_then_load() -> None:
    roster = (
        adviser("t-a", ("tendering",), ("Lincolnshire",), open_=0),
        adviser("t-b", ("tendering",), (), capacity=10, open_=6),
        adviser("t-c", ("tendering",), ("East Midlands",), capacity=20, open_=6),
    )
    r = route(Enquiry("e", TENDER_Q), roster)
    assert r.adviser_id == "t-c"  # 6/20 beats 6/10; regional adviser comes after
    assert [c.adviser_id for c in r.candidates][:3] == ["t-c", "t-b", "t-a"]
    assert "load 6/20" in r.reasons


def test_route_lowest_relative_load() -> None:
    roster = (
        adviser("busy", ("employment",), capacity=4, open_=3),
        adviser("calm", ("employment",), capacity=12, open_=4),
    )
    assert route(Enquiry("e", EMPLOYMENT_Q), roster).adviser_id == "calm"


def test_route_skips_away_and_full() -> None:
    roster = (
        adviser("away", ("employment",), away=True),
        adviser("full", ("employment",), capacity=3, open_=3),
        adviser("ok", ("employment",), capacity=3, open_=2),
        adviser("duty", ("general",)),
    )
    r = route(Enquiry("e", EMPLOYMENT_Q), roster)
    assert r.adviser_id == "ok"
    assert "skipped away: away" in r.reasons
    assert "skipped full: full" in r.reasons
    assert all(c.adviser_id not in ("away", "full") for c in r.candidates)


def test_route_exclude_ids_and_next_best() -> None:
    r = route(Enquiry("e", TENDER_Q, region="Nottinghamshire"), ROSTER)
    assert r.adviser_id == "t-notts"
    passed = route(
        Enquiry("e", TENDER_Q, region="Nottinghamshire"), ROSTER, exclude_ids={"t-notts"}
    )
    assert passed.adviser_id not in (None, "t-notts")
    assert "skipped t-notts: passed it on" in passed.reasons
    nb = next_best(r)
    assert nb is not None and nb.adviser_id == passed.adviser_id
    nb2 = next_best(r, exclude_ids=[passed.adviser_id or ""])
    assert nb2 is not None and nb2.adviser_id not in ("t-notts", passed.adviser_id)


def test_route_nothing_fits_goes_to_duty() -> None:
    r = route(Enquiry("e", "Is there a grant for our minibus?"), ROSTER)
    assert r.topic == "funding"
    assert r.adviser_id == "duty"
    assert "no funding adviser available: duty adviser" in r.reasons


def test_route_low_confidence_goes_to_duty() -> None:
    # (the topic model reads "are you open on bank holidays" as finance: docs/triage.md)
    for method in ("model", "lexicon"):
        r = route(Enquiry("e", "hello, is anyone there"), ROSTER, method=method)
        assert r.topic == GENERAL
        assert r.adviser_id == "duty"


def test_route_no_duty_available_least_loaded() -> None:
    roster = (
        adviser("duty", ("general",), away=True),
        adviser("x", ("legal",), capacity=10, open_=5),
        adviser("y", ("finance",), capacity=10, open_=1),
    )
    r = route(Enquiry("e", "hello there"), roster)
    assert r.adviser_id == "y"
    assert "no duty adviser available: least-loaded adviser" in r.reasons
    assert "skipped duty: away" in r.reasons


def test_route_nobody_available() -> None:
    roster = (adviser("a", ("general",), away=True), adviser("b", ("legal",), capacity=0))
    r = route(Enquiry("e", "hello"), roster)
    assert r.adviser_id is None
    assert "no adviser available" in r.reasons
    assert next_best(r) is None


# ---------------------------------------------------------------------------------------------
# parsing


def test_advisers_from_json_errors_name_item_and_field() -> None:
    good = {"id": "a", "name": "A", "topics": ["legal"], "capacity": 3}
    assert advisers_from_json([good])[0].regions == ()
    cases = [
        ({**good, "capacity": "3"}, "adviser 1: field 'capacity': expected a whole number"),
        ({**good, "capacity": True}, "adviser 1: field 'capacity': expected a whole number"),
        ({**good, "topics": ["fundng"]}, "adviser 1: field 'topics': unknown topic"),
        ({k: v for k, v in good.items() if k != "id"}, "adviser 1: field 'id': missing"),
        ({**good, "away": "no"}, "adviser 1: field 'away': expected true or false"),
        ({**good, "open": -1}, "adviser 1: field 'open': must be 0 or more"),
    ]
    for obj, message in cases:
        with pytest.raises(TriageInputError, match="^" + message.replace("(", r"\(")):
            advisers_from_json([obj])
    with pytest.raises(TriageInputError, match="adviser 2: field 'id'"):
        advisers_from_json([good, good])
    with pytest.raises(TriageInputError):
        advisers_from_json([])
    with pytest.raises(TriageInputError):
        advisers_from_json({"id": "a"})


def test_enquiry_from_json() -> None:
    e = enquiry_from_json({"id": 7, "text": "hi", "channel": "chat", "region": ""}, "line 1")
    assert e == Enquiry("7", "hi", None, None)
    with pytest.raises(TriageInputError, match="line 2: field 'text': expected text"):
        enquiry_from_json({"id": "x", "text": ["hi"]}, "line 2")


# ---------------------------------------------------------------------------------------------
# properties

_ids = st.sampled_from([f"a{i}" for i in range(8)])
_advisers = st.builds(
    adviser,
    ident=_ids,
    topics=st.lists(st.sampled_from(TOPICS), min_size=1, max_size=3, unique=True).map(tuple),
    regions=st.lists(
        st.sampled_from(["Nottingham", "Derbyshire", "Lincolnshire", "East Midlands"]),
        max_size=2,
        unique=True,
    ).map(tuple),
    capacity=st.integers(0, 5),
    open_=st.integers(0, 6),
    away=st.booleans(),
)
_rosters = st.lists(_advisers, min_size=1, max_size=8, unique_by=lambda a: a.id)
_words = st.sampled_from(
    [
        "tender",
        "grant",
        "VAT",
        "payroll",
        "CIC",
        "social value",
        "start up",
        "Worksop",
        "DE14",
        "?",
        "not about",
        "Thanks,",
        "\n--\n",
        "> quoted",
        "hello",
        "",
    ]
)
_texts = st.one_of(st.text(max_size=200), st.lists(_words, max_size=20).map(" ".join))


@settings(max_examples=200, deadline=None)
@given(
    roster=_rosters,
    text=_texts,
    subject=st.one_of(st.none(), st.text(max_size=30)),
    exclude=st.sets(_ids, max_size=4),
)
def test_never_away_never_excluded_always_valid_topic(
    roster: list[Adviser], text: str, subject: str | None, exclude: set[str]
) -> None:
    r = route(Enquiry("e", text, subject), roster, exclude_ids=exclude)
    assert r.topic in TOPICS
    assert 0.0 <= r.confidence <= 1.0
    by_id = {a.id: a for a in roster}
    if r.adviser_id is not None:
        chosen = by_id[r.adviser_id]
        assert not chosen.away
        assert chosen.open < chosen.capacity
        assert r.adviser_id not in exclude
    else:
        assert all(a.away or a.open >= a.capacity or a.id in exclude for a in roster)
    for cand in r.candidates:
        assert not by_id[cand.adviser_id].away
        assert cand.adviser_id not in exclude
    nb = next_best(r)
    assert nb is None or (nb.adviser_id != r.adviser_id and nb.adviser_id not in exclude)
