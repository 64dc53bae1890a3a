"""Notice JSON: to_json_dict and from_json_dict are exact inverses, old dicts load, hash stable."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feeds.kinds import KIND_IDS
from feeds.notice import (
    ADDED_KEYS,
    STABLE_KEYS,
    Amendment,
    Award,
    Lot,
    Notice,
    NoticeDates,
    Supplier,
    Value,
)
from tests.feeds.conftest import SAMPLES, parsed

ZONES = st.sampled_from([UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5))])
MOMENTS = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=ZONES
)
MAYBE_MOMENT = st.none() | MOMENTS
TEXT = st.text(max_size=30)
MAYBE_TEXT = st.none() | TEXT
FLAG = st.none() | st.booleans()
AMOUNT = st.none() | st.floats(allow_nan=False, allow_infinity=False, width=64)
CODES = st.lists(st.text(alphabet="0123456789UKFTL", min_size=1, max_size=8), max_size=4).map(tuple)
VALUES = st.none() | st.builds(Value, AMOUNT, AMOUNT, MAYBE_TEXT)
DATES = st.builds(NoticeDates, *[MAYBE_MOMENT] * 6)
LOTS = st.builds(
    Lot,
    TEXT,
    TEXT,
    TEXT,
    MAYBE_TEXT,
    CODES,
    CODES,
    VALUES,
    FLAG,
    FLAG,
    CODES,
    MAYBE_MOMENT,
    MAYBE_MOMENT,
)
SUPPLIERS = st.builds(Supplier, TEXT, MAYBE_TEXT, MAYBE_TEXT, FLAG, FLAG, FLAG, FLAG)
AWARDS = st.builds(
    Award,
    TEXT,
    TEXT,
    MAYBE_TEXT,
    MAYBE_MOMENT,
    VALUES,
    st.lists(SUPPLIERS, max_size=3).map(tuple),
    CODES,
    MAYBE_MOMENT,
    MAYBE_MOMENT,
    MAYBE_MOMENT,
    MAYBE_MOMENT,
    MAYBE_MOMENT,
)
AMENDMENTS = st.builds(Amendment, MAYBE_TEXT, MAYBE_TEXT, TEXT, MAYBE_MOMENT, MAYBE_MOMENT, VALUES)


def notices(*, empty_added: bool = False) -> st.SearchStrategy[Notice]:
    def tuples(of: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
        return st.just(()) if empty_added else st.lists(of, max_size=3).map(tuple)

    return st.builds(
        Notice,
        source=st.sampled_from(["find_a_tender", "contracts_finder", "sell2wales"]),
        ocid=TEXT.filter(bool),
        release_id=TEXT.filter(bool),
        notice_type=st.none() | st.sampled_from(["UK4", "UK6", "UK14", "tender", "award"]),
        stage=st.sampled_from(["planning", "tender", "award", "contract", "cancelled"]),
        title=TEXT,
        description=TEXT,
        buyer=MAYBE_TEXT,
        cpv=CODES,
        regions=CODES,
        value=VALUES,
        deadline=MAYBE_MOMENT,
        published=MAYBE_MOMENT,
        updated=MAYBE_MOMENT,
        suitable_sme=FLAG,
        suitable_vcse=FLAG,
        url=MAYBE_TEXT,
        kind=st.sampled_from(KIND_IDS),
        dates=st.just(NoticeDates()) if empty_added else DATES,
        lots=tuples(LOTS),
        reserved=tuples(st.sampled_from(["supported_employment", "local", "newCode"])),
        awards=tuples(AWARDS),
        amendments=tuples(AMENDMENTS),
    )


def through_json(data: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(data))
    return loaded


@settings(max_examples=200)
@given(notices())
def test_from_json_dict_is_the_exact_inverse(notice: Notice) -> None:
    data = through_json(notice.to_json_dict())
    back = Notice.from_json_dict(data)
    assert back == notice
    assert back.to_json_dict() == data
    assert back.content_hash() == notice.content_hash()
    assert hash(back) == hash(notice)  # frozen, tuples all the way down


def test_stable_keys_first_then_added_keys() -> None:
    n = parsed("fts_032703-2026_UK4_tender.json").notices[0]
    assert tuple(n.to_json_dict()) == STABLE_KEYS + ADDED_KEYS


def _legacy_hash(notice: Notice) -> str:
    """The content hash as bestbot computed it before the added keys existed."""
    data = notice.to_json_dict()
    payload = {k: data[k] for k in STABLE_KEYS if k not in ("release_id", "published", "updated")}
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()


@given(notices(empty_added=True))
def test_hash_of_a_notice_without_added_content_is_unchanged(notice: Notice) -> None:
    assert notice.content_hash() == _legacy_hash(notice)


def test_hash_pinned_to_the_value_stored_before() -> None:
    """Hashes computed by the previous release of bestbot (main at 5ed4f3d) for these notices."""
    tender = Notice(
        source="find_a_tender",
        ocid="ocds-h6vhtk-0a1b2c",
        release_id="012345-2025",
        notice_type="UK4",
        stage="tender",
        title="Supported living services, Mansfield",
        description="Care and support for adults with learning disabilities.",
        buyer="Nottinghamshire County Council",
        cpv=("85311000", "85312000"),
        regions=("UKF15",),
        value=Value(amount=250000.0, min=None, currency="GBP"),
        deadline=datetime(2025, 6, 30, 12, 0, tzinfo=timezone(timedelta(hours=1))),
        published=datetime(2025, 5, 1, 9, 30, tzinfo=UTC),
        updated=datetime(2025, 5, 2, 10, 0, tzinfo=UTC),
        suitable_sme=True,
        suitable_vcse=True,
        url="https://www.find-tender.service.gov.uk/Notice/012345-2025",
    )
    award = Notice("contracts_finder", "ocds-b5fd17-1", "r", "award", "award", "T", "", None)
    assert tender.content_hash() == (
        "512cd63f99c9928d4b25da6495422a4aebb79d67f4c597c8301a751309f97732"
    )
    assert award.content_hash() == (
        "1fed3f28fcf7b0179fd1e8f1c18b7f21b874a4136190f76b693537f78be890fe"
    )
    # The kind never counts; added content does.
    assert Notice.from_json_dict({**tender.to_json_dict(), "kind": "unknown"}).content_hash() == (
        tender.content_hash()
    )
    with_lot = Notice.from_json_dict({**tender.to_json_dict(), "lots": [{"id": "1"}]})
    assert with_lot.content_hash() != tender.content_hash()
    with_date = Notice.from_json_dict(
        {**tender.to_json_dict(), "dates": {"engagement_end": "2025-06-01T00:00:00+00:00"}}
    )
    assert with_date.content_hash() != tender.content_hash()


def test_samples_without_added_content_keep_their_hash() -> None:
    checked = 0
    for name in sorted(
        p.name for p in SAMPLES.iterdir() if p.suffix in (".json", ".jsonl", ".csv")
    ):
        for n in parsed(name).notices:
            if not (n.lots or n.awards or n.reserved or n.amendments or not n.dates.is_empty()):
                assert n.content_hash() == _legacy_hash(n)
                checked += 1
    assert checked > 100


@given(notices())
def test_dicts_stored_before_the_added_keys_still_load(notice: Notice) -> None:
    old = {k: v for k, v in through_json(notice.to_json_dict()).items() if k in STABLE_KEYS}
    loaded = Notice.from_json_dict(old)
    assert loaded.to_json_dict() | {"kind": None} == {
        **old,
        "kind": None,
        "dates": NoticeDates().to_json_dict(),
        "lots": [],
        "reserved": [],
        "awards": [],
        "amendments": [],
    }
    assert loaded.kind in KIND_IDS
    assert loaded.content_hash() == _legacy_hash(loaded)


def test_old_dict_kind_is_derived_from_notice_type_and_stage() -> None:
    base = {"source": "find_a_tender", "ocid": "ocds-h6vhtk-1", "title": "x"}
    assert Notice.from_json_dict({**base, "notice_type": "UK2", "stage": "planning"}).kind == (
        "engagement"
    )
    assert Notice.from_json_dict({**base, "notice_type": "UK14", "stage": "tender"}).kind == (
        "dm_established"
    )
    assert Notice.from_json_dict({**base, "notice_type": 5, "stage": "award"}).kind == "award"
    assert Notice.from_json_dict({**base, "kind": "no such kind", "stage": "tender"}).kind == (
        "tender"
    )


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
ADDED_JUNK = st.fixed_dictionaries({}, optional={key: JSON for key in ADDED_KEYS})
NESTED_JUNK = st.sampled_from(ADDED_KEYS[1:]).flatmap(
    lambda key: st.builds(
        lambda item: {key: [item]},
        st.dictionaries(
            st.sampled_from(["id", "name", "value", "suppliers", "date", "cpv", "sme", "amount"]),
            JSON,
        ),
    )
)


@given(st.one_of(ADDED_JUNK, NESTED_JUNK))
def test_junk_in_added_keys_is_a_clear_error_or_ignored(junk: dict[str, Any]) -> None:
    """``bestbot match`` turns KeyError/TypeError/ValueError into one line; nothing else escapes."""
    data = {"source": "file", "ocid": "ocds-x-1", "stage": "tender", **junk}
    try:
        notice = Notice.from_json_dict(data)
    except (KeyError, TypeError, ValueError):
        return
    hash(notice)
    notice.content_hash()


@pytest.mark.parametrize(
    "bad",
    [
        {"lots": "one lot"},
        {"lots": [{"title": "no id"}]},
        {"awards": [{"id": "1", "suppliers": [{"name": 3}]}]},
        {"dates": ["2025-01-01"]},
        {"dates": {"contract_end": "next week"}},
        {"reserved": [1]},
        {"amendments": [{"value": {"amount": "lots"}}]},
    ],
)
def test_malformed_added_keys_raise_the_errors_callers_catch(bad: dict[str, Any]) -> None:
    with pytest.raises((KeyError, TypeError, ValueError)):
        Notice.from_json_dict({"source": "file", "ocid": "ocds-x-1", **bad})


def test_offsetless_times_read_back_as_utc() -> None:
    n = Notice.from_json_dict(
        {"source": "file", "ocid": "o", "deadline": "2026-01-05T12:00:00", "dates": {}}
    )
    assert n.deadline == datetime(2026, 1, 5, 12, tzinfo=UTC)
