"""The feed server driven by httpx."""

from __future__ import annotations

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
