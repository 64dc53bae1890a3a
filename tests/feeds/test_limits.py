"""feeds.limits: whatever a notice carries, what passes is safe to encode, hash and store.

Property tests feed every field text drawn from all of Unicode, lone surrogates and control
characters included; the real samples show the limits leave real notices untouched.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import feeds.local
from feeds.limits import (
    AMOUNT_MAX,
    BUYER_MAX,
    CPV_MAX,
    DESCRIPTION_MAX,
    OCID_MAX,
    REGIONS_MAX,
    TITLE_MAX,
    check,
    shown,
)
from feeds.notice import STAGES, Notice, Value
from feeds.ocds import ParseProblem
from tests.feeds.conftest import SAMPLES

#: Every code point, lone surrogates and controls included (``st.text`` never draws a lone
#: surrogate, so the text is joined from characters).
HOSTILE = st.sampled_from(["\ud800", "\udbff", "\udfff", "\x00", "\x1b", "\x85", "\u202e"])
ANY_TEXT = st.lists(
    st.one_of(st.characters(codec=None, exclude_categories=()), HOSTILE), max_size=300
).map("".join)
LONG_TEXT = st.one_of(ANY_TEXT, st.builds(lambda s, n: s * n, ANY_TEXT, st.integers(1, 400)))
NUMBERS = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=-12)), timezone(timedelta(hours=14))])
DATES = st.one_of(
    st.none(),
    st.datetimes(timezones=st.one_of(st.none(), ZONES)),
)


def _notices() -> st.SearchStrategy[Notice]:
    return st.builds(
        Notice,
        source=st.one_of(st.just("find_a_tender"), ANY_TEXT),
        ocid=st.one_of(st.just("ocds-h6vhtk-0a1b2c"), LONG_TEXT),
        release_id=st.one_of(st.just("094477-2026"), LONG_TEXT),
        notice_type=st.one_of(st.none(), ANY_TEXT),
        stage=st.one_of(st.sampled_from(STAGES), ANY_TEXT),
        title=LONG_TEXT,
        description=LONG_TEXT,
        buyer=st.one_of(st.none(), LONG_TEXT),
        cpv=st.lists(st.one_of(st.just("85300000"), ANY_TEXT), max_size=300).map(tuple),
        regions=st.lists(st.one_of(st.just("UKF14"), ANY_TEXT), max_size=150).map(tuple),
        value=st.one_of(
            st.none(), st.builds(Value, NUMBERS, NUMBERS, st.one_of(st.none(), ANY_TEXT))
        ),
        deadline=DATES,
        published=DATES,
        updated=DATES,
        suitable_sme=st.one_of(st.none(), st.booleans()),
        suitable_vcse=st.one_of(st.none(), st.booleans()),
        url=st.one_of(
            st.none(), st.just("https://www.find-tender.service.gov.uk/Notice/1"), ANY_TEXT
        ),
        buyer_postcode=st.one_of(st.none(), st.just("NG5 8PP"), ANY_TEXT),
    )


def _utf8(text: str) -> None:
    text.encode("utf-8")  # raises on a lone surrogate


@settings(max_examples=300, deadline=None)
@given(_notices())
def test_whatever_passes_is_safe_to_encode_hash_and_store(notice: Notice) -> None:
    item = check(notice, 7)
    if isinstance(item, ParseProblem):
        _utf8(str(item))
        assert item.index == 7 and len(item.reason) <= 501
        return
    data = item.to_json_dict()
    _utf8(json.dumps(data, ensure_ascii=False, allow_nan=False))  # finite numbers only
    item.content_hash()
    assert len(item.ocid) <= OCID_MAX and "\x00" not in item.ocid
    assert len(item.title) <= TITLE_MAX and len(item.description) <= DESCRIPTION_MAX
    assert item.buyer is None or len(item.buyer) <= BUYER_MAX
    assert len(item.cpv) <= CPV_MAX and len(set(item.cpv)) == len(item.cpv)
    assert len(item.regions) <= REGIONS_MAX
    assert item.stage in STAGES
    if item.value is not None:
        for number in (item.value.amount, item.value.min):
            assert number is None or (math.isfinite(number) and abs(number) <= AMOUNT_MAX)
    for when in (item.deadline, item.published, item.updated):
        assert when is None or (when.tzinfo is not None and when.astimezone(UTC).year <= 2200)


@settings(max_examples=200, deadline=None)
@given(LONG_TEXT)
def test_shown_ids_are_printable_and_short(text: str) -> None:
    out = shown(text)
    _utf8(out)
    assert len(out) <= 80 * 12 + 1  # each kept character escapes to at most 12 (\\U0010ffff…)
    assert "\x00" not in out


def test_real_notices_pass_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    files = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".json", ".jsonl", ".csv"))
    checked = {p.name: feeds.local.parse_file(p).notices for p in files}
    monkeypatch.setattr(feeds.local, "checked", lambda items, start=0: iter(items))
    raw = {p.name: feeds.local.parse_file(p).notices for p in files}
    assert sum(map(len, raw.values())) == 1033
    for name in raw:
        assert checked[name] == raw[name], name


def test_identity_problems_say_why_and_show_the_id() -> None:
    base = feeds.local.parse_file(Path(SAMPLES / "fts_032703-2026_UK4_tender.json")).notices[0]
    import dataclasses

    long_ocid = check(dataclasses.replace(base, ocid="ocds-h6vhtk-" + "a" * 300), 3)
    assert isinstance(long_ocid, ParseProblem)
    assert long_ocid.reason == "ocid is 312 characters long; at most 200 fit"
    assert long_ocid.ocid is not None and long_ocid.ocid.endswith("…")
    surrogate = check(dataclasses.replace(base, release_id="032703-\ud8002026"), 4)
    assert isinstance(surrogate, ParseProblem)
    assert surrogate.release_id == "032703-\\ud8002026"
    assert "lone surrogate" in surrogate.reason
    assert check(base, 0) is base  # nothing to change: the same object
    dated = check(dataclasses.replace(base, deadline=datetime(9999, 12, 31, 23, 59)), 0)
    assert isinstance(dated, Notice) and dated.deadline is None
