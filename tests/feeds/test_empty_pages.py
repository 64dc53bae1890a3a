"""Empty pages never move the cursor past releases that were not received.

The feed server serves the real 100-release Contracts Finder page in pages of 25, filtered by
the window the client asks for, so a release skipped by one poll is skipped for good: the
next poll's window starts after it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from feeds import contracts_finder
from feeds.paging import Cursor
from tests.fakes.feed_server import Fault, FeedServer
from tests.feeds.fetching import CF_PAGE, Sleeps, drain

pytestmark = pytest.mark.timeout(60)

#: The sample page's window ends here (its releases are dated 20-23 January 2025).
CF_NOW = datetime(2025, 1, 23, 23, 0, tzinfo=UTC)
ALL_IDS = sorted(str(r["id"]) for r in CF_PAGE)


async def _poll(
    server: FeedServer,
    client: httpx.AsyncClient,
    cursor: Cursor | None,
    received: list[str],
    now: datetime = CF_NOW,
) -> Cursor | None:
    return await drain(
        contracts_finder.fetch_pages(
            client, cursor=cursor, base_url=server.cf_url, now=now, sleep=Sleeps()
        ),
        received,
    )


async def _polls(server: FeedServer, count: int) -> tuple[list[str], Cursor | None]:
    received: list[str] = []
    cursor: Cursor | None = None
    async with httpx.AsyncClient() as client:
        for n in range(count):
            cursor = await _poll(
                server, client, cursor, received, CF_NOW + n * timedelta(minutes=20)
            )
    return received, cursor


async def test_an_empty_page_that_links_on_is_followed() -> None:
    async with FeedServer(filter_by_date=True) as server:
        server.script(Fault.ok(source="cf"), Fault.empty_page(source="cf"))
        received, cursor = await _polls(server, 2)
        faults = [r.fault for r in server.requests_to("cf")]
    assert sorted(set(received)) == ALL_IDS  # 75 of these were never stored before
    assert faults[:2] == [None, "empty"]
    assert cursor == Cursor(since=CF_NOW + timedelta(minutes=20) - timedelta(minutes=10))


async def test_an_empty_last_page_after_a_promise_is_asked_again() -> None:
    async with FeedServer(filter_by_date=True) as server:
        server.script(Fault.ok(source="cf"), Fault.empty_page(next_link=False, source="cf"))
        received: list[str] = []
        async with httpx.AsyncClient() as client:
            first = await _poll(server, client, None, received)
            assert len(received) == 25
            # The window is not closed: the cursor stays on the page that came back empty.
            assert first is not None and first.next_url is not None
            assert first.until == CF_NOW
            later = CF_NOW + timedelta(minutes=20)
            second = await _poll(server, client, first, received, later)
        resumed = server.requests_to("cf")[2]
    assert "cursor" in resumed.query  # asked for the same page again, not a new window
    assert sorted(set(received)) == ALL_IDS
    # Read to the end: the next window starts at the first window's end, minus the overlap.
    assert second == Cursor(since=CF_NOW - timedelta(minutes=10))


async def test_an_empty_window_is_complete() -> None:
    quiet = datetime(2025, 2, 1, 12, 0, tzinfo=UTC)  # no sample release is dated near here
    async with FeedServer(filter_by_date=True) as server, httpx.AsyncClient() as client:
        received: list[str] = []
        cursor = await _poll(server, client, None, received, quiet)
        assert len(server.requests_to("cf")) == 1
    assert received == []
    assert cursor == Cursor(since=quiet - timedelta(minutes=10))


async def test_empty_pages_for_ever_stop_the_poll_at_the_link() -> None:
    async with FeedServer(filter_by_date=True) as server:
        server.script(Fault.ok(source="cf"), *[Fault.empty_page(source="cf")] * 30)
        received: list[str] = []
        async with httpx.AsyncClient() as client:
            first = await _poll(server, client, None, received)
            assert len(received) == 25 and len(server.requests_to("cf")) == 21
            assert first is not None and first.next_url is not None
            await _poll(server, client, first, received, CF_NOW + timedelta(minutes=20))
    assert sorted(set(received)) == ALL_IDS


async def test_an_expired_saved_link_rereads_its_window() -> None:
    async with FeedServer(filter_by_date=True) as server, httpx.AsyncClient() as client:
        stale = Cursor(
            next_url=f"{server.cf_url}?limit=25&cursor=AAAA",  # the server refuses it: 400
            since=CF_NOW - timedelta(days=3),
            until=CF_NOW,
        )
        received: list[str] = []
        cursor = await _poll(server, client, stale, received, CF_NOW + timedelta(minutes=5))
        statuses = [r.status for r in server.requests_to("cf")]
    assert statuses[0] == 400 and set(statuses[1:]) == {200}
    assert sorted(set(received)) == ALL_IDS
    assert cursor == Cursor(since=CF_NOW + timedelta(minutes=5) - timedelta(minutes=10))
