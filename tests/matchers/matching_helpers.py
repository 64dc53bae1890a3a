"""Helpers for the matching tests: real sample notices and small profiles."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from feeds.local import parse_file
from feeds.notice import Notice
from matchers.engine import Match, match
from matchers.profile import Profile, parse_profile

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "feeds" / "samples"

# Real notices quoted by the tests (file, ocid); their titles are asserted where used.
SCHOOL_CATERING = ("cf_sample-data_2014-12_to_2015-02_tenders.json",
                   "ocds-b5fd17-36ae934d-adc8-11e6-9901-0019b9f3037b")  # fmt: skip
LIFT_REPAIRS = ("cf_sample-data_2014-12_to_2015-02_tenders.json",
                "ocds-b5fd17-2d206652-adc8-11e6-9901-0019b9f3037b")  # fmt: skip
FACILITIES = ("cf_sample-data_2014-12_to_2015-02_tenders.json",
              "ocds-b5fd17-368dbcab-adc8-11e6-9901-0019b9f3037b")  # fmt: skip
IT_SERVICES = ("cf_ocds_search_2022-10-21_to_2022-10-22_limit100.json",
               "ocds-b5fd17-6f8c9c35-c07d-4bed-91bb-e543268dd96b")  # fmt: skip
BROADBAND = ("cf_ocds_search_2022-10-19_to_2022-10-20_limit100.json",
             "ocds-b5fd17-c2ae3681-9d55-4dee-a1c4-adfb3217c049")  # fmt: skip
CLEANING = ("cf_sample-data_2014-12_to_2015-02_tenders.json",
            "ocds-b5fd17-3695e666-adc8-11e6-9901-0019b9f3037b")  # fmt: skip
CONCIERGE = ("cf_ocds_search_2022-10-19_to_2022-10-20_limit100.json",
             "ocds-b5fd17-aa2f9687-ea75-4285-acdb-baff85637e43")  # fmt: skip
SHORT_BREAKS = ("cf_sample-data_2014-12_to_2015-02_tenders.json",
                "ocds-b5fd17-2c7ca862-adc8-11e6-9901-0019b9f3037b")  # fmt: skip
EOTAS = ("cf_sample-data_2014-12_to_2015-02_tenders.json",
         "ocds-b5fd17-2c81b49c-adc8-11e6-9901-0019b9f3037b")  # fmt: skip
NHS_AWARD = ("cf_ocds_search_2022-10-19_to_2022-10-20_limit100.json",
             "ocds-b5fd17-f221dd3c-6855-424e-8e08-7b3c0a011c03")  # fmt: skip


@cache
def _file(name: str) -> tuple[Notice, ...]:
    return tuple(parse_file(SAMPLES / name).notices)


def real(ref: tuple[str, str], **changes: Any) -> Notice:
    """The newest release of a real sample notice, optionally with fields replaced."""
    name, ocid = ref
    found = [n for n in _file(name) if n.ocid == ocid]
    assert found, f"{ocid} not in {name}"
    return replace(found[-1], **changes) if changes else found[-1]


def notice(title: str, description: str = "", **fields: Any) -> Notice:
    base: dict[str, Any] = {
        "source": "test",
        "ocid": fields.pop("ocid", "ocds-test-1"),
        "release_id": "r1",
        "notice_type": None,
        "stage": "tender",
        "title": title,
        "description": description,
        "buyer": None,
    }
    base.update(fields)
    return Notice(**base)


def profile(keywords: list[str] | None = None, **fields: Any) -> Profile:
    data: dict[str, Any] = {"id": fields.pop("id", "p"), "keywords": keywords or []}
    data.update(fields)
    return parse_profile(data)


def one(n: Notice, p: Profile) -> Match | None:
    got = match([n], [p])
    assert len(got) <= 1
    return got[0] if got else None


def hits(n: Notice, p: Profile) -> bool:
    return one(n, p) is not None
