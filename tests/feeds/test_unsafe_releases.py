"""Releases that used to stop a feed for ever are skipped or bounded, and the cursor moves on.

Each case is a real Find a Tender release with one field made hostile, served by the feed
server over HTTP and polled into a real database (SQLite, and PostgreSQL when configured:
PostgreSQL enforces column sizes and rejects NUL and non-finite JSON numbers).
"""

from __future__ import annotations

import copy
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select

from bot.pipeline.polling import PollReport, poll_pages
from feeds import find_a_tender
from feeds.limits import BUYER_MAX, CPV_MAX, OCID_MAX, RELEASE_ID_MAX, SOURCE_MAX
from feeds.paging import Cursor
from storage.db import Database
from storage.models import FeedCursorRow, NoticeRow, NoticeVersionRow
from tests.fakes.feed_server import FeedServer
from tests.feeds.fetching import Sleeps, fts_release

pytestmark = pytest.mark.timeout(60)

NOW = datetime(2026, 10, 6, 18, 44, 10, tzinfo=UTC)
WHEN = NOW - timedelta(hours=1)


def _release(number: int, **changes: Any) -> dict[str, Any]:
    return fts_release(number, WHEN, **changes)


def _with_tender(number: int, **tender: Any) -> dict[str, Any]:
    release = _release(number)
    release["tender"] = {**copy.deepcopy(release["tender"]), **tender}
    return release


def _with_buyer(number: int, name: str) -> dict[str, Any]:
    release = _release(number)
    release["buyer"] = {**release["buyer"], "name": name}
    for party in release["parties"]:
        if party["id"] == release["buyer"]["id"]:
            party["name"] = name
    return release


def _hostile() -> dict[str, dict[str, Any]]:
    """Releases by what is wrong with them (JSON carries "\\ud800" as an escape)."""
    many_cpv = [
        {"scheme": "CPV", "id": f"{45000000 + i:08d}", "description": "x"} for i in range(10_000)
    ]
    award = {"id": "1", "status": "active", "value": {"amount": 1e308, "currency": "GBP"}}
    no_value = _with_tender(7)
    no_value["tender"].pop("value", None)
    no_value["tender"].pop("minValue", None)
    no_value["awards"] = [award, {**award, "id": "2"}]  # the sum is infinite
    return {
        "clean": _release(1),
        "surrogates in text": _with_tender(
            2, title="District heating \ud800 study", description="Phase one \udfff only."
        ),
        "surrogate in ocid": _release(3, ocid="ocds-h6vhtk-\ud800"),
        "5,012-character ocid": _release(4, ocid="ocds-h6vhtk-" + "9" * 5000),
        "100,000-character buyer": _with_buyer(5, "Harrogate Town Council " * 4348),
        "10,000 CPV codes": _with_tender(
            6, items=[{"id": "1", "additionalClassifications": many_cpv}]
        ),
        "infinite value": no_value,
        "deadline in year 9999": _with_tender(
            8, tenderPeriod={"endDate": "9999-12-31T23:59:59-05:00"}
        ),
        "5,000-character release id": _release(9, id="9" * 5000),
        "NUL in ocid": _release(10, ocid="ocds-h6vhtk-00\x0000a"),
    }


async def _poll(
    database: Database, server: FeedServer, client: httpx.AsyncClient, now: datetime
) -> PollReport:
    async with database.session() as session:
        row = await session.get(FeedCursorRow, "fts")
    cursor = Cursor.loads(row.cursor if row else None)
    return await poll_pages(
        database,
        "fts",
        find_a_tender.fetch_pages(
            client, cursor=cursor, base_url=server.fts_url, now=now, sleep=Sleeps()
        ),
    )


async def test_hostile_releases_are_skipped_or_bounded_and_the_feed_moves_on(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    hostile = _hostile()
    async with FeedServer(fts_page_size=100) as server, httpx.AsyncClient() as client:
        server.releases["fts"] = list(hostile.values())
        with caplog.at_level(logging.WARNING):
            first = await _poll(database, server, client, NOW)
            second = await _poll(database, server, client, NOW + timedelta(minutes=20))
    assert first.error is None, first.error
    assert (first.new, first.skipped) == (6, 4)
    assert second.error is None and (second.new, second.changed, second.skipped) == (0, 0, 4)
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert any("ocds-h6vhtk-\\ud800" in m and "lone surrogate" in m for m in skipped)
    assert any("5,012 characters long; at most 200 fit" in m for m in skipped)
    assert any("release id is 5,000 characters long" in m for m in skipped)
    assert any("ocds-h6vhtk-00\\x0000a" in m for m in skipped)
    async with database.session() as session:
        rows = {r.ocid: r for r in (await session.exec(select(NoticeRow))).all()}
        cursor = await session.get(FeedCursorRow, "fts")
        versions = len((await session.exec(select(NoticeVersionRow))).all())
    assert versions == 6
    # The cursor moved past the poisoned releases: the second window follows the first.
    assert cursor is not None and Cursor.loads(cursor.cursor) == Cursor(
        since=NOW + timedelta(minutes=10)
    )
    by_number = {int(ocid.rsplit("-", 1)[1], 16): row for ocid, row in rows.items()}
    assert by_number[2].title == "District heating study"
    assert by_number[2].data["description"] == "Phase one only."
    assert len(by_number[5].data["buyer"]) == BUYER_MAX
    assert by_number[5].data["buyer"].endswith("…")
    assert len(by_number[6].data["cpv"]) == CPV_MAX
    assert by_number[7].data["value"] is None
    assert by_number[8].deadline is None and by_number[8].data["deadline"] is None


SKIPPED = {"surrogate in ocid", "5,012-character ocid", "5,000-character release id", "NUL in ocid"}


@pytest.mark.parametrize("case", sorted(set(_hostile()) - {"clean"}))
async def test_each_hostile_release_alone_never_stops_the_feed(
    database: Database, case: str
) -> None:
    async with FeedServer(fts_page_size=100) as server, httpx.AsyncClient() as client:
        server.releases["fts"] = [_release(99), _hostile()[case]]
        report = await _poll(database, server, client, NOW)
    assert report.error is None, report.error
    assert (report.new, report.skipped) == ((1, 1) if case in SKIPPED else (2, 0))
    async with database.session() as session:
        cursor = await session.get(FeedCursorRow, "fts")
    assert cursor is not None and Cursor.loads(cursor.cursor).since == NOW - timedelta(minutes=10)


def test_the_limits_are_the_database_columns() -> None:
    """feeds may not import storage, so the sizes are repeated there: they must agree."""
    assert NoticeRow.model_fields["ocid"].metadata[0].max_length == OCID_MAX  # type: ignore[attr-defined]
    assert NoticeRow.model_fields["source"].metadata[0].max_length == SOURCE_MAX  # type: ignore[attr-defined]
    assert (
        NoticeVersionRow.model_fields["release_id"].metadata[0].max_length  # type: ignore[attr-defined]
        == RELEASE_ID_MAX
    )
