"""Property tests: the engine's invariants on generated input."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from matching_helpers import notice

from matchers.engine import Matcher, match
from matchers.profile import Profile, parse_profile
from matchers.reference import match_brute

# Words of real procurement language, a few acronyms, and misspellings of some of them.
VOCAB = [
    "school", "catering", "meals", "cleaning", "building", "grounds", "maintenance", "roof",
    "repairs", "domestic", "abuse", "refuge", "interpreting", "translation", "services",
    "support", "care", "home", "youth", "advice", "debt", "recovery", "training", "staff",
    "website", "design", "printing", "lift", "road", "safety", "broadband", "facilities",
]  # fmt: skip
TYPOS = ["cateirng", "maintenence", "interpretting", "translaton", "clenaing", "refuges"]
ACRONYMS = ["IT", "NHS", "BSL", "SEND"]
word = st.sampled_from(VOCAB)
text_word = st.sampled_from(VOCAB + TYPOS + ACRONYMS + ["the", "of", "and", "it", "."])
keyword = st.lists(word, min_size=1, max_size=3).map(" ".join) | st.sampled_from(ACRONYMS)
plain_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)


@given(st.lists(plain_words | st.sampled_from(ACRONYMS), min_size=1, max_size=4).map(" ".join))
@settings(max_examples=300, deadline=None)
def test_a_keyword_always_finds_a_title_that_is_exactly_it(kw: str) -> None:
    p = parse_profile({"id": "p", "keywords": [kw]})
    got = match([notice(kw)], [p])
    assert [m.profile_id for m in got] == ["p"]
    assert got[0].matched_keywords == (kw,)


@given(keyword)
@settings(max_examples=100, deadline=None)
def test_a_quoted_keyword_finds_a_title_that_is_exactly_it(kw: str) -> None:
    p = parse_profile({"id": "p", "keywords": [f'"{kw}"']})
    assert len(match([notice(kw.upper() if len(kw) > 6 else kw)], [p])) == 1


texts = st.lists(text_word, min_size=0, max_size=25).map(" ".join)
# main CPV codes of every contract type, some named by the vocabulary's labels (79810000
# printing, 80511000 staff training, 72413000 web design, 98341140 caretaker), some not
CODES = st.sampled_from(
    [(), ("79810000",), ("80511000", "45000000"), ("72413000",), ("98341140",), ("85000000",),
     ("45261000",), ("39100000",), ("92000000",)]
)  # fmt: skip
notices = st.lists(st.tuples(texts, texts, CODES), min_size=1, max_size=4).map(
    lambda rows: [notice(t, d, ocid=f"n{i}", cpv=c) for i, (t, d, c) in enumerate(rows)]
)


def _profiles(draw: st.DrawFn, n: int) -> list[Profile]:
    out = []
    for i in range(n):
        out.append(
            parse_profile(
                {
                    "id": f"p{i}",
                    "keywords": draw(st.lists(keyword, min_size=1, max_size=3)),
                    "exclude": draw(st.lists(keyword, max_size=1)),
                }
            )
        )
    return out


@st.composite
def profile_sets(draw: st.DrawFn) -> list[Profile]:
    return _profiles(draw, draw(st.integers(1, 5)))


@given(notices, profile_sets(), keyword)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_adding_an_exclusion_never_adds_matches(ns: list, ps: list[Profile], extra: str) -> None:
    before = {(m.profile_id, m.notice_ocid) for m in match(ns, ps)}
    stricter = [
        parse_profile({"id": p.id, "keywords": list(p.keywords), "exclude": [*p.exclude, extra]})
        for p in ps
    ]
    after = {(m.profile_id, m.notice_ocid) for m in match(ns, stricter)}
    assert after <= before


@given(notices, profile_sets())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_index_equals_brute_force(ns: list, ps: list[Profile]) -> None:
    assert Matcher(ps).match(ns) == match_brute(ns, ps)


@given(notices, profile_sets())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_profile_alone_gets_what_it_gets_in_company(ns: list, ps: list[Profile]) -> None:
    together = Matcher(ps).match(ns)
    for p in ps:
        alone = Matcher([p]).match(ns)
        assert alone == [m for m in together if m.profile_id == p.id]


@given(notices, profile_sets())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_index_equals_brute_force_with_the_trade_switches_on(ns: list, ps: list[Profile]) -> None:
    import matchers.rules as rules

    saved = (rules.TRADE_HEADS, rules.TRADE_REJECT)
    rules.TRADE_HEADS, rules.TRADE_REJECT = True, "division"
    try:
        assert Matcher(ps).match(ns) == match_brute(ns, ps)
    finally:
        rules.TRADE_HEADS, rules.TRADE_REJECT = saved


@st.composite
def described_profile_sets(draw: st.DrawFn) -> list[Profile]:
    """Profiles with a description (the maybe tier's second signal) and sometimes strict."""
    out = []
    for p in _profiles(draw, draw(st.integers(1, 5))):
        data = p.to_dict()
        data["description"] = draw(texts)
        data["strict"] = draw(st.booleans())
        out.append(parse_profile(data))
    return out


@given(notices, described_profile_sets())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_both_tiers_equal_brute_force(ns: list, ps: list[Profile]) -> None:
    assert Matcher(ps).match_tiers(ns) == match_brute(ns, ps, maybe=True)


@given(notices, described_profile_sets())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_alert_tier_is_what_match_returns(ns: list, ps: list[Profile]) -> None:
    matcher = Matcher(ps)
    both = matcher.match_tiers(ns)
    assert [m for m in both if m.tier == "alert"] == matcher.match(ns)
    assert all(m.tier in ("alert", "maybe") for m in both)
    pairs = [(m.profile_id, m.notice_ocid) for m in both]
    assert len(pairs) == len(set(pairs))  # one match per pair, whichever tier
    lowest_alert = min((m.score for m in both if m.tier == "alert"), default=100)
    assert all(m.score < min(35, lowest_alert) for m in both if m.tier == "maybe")


@given(notices, described_profile_sets())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_profile_alone_gets_both_tiers_as_in_company(ns: list, ps: list[Profile]) -> None:
    together = Matcher(ps).match_tiers(ns)
    for p in ps:
        assert Matcher([p]).match_tiers(ns) == [m for m in together if m.profile_id == p.id]
