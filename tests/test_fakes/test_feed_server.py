"""The feed server driven by httpx."""

from __future__ import annotations

import asyncio
import gzip
import json

import httpx
import pytest

from tests.fakes.feed_server import Fault, FeedServer, decode_cursor


async def test_fts_paging_follows_links_next(feed_server: FeedServer) -> None:
    ids: list[str] = []
    url: str | None = f"{feed_server.fts_url}?updatedFrom=2026-10-06T15:44:10&limit=100"
    pages = 0
    async with httpx.AsyncClient() as client:
        while url:
            r = await client.get(url)
            r.raise_for_status()
            package = r.json()
            assert package["version"] == "1.1" and "publisher" in package
            ids += [rel["id"] for rel in package["releases"]]
            url = package.get("links", {}).get("next")
            if url:
                assert url.startswith(feed_server.fts_url + "?updatedFrom=2026-10-06T15:44:10&")
                assert "cursor=" in url
            pages += 1
    assert pages == feed_server.pages("fts") == 3
    assert len(ids) == len(set(ids)) == 6
    assert feed_server.requests_to("fts")[0].query["updatedFrom"] == "2026-10-06T15:44:10"


async def test_cf_paging_honours_smaller_limit(feed_server: FeedServer) -> None:
    async with httpx.AsyncClient() as client:
        r = await client.get(feed_server.cf_url, params={"limit": 10})
        first = r.json()
        assert len(first["releases"]) == 10
        nxt = first["links"]["next"]
        assert decode_cursor(httpx.URL(nxt).params["cursor"]) == 10
        second = (await client.get(nxt)).json()
        assert second["releases"][0]["id"] != first["releases"][0]["id"]
        bad = await client.get(feed_server.cf_url, params={"cursor": "%%%"})
        assert bad.status_code == 400


async def test_fault_script_in_order(feed_server: FeedServer) -> None:
    feed_server.script(
        Fault.http(429, retry_after=2),
        Fault.http(503),
        Fault.http(403, source="cf"),
        Fault.truncated(),
        Fault.delay(1.0),
        Fault.disconnect(),
        Fault.raw(200, "<html>maintenance</html>"),
    )
    async with httpx.AsyncClient(timeout=0.3) as client:
        r = await client.get(feed_server.fts_url)
        assert r.status_code == 429 and r.headers["Retry-After"] == "2"
        assert (await client.get(feed_server.fts_url)).status_code == 503
        # the 403 is only for CF: this FTS request takes the truncated body
        r = await client.get(feed_server.fts_url)
        assert r.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            r.json()
        assert (await client.get(feed_server.cf_url)).status_code == 403
        with pytest.raises(httpx.ReadTimeout):
            await client.get(feed_server.fts_url)
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(feed_server.fts_url)
        r = await client.get(feed_server.fts_url)
        assert r.headers["content-type"].startswith("text/html")
        r = await client.get(feed_server.fts_url)
        assert r.status_code == 200 and len(r.json()["releases"]) == 2
    assert feed_server.faults == []
    assert [q.fault for q in feed_server.requests] == [
        "status",
        "status",
        "truncate",
        "status",
        "delay",
        "disconnect",
        "body",
        None,
    ]


async def test_notice_endpoint_date_filter_and_new_release() -> None:
    async with FeedServer(filter_by_date=True, cf_page_size=100) as feed:
        async with httpx.AsyncClient() as client:
            r = await client.get(f"{feed.fts_url}/032703-2026")
            assert [rel["id"] for rel in r.json()["releases"]] == ["032703-2026"]
            assert (await client.get(f"{feed.fts_url}/000000-2000")).status_code == 404
            params = {
                "publishedFrom": "2025-01-23T20:00:00Z",
                "publishedTo": "2025-01-24T00:00:00Z",
            }
            r = await client.get(feed.cf_url, params=params)
            dates = [rel["date"] for rel in r.json()["releases"]]
            assert dates and all(d >= "2025-01-23T20:00:00" for d in dates)
            release = dict(r.json()["releases"][0], id="new-release", date="2025-01-23T23:00:00Z")
            feed.add_release("cf", release)
            r = await client.get(feed.cf_url, params=params)
            assert r.json()["releases"][-1]["id"] == "new-release"


async def test_fts_dates_are_read_as_london_time_and_recorded() -> None:
    from datetime import UTC, datetime

    async with FeedServer(filter_by_date=True, fts_page_size=100) as feed:
        async with httpx.AsyncClient() as client:
            # The bundled page: releases dated 17:47-18:31 BST on 6 October 2026.
            params = {"updatedFrom": "2026-10-06T17:00:00", "updatedTo": "2026-10-06T18:40:00"}
            r = await client.get(feed.fts_url, params=params)
            assert len(r.json()["releases"]) == 4
            # Read as UTC, 17:31 UTC would be inside 17:00-18:00; as London it is not.
            params = {"updatedFrom": "2026-10-06T17:00:00", "updatedTo": "2026-10-06T18:00:00"}
            r = await client.get(feed.fts_url, params=params)
            assert [rel["date"] for rel in r.json()["releases"]] == [
                "2026-10-06T17:59:32+01:00",
                "2026-10-06T17:48:47+01:00",
                "2026-10-06T17:47:27+01:00",
            ]
        lo, hi = feed.windows("fts")[1]
    assert lo == datetime(2026, 10, 6, 16, 0, tzinfo=UTC)
    assert hi == datetime(2026, 10, 6, 17, 0, tzinfo=UTC)


async def test_the_repeated_october_hour_is_read_either_way() -> None:
    from datetime import UTC, datetime

    query = {"updatedFrom": "2026-10-25T01:30:00"}
    for fold, hour in ((0, 0), (1, 1)):
        async with FeedServer(fold=fold) as feed, httpx.AsyncClient() as client:
            await client.get(feed.fts_url, params=query)
            assert feed.windows("fts")[0][0] == datetime(2026, 10, 25, hour, 30, tzinfo=UTC)


async def test_empty_pages_ok_placeholder_and_gzip() -> None:
    async with FeedServer(gzip=True) as feed, httpx.AsyncClient() as client:
        feed.script(Fault.ok(), Fault.empty_page(), Fault.empty_page(next_link=False))
        first = await client.get(feed.fts_url)
        assert first.headers["content-encoding"] == "gzip"  # httpx decodes it for us
        assert len(first.json()["releases"]) == 2
        link = first.json()["links"]["next"]
        empty = (await client.get(link)).json()
        assert empty["releases"] == [] and empty["links"]["next"] != link
        assert decode_cursor(httpx.URL(empty["links"]["next"]).params["cursor"]) == 2
        last = (await client.get(empty["links"]["next"])).json()
        assert last["releases"] == [] and "links" not in last
        again = (await client.get(empty["links"]["next"])).json()
        assert len(again["releases"]) == 2  # the faults are used up: the real page
    assert [r.fault for r in feed.requests] == [None, "empty", "empty_end", None]


async def test_drip_never_finishes_and_huge_inflates() -> None:
    async with FeedServer() as feed:
        feed.script(Fault.drip(0.01), Fault.huge(3 * 1024 * 1024))
        async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as client:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.3):
                    await client.get(feed.fts_url)
        async with httpx.AsyncClient() as client:
            async with client.stream("GET", feed.fts_url) as response:
                assert response.headers["content-encoding"] == "gzip"
                wire = b"".join([chunk async for chunk in response.aiter_raw()])
        decoded = gzip.decompress(wire)
        assert len(wire) < 100_000 and len(decoded) >= 3 * 1024 * 1024  # ~1000:1
        assert len(json.loads(decoded)["releases"]) == 2


async def _read_all(client: httpx.AsyncClient, url: str) -> int:
    pages = 0
    next_url: str | None = url
    while next_url:
        package = (await client.get(next_url)).json()
        next_url = package.get("links", {}).get("next")
        pages += 1
    return pages


async def test_polls_one_after_another_never_overlap(feed_server: FeedServer) -> None:
    feed_server.latency = 0.05
    async with httpx.AsyncClient() as client:
        assert await _read_all(client, feed_server.fts_url) == 3
        assert await _read_all(client, feed_server.fts_url) == 3
    assert [r.more for r in feed_server.requests_to("fts")] == [True, True, False] * 2
    assert feed_server.overlapping_polls("fts") == 0
    assert feed_server.max_in_flight["fts"] == 1


async def test_two_clients_polling_one_feed_at_once_are_seen(feed_server: FeedServer) -> None:
    feed_server.latency = 0.05
    async with httpx.AsyncClient() as client:
        await asyncio.gather(*(_read_all(client, feed_server.fts_url) for _ in range(2)))
    assert feed_server.overlapping_polls("fts") == 1
    assert feed_server.max_in_flight["fts"] == 2
    assert feed_server.max_in_flight["cf"] == 0
