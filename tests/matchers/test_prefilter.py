"""The preview's prefilter never drops a notice the matcher would match: checked on every real
sample notice for profiles of every kind (phrases, one word, a typo, an acronym, a quoted
phrase, CPV codes, exclusions and filters)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from feeds.local import parse_file
from feeds.notice import Notice
from matchers.engine import Matcher
from matchers.prefilter import Prefilter, notice_keys
from matchers.profile import parse_profile
from matchers.rules import Document, prepare

SAMPLES = Path(__file__).resolve().parents[2] / "feeds" / "samples"
ALL_STAGES = ["planning", "tender", "award", "contract", "unknown", "cancelled"]


@cache
def _notices() -> tuple[tuple[Notice, Document], ...]:
    out = []
    for path in sorted(SAMPLES.glob("*.json")):
        try:
            notices = parse_file(path).notices
        except Exception:  # not every sample is a notice file
            continue
        out.extend((n, prepare(n)) for n in notices)
    return tuple(out)


PROFILES = [
    {"keywords": ["catering", "school meals", "events"]},
    {"keywords": ["cleaning", "facilities management"], "regions": ["UKF"]},
    {"keywords": ["IT support", "website design"]},
    {"keywords": ["grounds maintenance", "tree surgery"]},
    {"keywords": ["counselling", "mental health"], "exclude": ["software"]},
    {"keywords": ['"meals on wheels"']},
    {"keywords": ["cateirng", "maintenace"]},
    {"keywords": ["NHS", "GP"]},
    {"keywords": ["construction"], "min_value": 100000},
    {"keywords": ["software", "digital"]},
    {"keywords": [], "cpv": ["72000000", "555"]},
    {"keywords": ["play scheme", "youth work", "staff training"]},
]


@pytest.mark.parametrize(
    "raw", PROFILES, ids=[str(p.get("keywords") or p.get("cpv")) for p in PROFILES]
)
def test_the_prefilter_keeps_every_notice_the_matcher_matches(raw: dict[str, object]) -> None:
    pairs = _notices()
    assert len(pairs) > 500
    profile = parse_profile({"id": "p", "stages": ALL_STAGES, **raw})
    everything = {m.notice_ocid for m in Matcher([profile]).match_documents([d for _, d in pairs])}
    test = Prefilter(profile)
    kept = [d for n, d in pairs if test.may_match(notice_keys(n.title, n.description, n.cpv))]
    after = {m.notice_ocid for m in Matcher([profile]).match_documents(kept)}
    assert after == everything
    assert len(kept) < len(pairs) / 3  # and it does skip most notices
