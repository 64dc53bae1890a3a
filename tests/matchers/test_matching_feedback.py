"""Learning from 👍/👎: the offers :mod:`matchers.feedback` makes, and what accepting them does."""

from __future__ import annotations

import pytest
from matching_helpers import notice, profile

from matchers import feedback as fb
from matchers.engine import Matcher


def liked(title: str, description: str = "", ocid: str = "", tier: str = "alert") -> fb.Answer:
    return fb.Answer(notice(title, description, ocid=ocid or title), True, tier=tier)


def disliked(title: str, description: str = "", ocid: str = "") -> fb.Answer:
    return fb.Answer(notice(title, description, ocid=ocid or title), False)


def test_words_several_liked_notices_share_are_offered_as_keywords() -> None:
    older = profile(["older people"], id="older")
    answers = [
        liked("Befriending service for older people in Leeds", "A telephone befriending line."),
        liked("Community befriending scheme 🙂", "Volunteers visit isolated residents."),
        liked("Befriending and social isolation ITT 2024/118", "Older people's befriending."),
        disliked("Older people's residential care home beds", "Block contract."),
    ]
    offers = fb.suggest_keywords(older, answers)
    assert offers[0].kind == fb.KEYWORD
    assert offers[0].text == "befriending"
    assert offers[0].message == "You liked 3 notices about befriending — add it as a keyword?"
    assert len(offers[0].notices) == 3
    texts = {o.text for o in offers}
    # never a place, a reference, an emoji, a word every notice uses, or a keyword already held
    for bad in ("leeds", "itt", "2024", "service", "scheme", "older", "people", "🙂"):
        assert bad not in texts


def test_one_liked_notice_is_not_enough_for_a_word() -> None:
    p = profile(["catering"])
    assert fb.suggest_keywords(p, [liked("Befriending service")]) == []


def test_a_liked_maybe_offers_its_title_phrase() -> None:
    p = profile(["meals on wheels"])
    offers = fb.suggest_keywords(p, [liked("Community meals and lunch clubs", tier="maybe")])
    assert [o.text for o in offers] == ["community meals"]
    assert offers[0].message == "You liked a notice about community meals — add it as a keyword?"


def test_a_word_of_a_disliked_notice_is_not_offered_as_a_keyword() -> None:
    p = profile(["older people"])
    answers = [
        liked("Befriending for carers"),
        liked("Befriending visits at home"),
        disliked("Befriending app development"),
    ]
    assert "befriending" not in {o.text for o in fb.suggest_keywords(p, answers)}


@pytest.mark.parametrize(
    ("keywords", "title", "offer"),
    [
        (["recovery"], "Debt Recovery Services framework", "debt recovery"),
        (["recovery"], "Disaster recovery and backup for servers", "disaster recovery"),
        (["security"], "Cyber security penetration testing", "cyber security"),
        (["repairs"], "Lift repairs across the estate", "lift repairs"),
        (["older people"], "Older people's residential care home beds", "residential care"),
    ],
)
def test_a_disliked_notice_offers_the_word_that_sets_it_apart(
    keywords: list[str], title: str, offer: str
) -> None:
    p = profile(keywords)
    offers = fb.suggest_exclusions(p, [disliked(title)])
    assert [o.text for o in offers] == [offer]
    assert offers[0].kind == fb.EXCLUDE
    assert offers[0].message == (
        f"You turned down a notice about {offer} — stop sending notices that mention it?"
    )


def test_an_exclusion_is_never_a_word_the_subscriber_liked() -> None:
    p = profile(["recovery"])
    answers = [
        liked("Drug and alcohol recovery cafe"),
        disliked("Recovery cafe refurbishment works"),
    ]
    assert all("cafe" not in o.text for o in fb.suggest_exclusions(p, answers))


def test_a_lone_word_exclusion_needs_two_disliked_notices() -> None:
    p = profile(["training"])
    one = [disliked("Clinical skills: surgical simulator for theatre staff")]
    assert fb.suggest_exclusions(p, one) == []
    two = [*one, disliked("Surgical instrument sets for theatres", ocid="second")]
    assert "surgical" in [o.text for o in fb.suggest_exclusions(p, two)]


def test_accepting_an_exclusion_keeps_the_keyword_for_its_own_sense() -> None:
    p = profile(["recovery"], id="rec", description="Drug and alcohol recovery services.")
    (offer,) = fb.suggest_exclusions(p, [disliked("Debt Recovery Services framework")])
    changed = fb.apply(p, [offer])
    assert changed.exclude == ("debt recovery",)
    assert changed.keywords == ("recovery",)
    debt = notice("Debt recovery agency framework", ocid="debt", cpv=["79940000"])
    cafe = notice("Recovery cafe for people in drug and alcohol recovery", ocid="cafe")
    got = {m.notice_ocid for m in Matcher([changed]).match_tiers([debt, cafe])}
    assert got == {"cafe"}


def test_mostly_disliked_alerts_offer_the_stricter_rules() -> None:
    p = profile(["events"])
    answers = [
        disliked("Events of default under the loan agreement", ocid="1"),
        disliked("Major incident events log software", ocid="2"),
        liked("Community events programme", ocid="3"),
        disliked("Events management system licence", ocid="4"),
    ]
    assert fb.wants_strict(answers)
    offers = fb.offers(p, answers)
    strict = [o for o in offers if o.kind == fb.STRICT]
    assert len(strict) == 1
    assert strict[0].message == (
        "You turned down 3 of your last 4 alerts — send only the surest matches at once "
        "(the rest in your digest)?"
    )
    assert fb.apply(p, strict).strict is True
    # once strict, it is not offered again
    assert not [o for o in fb.offers(fb.apply(p, strict), answers) if o.kind == fb.STRICT]


@pytest.mark.parametrize(
    "answers",
    [
        [],
        [fb.Answer(notice("A"), False), fb.Answer(notice("B"), False)],  # too few
        [fb.Answer(notice(t), t != "C") for t in "ABCDE"],  # mostly liked
        # maybes do not count: the stricter rules are about instant alerts
        [fb.Answer(notice(t), False, tier="maybe") for t in "ABCDE"],
    ],
)
def test_few_or_mostly_liked_answers_keep_the_rules(answers: list[fb.Answer]) -> None:
    assert not fb.wants_strict(answers)


def test_apply_adds_each_offer_once_and_keeps_the_rest_of_the_profile() -> None:
    p = profile(["older people"], id="o", regions=["UKF"], description="Older people's charity.")
    offer = fb.Offer(fb.KEYWORD, "befriending", ("a",), "…")
    twice = fb.apply(fb.apply(p, [offer]), [offer])
    assert twice.keywords == ("older people", "befriending")
    assert (twice.id, twice.regions, twice.description) == (p.id, p.regions, p.description)


def test_offers_are_deterministic() -> None:
    p = profile(["older people"])
    answers = [liked("Befriending at home"), liked("Befriending by phone"), disliked("Beds")]
    assert fb.offers(p, answers) == fb.offers(p, list(answers))
