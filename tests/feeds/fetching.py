"""Helpers for the fetch tests: real sample releases re-dated, recorded sleeps, a fake clock.

Nothing here sleeps for real: :class:`FakeClock` is both the ``sleep`` and the monotonic
``clock`` a fetch is given, so deadlines and waits are exact and instant.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from feeds.paging import Cursor, FeedPage
from tests.conftest import SAMPLES

LONDON = ZoneInfo("Europe/London")


def sample_releases(name: str) -> list[dict[str, Any]]:
    releases: list[dict[str, Any]] = json.loads((SAMPLES / name).read_text("utf-8"))["releases"]
    return releases


FTS_TENDER = sample_releases("fts_032703-2026_UK4_tender.json")[0]
FTS_PAGE = sample_releases("fts_release_package_2026-10-06_limit4.json")
CF_PAGE = sample_releases("cf_ocds_search_2025-01-20_to_2025-01-23_page1.json")


def fts_release(number: int, when: datetime, **changes: Any) -> dict[str, Any]:
    """The real UK4 tender as notice ``number``, dated ``when`` with a London offset (as FTS
    writes its dates), so every copy is a distinct procurement."""
    release = copy.deepcopy(FTS_TENDER)
    notice_id = f"{number:06d}-2026"
    release["id"] = notice_id
    release["ocid"] = f"ocds-h6vhtk-{number:06x}"
    release["date"] = when.astimezone(LONDON).isoformat(timespec="seconds")
    for doc in release["tender"]["documents"]:
        if doc.get("noticeType"):
            doc["id"] = notice_id
    release.update(changes)
    return release


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Sleeps:
    """Records the delays a fetch asked for instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


async def drain(pages: AsyncIterator[FeedPage], received: list[str]) -> Cursor | None:
    """Consume pages as the pipeline does: keep each page's notices, then its cursor."""
    saved: Cursor | None = None
    async for page in pages:
        received.extend(n.release_id for n in page.notices)
        saved = page.resume
    return saved
