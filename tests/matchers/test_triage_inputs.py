# ruff: noqa: E501  (the enquiries are data: long lines as people write them)
"""Triage on input nobody tidied: typos, emoji, "help??", pasted emails with signatures and
quoted threads, ESOL-ish and regional English, two topics in one message, questions about a
notice, regions from a profile. Every enquiry here was written for this file (none comes from
dev or dev2, nor from the topic descriptions the model learns from).

Each case names the topics whose adviser would be a sensible first stop; the test routes it
against the SEEM roster (data/eval/advisers.json) and checks the adviser covers one of them.
Misroutes found while writing these are listed in docs/triage.md, not hidden here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matchers.triage import (
    GENERAL,
    Adviser,
    Enquiry,
    TriageInputError,
    advisers_from_json,
    classify,
    enquiry_from_json,
    notice_text_of,
    profile_region,
    route,
)

REPO = Path(__file__).resolve().parents[2]
ROSTER: list[Adviser] = advisers_from_json(
    json.loads((REPO / "data/eval/advisers.json").read_text(encoding="utf-8"))
)
BY_ID = {a.id: a for a in ROSTER}

CASES: list[tuple[str, str, str | None, list[str]]] = [
    (
        "typos",
        "hiya we got a tendr from the counsil for cleening scools, how do we do the quailty questons",
        None,
        ["tendering"],
    ),
    (
        "emoji",
        "🙏🙏 can someone help us write the social value bit of our bid?? its worth 20% 😬",
        None,
        ["social_value"],
    ),
    ("help", "help??", None, ["general"]),
    ("hello", "hello", None, ["general"]),
    ("thumbs", "👍", None, ["general"]),
    (
        "esol_vat",
        "Good morning. We are cooking business, women from Syria and Eritrea. Customer ask us for VAT number. We must have this? Our money this year is around 60 thousand pound.",
        None,
        ["finance"],
    ),
    (
        "esol_grant",
        "Hello sir/madam, me and my sister want help from you for find money for sewing machines for our project, there is grant for this please?",
        None,
        ["funding"],
    ),
    (
        "welsh_english",
        "Alright butt, we're a little co-op near the border, tidy bunch, and we're after taking on our first proper employee now like. What do we have to do with payroll and that?",
        None,
        ["employment"],
    ),
    (
        "two_topics",
        "Two things really: we need to sort out our articles of association because the board keeps arguing about voting rights, and separately we're thinking about a grant for a new roof.",
        None,
        ["funding", "general", "legal"],
    ),
    (
        "email_sig",
        "Hi,\n\nQuick one - does TUPE apply to us if we take over the lunch club from the council? Their two cooks would come with it.\n\nMany thanks\nPriya\n\nPriya Shah | Operations Lead\nGreen Plate CIC\nTel: 0115 496 0000\nwww.greenplate.example\nRegistered in England No. 01234567\n\nThis email and any attachments are confidential and intended solely for the addressee.",
        "lunch club",
        ["legal"],
    ),
    (
        "quoted_thread",
        "Thanks for this. One more question though - what's the best way to price our hourly rate so it covers rent and management time?\n\nOn Tue, 4 Mar 2025 at 10:02, SEEM Events <events@seem.example.org> wrote:\n> Dear member, our tendering workshop is on 12 March. Book your place for the bid writing masterclass and the meet the buyer event.\n> Funding fair details to follow.",
        "Re: workshop",
        ["finance"],
    ),
    ("unsubscribe", "UNSUBSCRIBE", None, ["general"]),
    (
        "thanks_only",
        "Just a quick note to say thanks Jo for the help with our framework bid, we got through to the next stage!",
        None,
        ["general", "tendering"],
    ),
    (
        "start_idea",
        "I'm a retired teacher with an idea for a reading cafe for kids in Boston, where would I even begin with something like this?",
        None,
        ["start_up"],
    ),
    (
        "social_value_no_words",
        "The commissioner wants to know what difference our sessions make to people's lives over the year. How do we even show that?",
        None,
        ["social_value"],
    ),
    ("dbs", "do our befriending volunteers need police checks", None, ["employment"]),
    (
        "sickness",
        "staff member has been signed off for 3 months with her back, do we still pay her?",
        None,
        ["employment"],
    ),
    (
        "framework_calloff",
        "we're on the council's framework for adult day services but we've not had a single call-off in a year. is that normal, can we chase them?",
        None,
        ["tendering"],
    ),
    (
        "loan",
        "We've been offered a £30k loan by a social lender to buy a refrigerated van - is that a sensible thing for a tiny CIC to take on?",
        None,
        ["finance", "funding"],
    ),
    (
        "governance",
        "can our chair also be our paid project manager? we're a CIO",
        None,
        ["employment", "legal"],
    ),
    (
        "impact_report",
        "we want to put together an annual impact report for our volunteers and funders, what should we include?",
        None,
        ["social_value"],
    ),
    (
        "growth",
        "our bakery has done well for two years and we're wondering whether to open a second site or sell wholesale instead",
        None,
        ["start_up"],
    ),
    (
        "event_booking",
        "can I still book onto Thursday's networking breakfast? the link says sold out",
        None,
        ["general"],
    ),
    (
        "ip",
        "we designed a training course with a partner charity and now they want to run it without us. who owns it?",
        None,
        ["legal"],
    ),
    (
        "sq",
        "The SQ asks for our modern slavery statement and insurance certificates - we've got neither, are we out?",
        None,
        ["legal", "tendering"],
    ),
    ("caps", "HOW DO WE GET ON THE COUNCIL SUPPLIER LIST", None, ["tendering"]),
    (
        "grant_rejected",
        "The lottery said no again!! third time. What are we doing wrong with the application",
        None,
        ["funding"],
    ),
]


@pytest.mark.parametrize(
    ("text", "subject", "fitting"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_real_sounding_enquiries_reach_a_fitting_adviser(
    text: str, subject: str | None, fitting: list[str]
) -> None:
    r = route(Enquiry("e", text, subject), ROSTER)
    assert r.adviser_id is not None
    adviser = BY_ID[r.adviser_id]
    assert not adviser.away
    assert set(adviser.topics) & set(fitting), (r.topic, r.reasons)
    assert all(isinstance(x, str) and x and "\n" not in x for x in r.reasons)
    assert 0.0 <= r.confidence <= 1.0


@pytest.mark.parametrize("method", ["model", "lexicon"])
def test_both_paths_route_plain_questions(method: str) -> None:
    cases = {
        "How do we register for VAT?": "finance",
        "Is there a grant for a new minibus?": "funding",
        "How do we answer the method statement questions in this tender?": "tendering",
        "Do our volunteers need DBS checks?": "employment",
    }
    for text, topic in cases.items():
        assert classify(text, method=method).topic == topic, text


def test_low_confidence_names_the_best_guess() -> None:
    r = classify("we had a chat with the council about next year")
    if r.topic == GENERAL and r.best != GENERAL:
        assert f"best guess: {r.best} (" in r.reasons[0]
    assert r.confidence < 0.9  # no topic is plain from this


def test_one_word_is_weak_evidence() -> None:
    # a whole question about VAT is far surer than the bare word
    assert classify("vat").confidence < classify("Do we need to register for VAT?").confidence


def test_empty_and_symbol_only_text_goes_to_duty() -> None:
    for text in ("", "   ", "?!", "🙂🙂🙂", "\x00\x1b[2J"):
        r = route(Enquiry("e", text), ROSTER)
        assert r.topic == GENERAL
        assert BY_ID[r.adviser_id or ""].topics == ("general",)


NOTICE = (
    "Grounds maintenance services for parks and open spaces\n"
    "Gedling Borough Council\n"
    "The council invites tenders for grounds maintenance in three lots. Lot 1 covers parks."
)


def test_a_question_about_a_notice_leans_to_tendering() -> None:
    plain = classify("can we go for this? help??")
    about = classify("can we go for this? help??", notice_text=NOTICE)
    assert about.topic == "tendering"
    assert about.scores["tendering"] > plain.scores["tendering"]
    assert "(about a notice)" in about.reasons


def test_a_specialist_question_about_a_notice_keeps_its_topic() -> None:
    # the notice hints only weakly: a TUPE question about it is still a legal one
    text = "If we win this, do the current contractor's gardeners transfer to us under TUPE?"
    assert classify(text, notice_text=NOTICE).topic == "legal"
    text = "how would we price this per hour so it covers our van and overheads"
    assert classify(text, notice_text=NOTICE).topic == "finance"


def test_notice_text_from_a_notice() -> None:
    from feeds.notice import Notice

    n = Notice(
        source="find_a_tender",
        ocid="ocds-x",
        release_id="r1",
        notice_type=None,
        stage="tender",
        title="Community transport",
        description="Door to door transport for older people.",
        buyer="Lincolnshire County Council",
        cpv=("60000000",),
    )
    text = notice_text_of(n)
    assert "Community transport" in text and "Lincolnshire County Council" in text
    assert "transport" in text.lower().split("\n")[-1]  # the CPV label


def test_region_from_profile_when_the_text_names_none() -> None:
    e = Enquiry("e", "how do we write a method statement?", profile_regions=("Leicestershire",))
    r = route(e, ROSTER)
    assert r.region == "Leicestershire"
    assert r.adviser_id == "adv-2"  # the Leicester tendering adviser
    assert "region: Leicestershire (from profile)" in r.reasons
    # a place in the text wins over the profile
    e = Enquiry(
        "e",
        "we're in Lincoln, how do we write a method statement?",
        profile_regions=("Leicestershire",),
    )
    assert route(e, ROSTER).region == "Lincolnshire"


def test_profile_region_reads_names_and_places() -> None:
    assert profile_region(["", "Derbyshire"]) == "Derbyshire"
    assert profile_region(["Loughborough"]) == "Leicestershire"
    assert profile_region([]) is None
    assert profile_region(["Narnia"]) is None


def test_json_keys_for_notice_and_profile() -> None:
    e = enquiry_from_json(
        {"id": 1, "text": "hi", "notice": {"title": "Cleaning", "description": "Offices"}},
        "line 1",
    )
    assert e.notice_text == "Cleaning\nOffices"
    e = enquiry_from_json(
        {"id": "a", "text": "hi", "notice_text": "Cleaning", "profile_regions": ["Derby"]},
        "line 1",
    )
    assert (e.notice_text, e.profile_regions) == ("Cleaning", ("Derby",))
    with pytest.raises(TriageInputError, match="field 'profile_regions'"):
        enquiry_from_json({"id": "a", "text": "hi", "profile_regions": "Derby"}, "line 1")
    with pytest.raises(TriageInputError, match="field 'notice'"):
        enquiry_from_json({"id": "a", "text": "hi", "notice": {"title": 3}}, "line 1")
    with pytest.raises(TriageInputError, match="field 'notice_text'"):
        enquiry_from_json({"id": "a", "text": "hi", "notice_text": ["x"]}, "line 1")


def test_unknown_method_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown method"):
        classify("hi", method="magic")
