"""Reading "What does your enterprise do?" answers: each answer, as people type them, must give
keywords that match a notice fitting the enterprise and not a notice that merely shares one
of its words — checked through the matcher exactly as the pipeline runs it
(:func:`matchers.profile.parse_profile` with the default stages, :class:`Matcher`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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


DEV = Path(__file__).resolve().parents[2] / "data" / "eval" / "onboarding_dev.jsonl"


def _fit(raw: dict[str, Any]) -> Fit:
    return Fit(
        raw["title"],
        raw.get("description", ""),
        tuple(raw.get("cpv", ())),
        tuple(raw.get("regions", ())),
        raw.get("buyer", "A council"),
    )


def load_cases(path: Path = DEV) -> tuple[Case, ...]:
    """The answers of an onboarding evaluation file (``data/eval/onboarding_*.jsonl``)."""
    out = []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        region = raw.get("region")
        out.append(
            Case(
                raw["answer"],
                _fit(raw["fit"]),
                _fit(raw["shares"]),
                tuple(raw.get("terms", ())),
                tuple(region) if region is not None else None,
                tuple(raw.get("not_terms", ())),
            )
        )
    return tuple(out)


#: Real-sounding answers, each with a notice that fits the enterprise and one that merely
#: shares a word with it (the development set: the reader was tuned while writing them).
CASES: tuple[Case, ...] = load_cases()


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
