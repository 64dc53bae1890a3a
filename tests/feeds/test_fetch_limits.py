"""Limits on one fetch: request and poll deadlines, Retry-After cap, page pause, body size.

Everything runs against the local feed server over HTTP. Deadlines and waits use
:class:`FakeClock` (the fetch's ``sleep`` and ``clock``), so no test waits for real except the
drip-feed one, whose server never finishes: it can only end by the client's deadline.
"""

from __future__ import annotations

import logging
import tracemalloc
from datetime import UTC, datetime

import httpx
import pytest

from bot.pipeline.polling import poll_pages
from feeds import find_a_tender
from feeds.errors import FeedFetchError
from feeds.http import FetchLimits, RetryPolicy, _Inflater
from feeds.paging import Cursor, FeedPage
from feeds.status import FeedActivity, FetchEvent
from storage.db import Database
from storage.models import FeedCursorRow, NoticeRow
from tests.fakes.feed_server import Fault, FeedServer
from tests.feeds.fetching import FakeClock, Sleeps, drain

pytestmark = pytest.mark.timeout(60)

NOW = datetime(2026, 10, 6, 18, 44, 10, tzinfo=UTC)
ONE_TRY = RetryPolicy(max_attempts=1)


def _fts(server: FeedServer, client: httpx.AsyncClient, **options: object) -> object:
    return find_a_tender.fetch_pages(client, base_url=server.fts_url, now=NOW, **options)


async def test_a_drip_fed_body_is_cut_off_by_the_request_deadline() -> None:
    async with FeedServer() as server, httpx.AsyncClient() as client:
        server.script(Fault.drip(0.02))
        with pytest.raises(FeedFetchError, match=r"no complete answer within 0\.5 s"):
            await drain(
                find_a_tender.fetch_pages(
                    client,
                    base_url=server.fts_url,
                    now=NOW,
                    policy=ONE_TRY,
                    limits=FetchLimits(request_seconds=0.5),
                ),
                [],
            )
        assert [r.fault for r in server.requests_to("fts")] == ["drip"]


async def test_retry_after_99999_is_capped_logged_and_shown(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    activity = FeedActivity("find_a_tender")
    seen_while_waiting: list[dict[str, object]] = []

    async def sleep(seconds: float) -> None:
        seen_while_waiting.append(activity.snapshot())
        await clock.sleep(seconds)

    async with FeedServer() as server, httpx.AsyncClient() as client:
        server.script(Fault.http(429, retry_after=99999))
        received: list[str] = []
        with caplog.at_level(logging.WARNING, logger="feeds.http"):
            await drain(
                find_a_tender.fetch_pages(
                    client,
                    base_url=server.fts_url,
                    now=NOW,
                    sleep=sleep,
                    clock=clock,
                    observer=activity,
                    limits=FetchLimits(poll_seconds=3600, page_pause=0),
                ),
                received,
            )
    assert clock.sleeps == [900.0]  # RetryPolicy.max_retry_after: 15 minutes
    assert any("99999 s" in r.message and "900 s cap" in r.message for r in caplog.records)
    [waiting] = seen_while_waiting
    assert waiting["state"] == "waiting"
    assert "HTTP 429" in str(waiting["because"])
    until = datetime.fromisoformat(str(waiting["until"]))
    since = datetime.fromisoformat(str(waiting["since"]))
    assert (until - since).total_seconds() == pytest.approx(900, abs=1)
    assert len(received) == 6
    assert activity.snapshot()["state"] == "idle"  # the window was read to its end


async def test_a_wait_past_the_poll_deadline_stops_the_poll_and_keeps_the_cursor() -> None:
    clock = FakeClock()
    activity = FeedActivity("find_a_tender")
    pages: list[FeedPage] = []
    async with FeedServer() as server, httpx.AsyncClient() as client:
        server.script(Fault.ok(), Fault.http(503, retry_after=99999))
        with pytest.raises(FeedFetchError, match="would pass this poll's time limit") as info:
            async for page in find_a_tender.fetch_pages(
                client,
                base_url=server.fts_url,
                now=NOW,
                sleep=clock.sleep,
                clock=clock,
                observer=activity,
                limits=FetchLimits(page_pause=0),  # the default 10-minute poll limit
            ):
                pages.append(page)
    assert clock.sleeps == []  # no 15-minute silent wait was started
    assert "HTTP 503" in info.value.reason
    assert len(pages) == 1 and pages[0].resume.next_url is not None
    snapshot = activity.snapshot()
    assert snapshot["state"] == "failed" and "time limit" in str(snapshot["because"])


async def test_the_poll_deadline_stops_between_pages_and_the_next_poll_resumes() -> None:
    clock = FakeClock()
    limits = FetchLimits(poll_seconds=1.5, page_pause=1.0)
    received: list[str] = []
    async with FeedServer() as server, httpx.AsyncClient() as client:
        saved: Cursor | None = None
        with pytest.raises(FeedFetchError, match="time limit"):
            async for page in find_a_tender.fetch_pages(
                client,
                base_url=server.fts_url,
                now=NOW,
                sleep=clock.sleep,
                clock=clock,
                limits=limits,
            ):
                received.extend(n.release_id for n in page.notices)
                saved = page.resume
        assert len(received) == 4 and clock.sleeps == [1.0]
        assert saved is not None and saved.next_url is not None
        await drain(
            find_a_tender.fetch_pages(
                client, cursor=saved, now=NOW, sleep=clock.sleep, clock=clock, limits=limits
            ),
            received,
        )
    assert len(set(received)) == 6


async def test_pages_are_a_second_apart_by_default() -> None:
    clock = FakeClock()
    async with FeedServer() as server, httpx.AsyncClient() as client:
        received: list[str] = []
        await drain(
            find_a_tender.fetch_pages(
                client, base_url=server.fts_url, now=NOW, sleep=clock.sleep, clock=clock
            ),
            received,
        )
    assert len(received) == 6 and clock.sleeps == [1.0, 1.0]  # 3 pages, 2 pauses


async def test_gzip_pages_are_decoded() -> None:
    async with FeedServer(gzip=True) as server, httpx.AsyncClient() as client:
        received: list[str] = []
        await drain(
            find_a_tender.fetch_pages(client, base_url=server.fts_url, now=NOW, sleep=Sleeps()),
            received,
        )
    assert len(received) == 6


async def test_a_gzip_bomb_is_refused_and_the_stored_pages_kept(database: Database) -> None:
    """25 MB of JSON in ~25 KB of gzip: past the 20 MB default the poll stops, page 1 stays."""
    async with FeedServer() as server, httpx.AsyncClient() as client:
        server.script(Fault.ok(), Fault.huge(25 * 1024 * 1024))
        report = await poll_pages(
            database,
            "fts",
            find_a_tender.fetch_pages(
                client, base_url=server.fts_url, now=NOW, sleep=Sleeps(), policy=ONE_TRY
            ),
        )
        second = server.requests_to("fts")[1]
    assert report.error is not None and "larger than 20 MB once decoded" in report.error
    assert report.new == 2 and report.pages == 1
    async with database.session() as session:
        cursor = await session.get(FeedCursorRow, "fts")
        stored = await session.exec(NoticeRow.__table__.select())  # type: ignore[attr-defined]
        assert len(stored.all()) == 2
    assert cursor is not None and cursor.cursor is not None
    resume = Cursor.loads(cursor.cursor)
    assert resume.next_url is not None and second.query["cursor"] in resume.next_url


async def test_a_huge_body_never_costs_much_more_memory_than_the_cap() -> None:
    """A 200 MB bomb against a 4 MB cap: the fetch holds a few MB, not 200."""
    async with FeedServer() as server, httpx.AsyncClient() as client:
        server.script(Fault.huge(200 * 1024 * 1024))
        tracemalloc.start()
        try:
            with pytest.raises(FeedFetchError, match="larger than 4 MB"):
                await drain(
                    find_a_tender.fetch_pages(
                        client,
                        base_url=server.fts_url,
                        now=NOW,
                        policy=ONE_TRY,
                        limits=FetchLimits(max_body_bytes=4 * 1024 * 1024),
                    ),
                    [],
                )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 24 * 1024 * 1024


def test_the_inflater_reads_gzip_members_and_both_deflate_forms() -> None:
    import gzip
    import zlib

    text = b'{"releases": []}' * 100
    two_members = gzip.compress(text[:700]) + gzip.compress(text[700:])
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    raw_deflate = raw.compress(text) + raw.flush()
    for encoding, data in (
        ("gzip", two_members),
        ("deflate", zlib.compress(text)),
        ("deflate", raw_deflate),
    ):
        inflater = _Inflater(encoding, cap=len(text))
        out = b"".join(
            piece for i in range(0, len(data), 7) for piece in inflater.feed(data[i : i + 7])
        )
        assert out == text, encoding
    with pytest.raises(Exception, match="larger than"):
        _Inflater("gzip", cap=len(text) - 1).feed(gzip.compress(text))


def test_an_observer_that_fails_never_stops_a_fetch() -> None:
    from feeds.status import notify

    def broken(event: FetchEvent) -> None:
        raise RuntimeError("health page bug")

    notify(broken, FetchEvent("fetching", "https://example.test"))  # logged, not raised
