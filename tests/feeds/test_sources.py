"""The feed-source table and the wall-clock windows it sends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from feeds import contracts_finder, find_a_tender
from feeds.http import FetchLimits
from feeds.paging import fetch_feed
from feeds.sources import (
    CONTRACTS_FINDER,
    FIND_A_TENDER,
    SOURCES,
    source_for_url,
    source_named,
    wall_clock_window,
    window_query,
)
from tests.fakes.feed_server import FeedServer
from tests.feeds.fetching import Sleeps, drain

LONDON = ZoneInfo("Europe/London")
NO_PAUSE = FetchLimits(page_pause=0)


def _read(text: str, fold: int) -> datetime:
    """How a server in London reads a naive time (either reading of a repeated hour)."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON, fold=fold).astimezone(UTC)


def _starts(day: datetime) -> list[datetime]:
    return [day + timedelta(minutes=m) for m in range(-6 * 60, 8 * 60, 10)]


@pytest.mark.parametrize(
    "change",
    [datetime(2026, 10, 25, 1, 0, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)],
    ids=["october", "march"],
)
def test_every_window_near_a_change_is_covered_whichever_way_it_is_read(
    change: datetime,
) -> None:
    lengths = [timedelta(seconds=1), timedelta(minutes=10), timedelta(hours=1), timedelta(days=3)]
    checked = 0
    for start in _starts(change):
        for length in lengths:
            end = start + length
            sent_from, sent_to = wall_clock_window(start, end, "Europe/London")
            for fold in (0, 1):
                assert _read(sent_from, fold) <= start, (start, length, sent_from, fold)
                assert _read(sent_to, fold) >= end, (start, length, sent_to, fold)
                checked += 1
    assert checked == len(_starts(change)) * len(lengths) * 2


def test_within_one_offset_the_window_is_plain_local_time() -> None:
    summer = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    assert wall_clock_window(summer, summer + timedelta(hours=1), "Europe/London") == (
        "2026-07-01T11:00:00",
        "2026-07-01T12:00:00",
    )
    winter = datetime(2026, 12, 2, 10, 0, 0, 500000, tzinfo=UTC)
    # Sub-second instants round outwards: the window never shrinks.
    assert wall_clock_window(winter, winter + timedelta(hours=1), "Europe/London") == (
        "2026-12-02T10:00:00",
        "2026-12-02T11:00:01",
    )
    assert wall_clock_window(summer, summer + timedelta(hours=1), "UTC") == (
        "2026-07-01T10:00:00",
        "2026-07-01T11:00:00",
    )


def test_across_a_change_the_window_grows_by_the_shift_and_no_more() -> None:
    start = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST, the first 01:30
    sent_from, sent_to = wall_clock_window(start, start + timedelta(minutes=20), "Europe/London")
    # Either reading of the repeated hour is covered: the start moves back an hour.
    assert (sent_from, sent_to) == ("2026-10-25T00:30:00", "2026-10-25T01:50:00")
    assert _read(sent_from, 0) == start - timedelta(hours=1)
    assert _read(sent_to, 0) == start + timedelta(minutes=20)  # BST reading: exactly the end
    assert _read(sent_to, 1) == start + timedelta(minutes=80)  # GMT reading: an hour later


def test_table_rows() -> None:
    assert set(SOURCES) == {"find_a_tender", "contracts_finder"}
    assert source_named("find_a_tender") is FIND_A_TENDER
    with pytest.raises(ValueError, match="known: contracts_finder, find_a_tender"):
        source_named("tenders_electronic_daily")
    assert FIND_A_TENDER.base_url == find_a_tender.BASE_URL
    assert contracts_finder.DEFAULT_STAGES == ("planning", "tender", "award")
    assert source_for_url(CONTRACTS_FINDER.base_url + "?limit=5") is CONTRACTS_FINDER
    assert source_for_url("https://www.find-tender.service.gov.uk/api/1.0/x") is FIND_A_TENDER
    assert source_for_url("https://contractsfinder.example.org/x") is None


def test_window_query_per_source() -> None:
    start = datetime(2025, 1, 20, 23, 0, tzinfo=UTC)
    end = start + timedelta(days=3)
    fts = window_query(FIND_A_TENDER, start, end, limit=500, stages=("tender",))
    assert fts == {
        "updatedFrom": "2025-01-20T23:00:00",
        "updatedTo": "2025-01-23T23:00:00",
        "limit": 100,
    }
    cf = window_query(CONTRACTS_FINDER, start, end, limit=0)
    assert cf == {
        "publishedFrom": "2025-01-20T23:00:00",
        "publishedTo": "2025-01-23T23:00:00",
        "limit": 1,
        "stages": "planning,tender,award",
    }
    assert "stages" not in window_query(CONTRACTS_FINDER, start, end, stages=())


async def test_one_fetch_function_serves_both_feeds() -> None:
    now = datetime(2026, 10, 6, 18, 44, 10, tzinfo=UTC)
    async with FeedServer() as server, httpx.AsyncClient() as client:
        fts_ids: list[str] = []
        cf_ids: list[str] = []
        await drain(
            fetch_feed(
                client,
                "find_a_tender",
                base_url=server.fts_url,
                stages=("tender",),
                now=now,
                limits=NO_PAUSE,
                sleep=Sleeps(),
            ),
            fts_ids,
        )
        await drain(
            fetch_feed(
                client,
                CONTRACTS_FINDER,
                base_url=server.cf_url,
                stages=("tender", "award"),
                now=now,
                limits=NO_PAUSE,
            ),
            cf_ids,
        )
        fts_query = server.requests_to("fts")[0].query
        cf_query = server.requests_to("cf")[0].query
    assert len(fts_ids) == 6 and len(cf_ids) == 100
    assert "stages" not in fts_query  # never sent to Find a Tender
    assert fts_query["updatedTo"] == "2026-10-06T19:44:10"
    assert cf_query["stages"] == "tender,award"
    assert cf_query["publishedTo"] == "2026-10-06T18:44:10"
