"""Fixtures for the feeds tests: the bundled real samples, parsed once per session."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from feeds.local import parse_file
from feeds.notice import Notice
from feeds.ocds import ParseResult

SAMPLES = Path(__file__).resolve().parents[2] / "feeds" / "samples"


@cache
def parsed(name: str) -> ParseResult:
    return parse_file(SAMPLES / name)


def notice(name: str, *, ocid: str | None = None, title: str | None = None) -> Notice:
    """The one notice of sample ``name`` with that ocid or a title containing ``title``."""
    found = [
        n
        for n in parsed(name).notices
        if (ocid is None or n.ocid == ocid) and (title is None or title in n.title)
    ]
    assert len(found) >= 1, f"no notice {ocid or title!r} in {name}"
    return found[0]
