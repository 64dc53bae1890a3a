"""The FTS/CF clients against an httpx.MockTransport replaying the real sample releases.

The fake serves the releases in pages linked by ``links.next`` and can be told
to fail a page's first attempts (429, 503, 403, 500, timeouts, truncated
bodies). Sleeps are recorded, not slept.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from feeds import contracts_finder, find_a_tender
from feeds.errors import FeedFetchError
from feeds.http import USER_AGENT, FetchLimits, RetryPolicy, get_json, parse_retry_after
from feeds.paging import Cursor, FeedPage, fetch_url
from tests.feeds.conftest import SAMPLES

FTS = find_a_tender.BASE_URL
CF = contracts_finder.BASE_URL
NOW = datetime(2026, 10, 6, 18, 44, 10, tzinfo=UTC)
NO_JITTER = RetryPolicy(max_attempts=4, base_delay=2.0, max_delay=30.0, jitter=0.0)
#: No pause between pages, so the recorded sleeps are the retry waits alone.
NO_PAUSE = FetchLimits(page_pause=0)

Failure = Callable[[httpx.Request], httpx.Response]


def _releases(*names: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name in names:
        out.extend(json.loads((SAMPLES / name).read_text("utf-8"))["releases"])
    return out


FTS_RELEASES = _releases(
    "fts_release_package_2026-10-06_limit4.json",
    "fts_032703-2026_UK4_tender.json",
    "fts_037689-2026_UK1_pipeline.json",
)
CF_RELEASES = _releases("cf_ocds_search_2025-01-20_to_2025-01-23_page1.json")


@dataclass
class FeedServer:
    """A paging OCDS API: page N is served at ``?cursor=N``; failures are scripted per page."""

    base: str
    releases: list[dict[str, Any]]
    page_size: int
    failures: dict[int, list[Failure]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        page = int(request.url.params.get("cursor", "0"))
        pending = self.failures.get(page)
        if pending:
            return pending.pop(0)(request)
        start = page * self.page_size
        chunk = self.releases[start : start + self.page_size]
        body: dict[str, Any] = {"version": "1.1", "releases": chunk}
        if start + self.page_size < len(self.releases):
            body["links"] = {"next": f"{self.base}?limit={self.page_size}&cursor={page + 1}"}
        return httpx.Response(200, json=body)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handler))


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def status(code: int, headers: dict[str, str] | None = None) -> Failure:
    return lambda request: httpx.Response(code, headers=headers, text="busy")


def timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


def connect_error(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused", request=request)


def truncated(request: httpx.Request) -> httpx.Response:
    full = json.dumps({"releases": CF_RELEASES[:3]})
    return httpx.Response(200, text=full[: len(full) // 2])


async def collect(pages: Any) -> list[FeedPage]:
    return [page async for page in pages]


def release_ids(pages: list[FeedPage]) -> list[str]:
    return [n.release_id for page in pages for n in page.notices]


async def test_fts_pages_all_releases_once_newest_first_per_page() -> None:
    server = FeedServer(FTS, FTS_RELEASES, page_size=2)
    sleeps = Sleeps()
    async with server.client() as client:
        pages = await collect(
            find_a_tender.fetch_pages(
                client,
                since=NOW - timedelta(hours=3),
                until=NOW,
                sleep=sleeps,
                now=NOW,
                limits=NO_PAUSE,
            )
        )
    assert sorted(release_ids(pages)) == sorted(r["id"] for r in FTS_RELEASES)
    for page in pages:  # stored newest first, so an older release is seen to be older
        dates = [n.updated for n in page.notices]
        assert dates == sorted(dates, reverse=True)  # type: ignore[type-var]
    # The last sample page lists 10 April before 24 April: it is put newest first.
    assert [n.release_id for n in pages[-1].notices] == ["037689-2026", "032703-2026"]
    assert [p.number for p in pages] == [1, 2, 3]
    assert [p.last for p in pages] == [False, False, True]
    assert pages[0].notices[0].notice_type == "UK6"
    first = server.requests[0]
    # London wall-clock time (BST in October), as Find a Tender reads it.
    assert first.url.params["updatedFrom"] == "2026-10-06T16:44:10"
    assert first.url.params["updatedTo"] == "2026-10-06T19:44:10"
    assert first.url.params["limit"] == "100"
    assert first.headers["User-Agent"] == USER_AGENT
    # Mid-run cursors point at the next page; the last one opens the next window.
    assert pages[0].resume.next_url == f"{FTS}?limit=2&cursor=1"
    assert pages[-1].resume == Cursor(since=NOW - timedelta(minutes=10))
    assert sleeps.calls == []


async def test_cf_request_parameters_and_stages() -> None:
    server = FeedServer(CF, CF_RELEASES, page_size=100)
    async with server.client() as client:
        pages = await collect(
            contracts_finder.fetch_pages(
                client, stages=("tender",), lookback=timedelta(days=3), now=NOW
            )
        )
    params = server.requests[0].url.params
    assert params["publishedFrom"] == "2026-10-03T18:44:10"
    assert params["publishedTo"] == "2026-10-06T18:44:10"
    assert params["stages"] == "tender"
    assert len(release_ids(pages)) == 100


async def test_failures_are_retried_nothing_skipped_or_repeated() -> None:
    server = FeedServer(
        CF,
        CF_RELEASES,
        page_size=25,
        failures={
            0: [status(429, {"Retry-After": "7"})],
            1: [status(503), timeout, truncated],
            2: [status(403), status(500), connect_error],
        },
    )
    sleeps = Sleeps()
    async with server.client() as client:
        pages = await collect(
            contracts_finder.fetch_pages(
                client,
                now=NOW,
                policy=RetryPolicy(max_attempts=4, jitter=0.0),
                sleep=sleeps,
                limits=NO_PAUSE,
            )
        )
    assert release_ids(pages) == [r["id"] for r in CF_RELEASES]
    # 429: Retry-After honoured; 503 without it, timeout, truncated body: back-off 2, 4, 8;
    # CF 403: the documented 5 minutes; then 500 and a connection error back off again.
    assert sleeps.calls == [7.0, 2.0, 4.0, 8.0, 300.0, 4.0, 8.0]
    assert len(server.requests) == 2 + 4 + 4 + 1


async def test_retry_after_http_date_and_cap() -> None:
    when = datetime.now(UTC) + timedelta(seconds=90)
    server = FeedServer(
        FTS,
        FTS_RELEASES,
        page_size=10,
        failures={
            0: [
                status(503, {"Retry-After": format_datetime(when, usegmt=True)}),
                status(429, {"Retry-After": "86400"}),
            ]
        },
    )
    sleeps = Sleeps()
    policy = RetryPolicy(max_attempts=3, max_retry_after=600.0)
    limits = FetchLimits(page_pause=0, poll_seconds=3600)
    async with server.client() as client:
        pages = await collect(
            find_a_tender.fetch_pages(client, now=NOW, policy=policy, sleep=sleeps, limits=limits)
        )
    assert len(release_ids(pages)) == len(FTS_RELEASES)
    assert 80.0 <= sleeps.calls[0] <= 90.0
    assert sleeps.calls[1] == 600.0


async def test_gives_up_after_budget_with_url_and_reason() -> None:
    server = FeedServer(FTS, FTS_RELEASES, page_size=2, failures={1: [status(500)] * 10})
    sleeps = Sleeps()
    seen: list[FeedPage] = []
    async with server.client() as client:
        with pytest.raises(FeedFetchError) as info:
            async for page in find_a_tender.fetch_pages(
                client, now=NOW, policy=NO_JITTER, sleep=sleeps, limits=NO_PAUSE
            ):
                seen.append(page)
    assert "cursor=1" in info.value.url
    assert "HTTP 500" in info.value.reason and "4 attempts" in info.value.reason
    assert sleeps.calls == [2.0, 4.0, 8.0]
    # The first page was delivered with a cursor pointing at the page that failed.
    assert len(seen) == 1 and seen[0].resume.next_url is not None
    assert "cursor=1" in seen[0].resume.next_url


async def test_client_errors_are_not_retried() -> None:
    server = FeedServer(FTS, FTS_RELEASES, page_size=2, failures={0: [status(404)]})
    sleeps = Sleeps()
    async with server.client() as client:
        with pytest.raises(FeedFetchError, match="HTTP 404"):
            await collect(find_a_tender.fetch_pages(client, now=NOW, sleep=sleeps))
    assert sleeps.calls == [] and len(server.requests) == 1


async def test_fts_403_is_not_a_rate_limit() -> None:
    server = FeedServer(FTS, FTS_RELEASES, page_size=2, failures={0: [status(403)]})
    async with server.client() as client:
        with pytest.raises(FeedFetchError, match="HTTP 403"):
            await collect(find_a_tender.fetch_pages(client, now=NOW, sleep=Sleeps()))


async def test_resume_after_crash_rereads_never_skips() -> None:
    server = FeedServer(CF, CF_RELEASES, page_size=30)
    stored: list[str] = []
    saved = ""
    async with server.client() as client:
        async for page in contracts_finder.fetch_pages(client, now=NOW, limits=NO_PAUSE):
            stored.extend(n.release_id for n in page.notices)
            if page.number == 2:
                break  # crash after storing page 2, before saving its cursor
            saved = page.resume.dumps()
        cursor = Cursor.loads(saved)
        assert cursor.next_url is not None and cursor.until == NOW
        async for page in contracts_finder.fetch_pages(
            client, cursor=cursor, now=NOW, limits=NO_PAUSE
        ):
            stored.extend(n.release_id for n in page.notices)
            saved = page.resume.dumps()
    ids = [r["id"] for r in CF_RELEASES]
    assert set(stored) == set(ids)
    assert stored == ids[:60] + ids[30:]  # page 2 re-read once, nothing skipped
    final = Cursor.loads(saved)
    assert final == Cursor(since=NOW - timedelta(minutes=10))
    # The next run starts a fresh window at that watermark.
    server.requests.clear()
    async with server.client() as client:
        await collect(contracts_finder.fetch_pages(client, cursor=final, now=NOW, limits=NO_PAUSE))
    assert server.requests[0].url.params["publishedFrom"] == "2026-10-06T18:34:10"


async def test_malformed_release_is_a_problem_not_a_failure() -> None:
    bad = [*FTS_RELEASES[:2], {"id": "x", "tag": ["tender"]}, "junk", *FTS_RELEASES[2:]]
    server = FeedServer(FTS, bad, page_size=10)
    async with server.client() as client:
        pages = await collect(find_a_tender.fetch_pages(client, now=NOW))
    assert len(pages[0].notices) == len(FTS_RELEASES)
    assert [(p.index, p.ocid) for p in pages[0].problems] == [(2, None), (3, None)]
    assert "ocid" in pages[0].problems[0].reason


async def test_next_link_to_another_site_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"releases": FTS_RELEASES[:1], "links": {"next": "https://evil.test/x"}}
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(FeedFetchError, match="another site"):
            await collect(find_a_tender.fetch_pages(client, now=NOW))


async def test_repeated_next_link_stops_instead_of_looping() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"releases": FTS_RELEASES[:1], "links": {"next": f"{FTS}?cursor=same"}}
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        pages = await collect(fetch_url(client, f"{FTS}?cursor=same"))
    assert len(pages) == 1 and pages[0].last


async def test_fetch_url_follows_paging_and_max_pages() -> None:
    server = FeedServer(CF, CF_RELEASES, page_size=40)
    async with server.client() as client:
        everything = await collect(fetch_url(client, f"{CF}?limit=40", limits=NO_PAUSE))
        two = await collect(fetch_url(client, f"{CF}?limit=40", max_pages=2, limits=NO_PAUSE))
    assert len(release_ids(everything)) == 100 and len(everything) == 3
    assert len(two) == 2 and two[-1].last
    # Stopped early: the cursor still points at page 3, so nothing would be skipped.
    assert two[-1].resume.next_url == f"{CF}?limit=40&cursor=2"


async def test_non_package_response_is_a_fetch_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"error": "nope"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(FeedFetchError, match="not an OCDS"):
            await collect(fetch_url(client, FTS))


async def test_get_json_jitter_stays_within_bounds() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        return httpx.Response(502) if calls["n"] < 4 else httpx.Response(200, json={"ok": 1})

    sleeps = Sleeps()
    policy = RetryPolicy(max_attempts=5, base_delay=4.0, jitter=0.5)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        body = await get_json(client, FTS, policy=policy, sleep=sleeps, rng=random.Random(1))
    assert body == {"ok": 1}
    for attempt, delay in enumerate(sleeps.calls, start=1):
        full = 4.0 * 2 ** (attempt - 1)
        assert full / 2 <= delay <= full


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:01:00 GMT", now=now) == 60.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_cursor_round_trip_and_garbage() -> None:
    cursor = Cursor(next_url=f"{FTS}?cursor=abc", since=NOW, until=NOW + timedelta(hours=1))
    assert Cursor.loads(cursor.dumps()) == cursor
    assert Cursor.loads("") == Cursor()
    assert Cursor.loads("not json") == Cursor()
    assert Cursor.loads("[1, 2]") == Cursor()
