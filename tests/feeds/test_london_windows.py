"""Find a Tender reads ``updatedFrom``/``updatedTo`` as London wall-clock time.

The feed server reads them the same way (and can read the October repeated hour either way),
filters releases by their own dated instant, and records the window it read. The client must
ask for London times and keep consecutive windows gap-free across both clock changes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from feeds import find_a_tender
from feeds.paging import Cursor
from tests.fakes.feed_server import FeedServer
from tests.feeds.fetching import Sleeps, drain, fts_release

pytestmark = pytest.mark.timeout(60)


def _releases(start: datetime, end: datetime, step: timedelta) -> list[dict[str, object]]:
    out, when, number = [], start, 1
    while when <= end:
        out.append(fts_release(number, when))
        when += step
        number += 1
    return out


async def _poll(
    server: FeedServer,
    client: httpx.AsyncClient,
    cursor: Cursor | None,
    now: datetime,
    received: list[str],
) -> Cursor | None:
    return await drain(
        find_a_tender.fetch_pages(
            client,
            cursor=cursor,
            base_url=server.fts_url,
            lookback=timedelta(hours=3),
            now=now,
            sleep=Sleeps(),
        ),
        received,
    )


async def _poll_through(
    fold: int, start: datetime, end: datetime, every: timedelta
) -> tuple[list[str], list[str]]:
    """Releases every 5 minutes; a poll every ``every``, each seeing only what exists by then.

    Returns the ids published before the last poll and the ids received."""
    everything = _releases(start - timedelta(hours=3), end, timedelta(minutes=5))
    received: list[str] = []
    async with FeedServer(filter_by_date=True, fts_page_size=100, fold=fold) as server:
        cursor: Cursor | None = None
        now = start
        published: list[str] = []
        async with httpx.AsyncClient() as client:
            while now <= end:
                visible = [r for r in everything if _date(r) <= now]
                server.releases["fts"] = visible
                published = [str(r["id"]) for r in visible]
                cursor = await _poll(server, client, cursor, now, received)
                # Nothing published before this poll may wait for the next one.
                missing = set(published) - set(received)
                assert not missing, f"poll at {now.isoformat()} missed {sorted(missing)}"
                now += every
    return published, received


def _date(release: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(release["date"]))


async def test_summer_poll_gets_the_newest_hour() -> None:
    """In BST a UTC ``updatedTo`` is read an hour early: the newest hour waited a poll."""
    now = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    releases = _releases(now - timedelta(hours=3), now - timedelta(minutes=1), timedelta(minutes=5))
    async with FeedServer(filter_by_date=True, fts_page_size=100) as server:
        server.releases["fts"] = releases
        received: list[str] = []
        async with httpx.AsyncClient() as client:
            await drain(
                find_a_tender.fetch_pages(
                    client,
                    since=now - timedelta(hours=3),
                    base_url=server.fts_url,
                    now=now,
                    sleep=Sleeps(),
                ),
                received,
            )
        query = server.requests_to("fts")[0].query
        lo, hi = server.windows("fts")[0]
    assert query["updatedTo"] == "2026-07-01T13:00:00"  # London wall clock, BST
    assert lo is not None and hi is not None
    assert lo <= now - timedelta(hours=3) and hi >= now
    assert sorted(received) == sorted(str(r["id"]) for r in releases)


@pytest.mark.parametrize("fold", [0, 1], ids=["repeated-hour-read-first", "read-second"])
async def test_polls_across_the_october_change_leave_no_gap(fold: int) -> None:
    # Clocks go back at 01:00 UTC on 25 October 2026 (02:00 BST -> 01:00 GMT).
    published, received = await _poll_through(
        fold,
        datetime(2026, 10, 24, 23, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 3, 0, tzinfo=UTC),
        timedelta(minutes=20),
    )
    assert set(published) <= set(received)


@pytest.mark.parametrize("every", [timedelta(minutes=7), timedelta(minutes=45)])
async def test_polls_across_the_march_change_leave_no_gap(every: timedelta) -> None:
    # Clocks go forward at 01:00 UTC on 29 March 2026 (01:00 GMT -> 02:00 BST).
    published, received = await _poll_through(
        0,
        datetime(2026, 3, 28, 23, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 3, 0, tzinfo=UTC),
        every,
    )
    assert set(published) <= set(received)


async def test_contracts_finder_keeps_sending_utc() -> None:
    """No evidence says CF reads its naive times as London time: keep UTC (docs/feeds.md)."""
    from feeds import contracts_finder

    now = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    async with FeedServer() as server:
        async with httpx.AsyncClient() as client:
            await drain(
                contracts_finder.fetch_pages(
                    client, base_url=server.cf_url, now=now, sleep=Sleeps()
                ),
                [],
            )
        query = server.requests_to("cf")[0].query
    assert query["publishedTo"] == "2026-07-01T12:00:00"
    assert query["publishedFrom"] == "2026-06-28T12:00:00"
